import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '@switchyard/actors';
import { sql, sqlOne } from '../host/db';
import { asJson, asJsonObject, type JsonObject, type JsonValue } from './json';
import { personalityPrompt } from './personality';
import { SwitchyardError, type FeedbackType, type Personality } from '@switchyard/schema';

export interface MemoryEntry {
  key: string;
  value: JsonValue;
  expiresAt: string | null;
  updatedAt: string;
}

export interface Interaction {
  id: number;
  entityType: string;
  entityId: string;
  data: JsonObject;
  at: string;
}

export interface ChatMessage {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  model: string | null;
  createdAt: string;
  /** Feedback a person gave on this answer (assistant messages only). */
  feedback: FeedbackType[];
  /** `failed`: a question the model never answered (the UI offers a retry; the model never sees it again). */
  status: 'ok' | 'failed';
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : new Date(String(v)).toISOString());

/** A memory page's cursor: the last key returned, so the next page starts after it (keys are unique per agent). */
const encodeKeyCursor = (key: string) => Buffer.from(JSON.stringify(['key', key])).toString('base64url');

function decodeKeyCursor(cursor: string): string {
  let v: unknown = null;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    /* reported below */
  }
  if (Array.isArray(v) && v.length === 2 && v[0] === 'key' && typeof v[1] === 'string' && v[1].length > 0 && v[1].length <= 200) return v[1];
  throw new SwitchyardError('BAD_INPUT', 'Invalid cursor', { issues: [{ path: ['cursor'], message: 'Invalid cursor' }] });
}

/** Interactions served per entity (the seed's "last 50"). */
export const INTERACTIONS_KEPT = 50;

/**
 * Agent memory in PostgreSQL (seed days 3-4, without its lost-update bug): one row per (agent,
 * key) written with an upsert, so concurrent writes to different keys never overwrite each other;
 * expiry is a column compared with the runtime clock, and the scheduler's sweep job deletes expired rows.
 * Interactions and messages are append-only.
 */
