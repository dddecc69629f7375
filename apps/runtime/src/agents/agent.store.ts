import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  AgentCapsSchema, DEFAULT_AGENT_CAPS, DEFAULT_PERSONALITY, PersonalitySchema, SwitchyardError,
  type Agent, type AgentCreate, type AgentState, type AgentUpdate, type FeedbackType, type Personality,
  AgentCreateSchema, AgentUpdateSchema,
} from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import { decodeTimeCursor, encodeTimeCursor } from '../host/time-cursor';
import { evolve } from './personality';

export interface AgentRecord extends Agent {
  userId: string;
  state: AgentState;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string; user_id: string; name: string; description: string; system_prompt: string; skills: string[]; tools: Agent['tools'];
  personality: Partial<Personality>; caps: Record<string, unknown>; active: boolean; state: AgentState; last_error: string | null; created_at: unknown; updated_at: unknown;
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const COLUMNS = 'id, user_id, name, description, system_prompt, skills, tools, personality, caps, active, state, last_error, created_at, updated_at';

const toRecord = (r: Row): AgentRecord => ({
  id: r.id, userId: r.user_id, name: r.name, description: r.description, systemPrompt: r.system_prompt, skills: r.skills, tools: r.tools,
  personality: PersonalitySchema.parse({ ...DEFAULT_PERSONALITY, ...r.personality }),
  caps: AgentCapsSchema.parse({ ...DEFAULT_AGENT_CAPS, ...r.caps }), active: r.active, state: r.state, lastError: r.last_error,
  createdAt: iso(r.created_at), updatedAt: iso(r.updated_at),
});

/** Agents per user. Every read and write is scoped by user id: another user's agent is "not found". */
export function createAgentStore(deps: { em: () => EntityManager; now: () => string; knownSkill: (id: string) => boolean }) {
  const checkSkills = (skills: string[] | undefined) => {
    const unknown = (skills ?? []).map((s, i) => [s, i] as const).filter(([s]) => !deps.knownSkill(s));
    if (unknown.length) throw new SwitchyardError('BAD_INPUT', `Unknown skill "${unknown[0]![0]}"`, { issues: unknown.map(([s, i]) => ({ path: ['skills', i], message: `Unknown skill "${s}"` })) });
  };

  const store = {
    async list(userId: string): Promise<AgentRecord[]> {
      return (await sql<Row>(deps.em(), `select ${COLUMNS} from agents where user_id = ? and deleted_at is null order by created_at, id`, [userId])).map(toRecord);
    },
    /**
     * One page of the user's agents, oldest first (the order `list` keeps): `nextCursor` (null on the
     * last page) continues after the last one. The cursor holds created_at as PostgreSQL's text, so
     * microseconds survive the round trip.
     */
    async page(userId: string, page: { limit?: number; cursor?: string } = {}): Promise<{ items: AgentRecord[]; nextCursor: string | null }> {
      const limit = page.limit ?? 100;
      const after = page.cursor === undefined ? null : decodeTimeCursor(page.cursor);
      const rows = await sql<Row & { cursor_at: string }>(deps.em(),
        `select ${COLUMNS}, created_at::text as cursor_at from agents where user_id = ? and deleted_at is null
           and (?::timestamptz is null or (created_at, id) > (?::timestamptz, ?::uuid))
         order by created_at, id limit ?`,
        [userId, after?.at ?? null, after?.at ?? null, after?.id ?? null, limit + 1]);
      const items = rows.slice(0, limit);
      const end = items[items.length - 1];
      return { items: items.map(toRecord), nextCursor: rows.length > limit && end ? encodeTimeCursor(end.cursor_at, end.id) : null };
    },
    /** Live agents by id, whoever owns them (what a process adopts). */
    async byIds(ids: string[]): Promise<AgentRecord[]> {
      if (!ids.length) return [];
      return (await sql<Row>(deps.em(), `select ${COLUMNS} from agents where id = any(?::uuid[]) and deleted_at is null order by created_at`, [`{${ids.join(',')}}`])).map(toRecord);
    },
    async find(userId: string, id: string): Promise<AgentRecord | null> {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
      const row = await sqlOne<Row>(deps.em(), `select ${COLUMNS} from agents where id = ? and user_id = ? and deleted_at is null`, [id, userId]);
      return row ? toRecord(row) : null;
    },
    async get(userId: string, id: string): Promise<AgentRecord> {
      const a = await store.find(userId, id);
      if (!a) throw new SwitchyardError('NOT_FOUND', 'No such agent');
      return a;
    },
    async create(userId: string, input: AgentCreate): Promise<AgentRecord> {
      const a = AgentCreateSchema.parse(input);
      checkSkills(a.skills);
      const id = randomUUID();
      await sql(deps.em(),
        `insert into agents (id, user_id, name, description, system_prompt, skills, tools, personality, caps, active, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, userId, a.name, a.description, a.systemPrompt, [...new Set(a.skills)], [...new Set(a.tools)], a.personality, a.caps, a.active, deps.now(), deps.now()]);
      return store.get(userId, id);
    },
    async update(userId: string, input: AgentUpdate): Promise<AgentRecord> {
      const u = AgentUpdateSchema.parse(input);
      checkSkills(u.skills);
      const current = await store.get(userId, u.id);
      const personality = u.personality ? { ...current.personality, ...u.personality } : current.personality;
      const caps = u.caps ? { ...current.caps, ...u.caps } : current.caps;
      await sql(deps.em(),
        `update agents set name = ?, description = ?, system_prompt = ?, skills = ?, tools = ?, personality = ?, caps = ?, active = ?, updated_at = ?
         where id = ? and user_id = ?`,
        [u.name ?? current.name, u.description ?? current.description, u.systemPrompt ?? current.systemPrompt,
          u.skills ? [...new Set(u.skills)] : current.skills, u.tools ? [...new Set(u.tools)] : current.tools, personality, caps,
          u.active ?? current.active, deps.now(), u.id, userId]);
      return store.get(userId, u.id);
    },
    async remove(userId: string, id: string): Promise<void> {
      const a = await store.get(userId, id);
      await sql(deps.em(), 'update agents set deleted_at = ?, active = false, updated_at = ? where id = ?', [deps.now(), deps.now(), a.id]);
    },
    /**
     * Applies feedback to the stored traits under a row lock, so concurrent feedback never loses
     * an adjustment; returns the new traits.
     */
    async applyFeedback(userId: string, id: string, feedback: FeedbackType[]): Promise<Personality> {
      return deps.em().transactional(async (tx) => {
        const row = await sqlOne<{ personality: Partial<Personality> }>(tx, 'select personality from agents where id = ? and user_id = ? and deleted_at is null for update', [id, userId]);
        if (!row) throw new SwitchyardError('NOT_FOUND', 'No such agent');
        const next = evolve(PersonalitySchema.parse({ ...DEFAULT_PERSONALITY, ...row.personality }), feedback);
        await sql(tx, 'update agents set personality = ?, updated_at = ? where id = ?', [next, deps.now(), id]);
        return next;
      });
    },
  };
  return store;
}
export type AgentStore = ReturnType<typeof createAgentStore>;