export function createAgentMemory(deps: { em: () => EntityManager; clock: Clock }) {
  const now = () => new Date(deps.clock.now()).toISOString();

  const memory = {
    async remember(agentId: string, key: string, value: unknown, ttlSeconds?: number, em: EntityManager = deps.em()) {
      const expires = ttlSeconds ? new Date(deps.clock.now() + ttlSeconds * 1000).toISOString() : null;
      await sql(em,
        `insert into agent_memory (agent_id, key, value, expires_at, updated_at) values (?, ?, ?, ?, ?)
         on conflict (agent_id, key) do update set value = excluded.value, expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
        [agentId, key, { v: value ?? null }, expires, now()]);
    },
    /** Null when unknown or expired (even before the sweep removed it). */
    async recall(agentId: string, key: string): Promise<JsonValue> {
      const row = await sqlOne<{ value: { v: unknown } }>(deps.em(),
        'select value from agent_memory where agent_id = ? and key = ? and (expires_at is null or expires_at > ?)', [agentId, key, now()]);
      return row ? asJson(row.value.v) : null;
    },
    async forget(agentId: string, key: string) {
      await sql(deps.em(), 'delete from agent_memory where agent_id = ? and key = ?', [agentId, key]);
    },
    /**
     * Live entries in key order, a page at a time: `nextCursor` (null on the last page) is the last
     * key returned, encoded; the next page starts after it.
     */
    async entries(agentId: string, opts: { prefix?: string; limit?: number; cursor?: string } = {}): Promise<{ items: MemoryEntry[]; nextCursor: string | null }> {
      const limit = opts.limit ?? 100;
      const after = opts.cursor === undefined ? null : decodeKeyCursor(opts.cursor);
      const rows = await sql<{ key: string; value: { v: unknown }; expires_at: unknown; updated_at: unknown }>(deps.em(),
        `select key, value, expires_at, updated_at from agent_memory
         where agent_id = ? and (expires_at is null or expires_at > ?) and key like ? and (?::text is null or key > ?)
         order by key limit ?`,
        [agentId, now(), `${(opts.prefix ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`, after, after, limit + 1]);
      const items = rows.slice(0, limit).map((r) => ({ key: r.key, value: asJson(r.value.v), expiresAt: iso(r.expires_at), updatedAt: iso(r.updated_at)! }));
      const end = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && end ? encodeKeyCursor(end.key) : null };
    },

    async addInteraction(agentId: string, entityType: string, entityId: string, data: Record<string, unknown>) {
      await sql(deps.em(), 'insert into agent_interactions (agent_id, entity_type, entity_id, data, at) values (?, ?, ?, ?, ?)',
        [agentId, entityType, entityId, data, now()]);
    },
    /** The last 50 interactions with one entity, oldest first. */
    async entityContext(agentId: string, entityType: string, entityId: string): Promise<Interaction[]> {
      const rows = await sql<{ id: string; entity_type: string; entity_id: string; data: Record<string, unknown>; at: unknown }>(deps.em(),
        `select id, entity_type, entity_id, data, at from agent_interactions where agent_id = ? and entity_type = ? and entity_id = ?
         order by id desc limit ?`, [agentId, entityType, entityId, INTERACTIONS_KEPT]);
      return rows.reverse().map(toInteraction);
    },
    async recentInteractions(agentId: string, limit = 20): Promise<Interaction[]> {
      const rows = await sql<{ id: string; entity_type: string; entity_id: string; data: Record<string, unknown>; at: unknown }>(deps.em(),
        'select id, entity_type, entity_id, data, at from agent_interactions where agent_id = ? order by id desc limit ?', [agentId, limit]);
      return rows.reverse().map(toInteraction);
    },

    /** The active conversation, created on first use. */
    async activeConversation(agentId: string, userId: string, em = deps.em()): Promise<string> {
      const row = await sqlOne<{ id: string }>(em,
        'select id from conversations where agent_id = ? and active order by updated_at desc limit 1', [agentId]);
      if (row) return row.id;
      const id = randomUUID();
      await sql(em, 'insert into conversations (id, agent_id, user_id, active, created_at, updated_at) values (?, ?, ?, true, ?, ?)', [id, agentId, userId, now(), now()]);
      return id;
    },
    /** Appends a message (in `em`'s transaction when given); returns its id. */
    async addMessage(conversationId: string, role: 'user' | 'assistant', content: string, model: string | null = null, em = deps.em()): Promise<number> {
      const row = await sqlOne<{ id: string }>(em,
        `with m as (insert into messages (conversation_id, role, content, model, created_at) values (?, ?, ?, ?, ?) returning id),
              c as (update conversations set updated_at = ? where id = ?)
         select id from m`, [conversationId, role, content, model, now(), now(), conversationId]);
      return Number(row!.id);
    },
    /** The last `limit` messages (before message `beforeId` when given), oldest first: the order a model reads a conversation in. */
    async history(conversationId: string, limit = 20, beforeId?: number, opts: { forModel?: boolean } = {}): Promise<ChatMessage[]> {
      // The model reads only what was said and answered; a person also sees failed questions.
      const rows = await sql<{ id: string; role: 'user' | 'assistant'; content: string; model: string | null; created_at: unknown; feedback: FeedbackType[]; status: 'ok' | 'failed' }>(deps.em(),
        `select id, role, content, model, created_at, feedback, status from messages where conversation_id = ? ${beforeId === undefined ? '' : 'and id < ?'}
         and ${opts.forModel ? "status = 'ok'" : "status <> 'retried'"} order by id desc limit ?`,
        [conversationId, ...(beforeId === undefined ? [] : [beforeId]), limit]);
      return rows.reverse().map((r) => ({ id: Number(r.id), role: r.role, content: r.content, model: r.model, createdAt: iso(r.created_at)!, feedback: r.feedback, status: r.status }));
    },
    /** Marks a question failed (never answered) or retried (asked again); retried only from failed. */
    async setMessageStatus(messageId: number, status: 'failed' | 'retried', where: { agentId: string; userId: string }, em = deps.em()) {
      const rows = await sql(em,
        `update messages m set status = ? from conversations c
         where m.id = ? and m.role = 'user' and c.id = m.conversation_id and c.agent_id = ? and c.user_id = ? ${status === 'retried' ? "and m.status = 'failed'" : ''} returning m.id`,
        [status, messageId, where.agentId, where.userId]);
      return rows.length > 0;
    },
    /**
     * Records feedback on one of the agent's answers; NOT_FOUND unless the message is an answer
     * in one of this agent's conversations with this user.
     */
    async addFeedback(agentId: string, userId: string, messageId: number, feedback: FeedbackType[]) {
      const rows = await sql(deps.em(),
        `update messages m set feedback = m.feedback || ?::jsonb from conversations c
          where m.id = ? and m.role = 'assistant' and c.id = m.conversation_id and c.agent_id = ? and c.user_id = ? returning m.id`,
        [JSON.stringify(feedback), messageId, agentId, userId]);
      if (!rows.length) throw new SwitchyardError('NOT_FOUND', 'No such answer from this agent', { issues: [{ path: ['messageId'], message: 'Not an answer from this agent' }] });
    },

    /** The seed's context prompt: personality, the last 5 activities and current goals. */
    async contextPrompt(agentId: string, personality: Personality): Promise<string> {
      const recent = await memory.recentInteractions(agentId, 5);
      const goals = (await memory.recall(agentId, 'currentGoals')) as { description?: string }[] | string[] | null;
      const goalText = Array.isArray(goals) ? goals.map((g) => (typeof g === 'string' ? g : g?.description ?? '')).filter(Boolean).join('; ') : '';
      const activity = recent.map((i) => String(i.data.summary ?? i.data.type ?? i.entityType)).join('; ');
      return [
        personalityPrompt(personality),
        `Recent activity: ${activity || 'none yet'}`,
        `Current goals: ${goalText || 'none set'}`,
        'Maintain consistency with past interactions, reference previous conversations when relevant, and learn from past successes and failures.',
      ].join('\n');
    },
  };
  return memory;
}
export type AgentMemory = ReturnType<typeof createAgentMemory>;

function toInteraction(r: { id: string; entity_type: string; entity_id: string; data: Record<string, unknown>; at: unknown }): Interaction {
  return { id: Number(r.id), entityType: r.entity_type, entityId: r.entity_id, data: asJsonObject(r.data), at: iso(r.at)! };
}
