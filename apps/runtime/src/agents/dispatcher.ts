import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { CrmPort, EffectMeta, EffectOutcome, SkillContact, SkillEmail, SkillPorts, ToolCall, ToolSpec } from '@switchyard/actors';
import { AGENT_TOOLS, EXTERNAL_TOOLS, SwitchyardError, type AgentTool } from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import type { Llm } from '../llm/llm';
import type { AgentRecord } from './agent.store';
import { onceEffect } from './ledger';
import { templateGrantOf } from '../templates/grants';
import type { AgentMemory } from './memory';
import type { SocialProvider, WebSearchProvider } from './sources';

export interface DispatchReport {
  toolCalls: { tool: string; status: 'ok' | 'refused' | 'pending' | 'failed'; reason?: string }[];
  pendingApprovals: { id: string; tool: string; reason: string }[];
  untrusted: string[];
  model: string | null;
  tokens: number;
  steps: number;
}

export interface DispatchDeps {
  em: () => EntityManager;
  now: () => number;
  llm: Llm;
  memory: AgentMemory;
  crm: CrmPort;
  web: WebSearchProvider;
  social: SocialProvider;
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? null : new Date(String(v)).toISOString());
const hash = (s: string) => createHash('sha256').update(s).digest('hex');

type ContactRow = { id: string; name: string; email: string; company: string; title: string; relationship_strength: number; last_interaction_at: unknown; tags: string[]; notes: string };
const toContact = (r: ContactRow): SkillContact => ({
  id: r.id, name: r.name, email: r.email, company: r.company, title: r.title, relationshipStrength: Number(r.relationship_strength),
  lastInteractionAt: iso(r.last_interaction_at), tags: r.tags, notes: r.notes,
});
const CONTACT_COLS = 'id, name, email, company, title, relationship_strength, last_interaction_at, tags, notes';

export interface CalendarEventInput {
  title: string;
  startsAt: string;
  endsAt: string;
  attendees: string[];
  description: string;
}

/** Writes a calendar event through the effect ledger (exactly once per effect key). */
export const writeCalendarEvent = (em: () => EntityManager, now: string, meta: EffectMeta, e: CalendarEventInput, sourceRunId: string | null) =>
  onceEffect(em, now, meta, 'calendarEvent', async (tx) => {
    const id = randomUUID();
    await sql(tx, `insert into calendar_events (id, user_id, title, description, starts_at, ends_at, attendees, source_run_id, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, meta.userId, e.title, e.description, e.startsAt, e.endsAt, e.attendees, sourceRunId, now]);
    return { id };
  });

/** Arguments the dispatcher accepts for tools a model asks for. */
const TOOL_ARGS: Partial<Record<AgentTool, { description: string; schema: z.ZodType }>> = {
  getContact: { description: 'Look up a CRM contact by email address', schema: z.object({ email: z.string().email() }) },
  searchEmails: { description: 'Search the email history with an address', schema: z.object({ address: z.string().email(), limit: z.number().int().min(1).max(50).default(10) }) },
  searchWeb: { description: 'Search the web', schema: z.object({ query: z.string().min(1).max(300), limit: z.number().int().min(1).max(10).default(5) }) },
  createDraft: { description: 'Save an email draft for the user to review', schema: z.object({ to: z.array(z.string().email()).min(1), subject: z.string().max(300), body: z.string().max(20_000) }) },
  sendEmail: { description: 'Send an email now', schema: z.object({ to: z.array(z.string().email()).min(1), subject: z.string().max(300), body: z.string().max(20_000) }) },
  createTask: { description: 'Create a task', schema: z.object({ title: z.string().min(1).max(500), dueAt: z.string().datetime(), priority: z.enum(['low', 'medium', 'high']).default('medium') }) },
  scheduleFollowUp: { description: 'Schedule a follow-up with a contact', schema: z.object({ email: z.string().email(), dueAt: z.string().datetime(), note: z.string().max(2000).default('') }) },
};

/** How each taint source reads in a proposal's reason. */
const SOURCE_WORDS: Record<string, string> = {
  crm: 'CRM contact fields', email: 'emails', web: 'web results', social: 'social profiles', trigger: 'the event that started the workflow',
  prompt: 'content sent to the model', model: "the model's answer to CRM text or your instructions",
};

/**
 * The dispatcher: the only way a skill (or a model inside it) reaches the outside world. It
 * enforces the agent's tool allow-list whatever the prompt says, marks the request tainted once
 * untrusted content (email bodies, web and social results) has been read, turns external effects
 * proposed after that into approvals unless the workflow granted them, keys every effect from the
 * step's effect key (exactly once) and applies the per-run caps.
 */
export async function createDispatch(deps: DispatchDeps, req: {
  agent: AgentRecord; userId: string; meta: EffectMeta; fromRun: boolean; grantEffects: boolean;
  /** A run step's attempt: each attempt asks the model again (its own call keys); effects stay keyed per step. */
  attempt?: number;
  /** Sources the request carries from the start (the workflow's trigger event). */
  untrusted?: string[];
}) {
  const { agent, userId, meta } = req;
  // The agent's own limits (`agents.caps`): model calls and tokens per run, tool calls per request.
  const caps = agent.caps;
  const allowed = new Set<string>(agent.tools);
  // An agent installed from a template may use only what the installer granted (issue 12).
  const grant = await templateGrantOf(deps.em(), agent.id);
  const refuseUngranted = (tool: string) => grant?.check(tool, agent.name, (reason) => report.toolCalls.push({ tool, status: 'refused', reason }));
  const report: DispatchReport = { toolCalls: [], pendingApprovals: [], untrusted: [...(req.untrusted ?? [])], model: null, tokens: 0, steps: 0 };
  const seq = new Map<string, number>();
  const nextKey = (kind: string) => {
    const n = (seq.get(kind) ?? 0) + 1;
    seq.set(kind, n);
    return `${meta.effectKey}|agent:${agent.id}|${kind}|${n}`;
  };
  const subMeta = (kind: string): EffectMeta => ({ ...meta, effectKey: nextKey(kind) });
  const nowIso = () => new Date(deps.now()).toISOString();

  // What this run already spent (earlier agent steps of the same run count against its caps); a
  // behavior, one run for its whole life, counts the current activation only.
  const spent = req.fromRun
    ? await sqlOne<{ steps: string; tokens: string | null }>(deps.em(),
      `select count(*) as steps, sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)) as tokens from llm_calls
        where run_id = ? and activation is not distinct from ?`, [meta.runId, meta.activation ?? null])
    : null;
  const priorSteps = Number(spent?.steps ?? 0);
  const priorTokens = Number(spent?.tokens ?? 0);
  let portCalls = 0;

  const taint = (source: string) => {
    if (!report.untrusted.includes(source)) report.untrusted.push(source);
  };
  /** Checks the allow-list and the tool-call cap; throws FORBIDDEN / RATE_LIMITED. */
  const use = (tool: AgentTool) => {
    refuseUngranted(tool);
    if (!allowed.has(tool)) {
      report.toolCalls.push({ tool, status: 'refused', reason: 'not on the allow-list' });
      throw new SwitchyardError('FORBIDDEN', `Agent "${agent.name}" may not use the tool "${tool}"`);
    }
    if (++portCalls > caps.maxToolCalls) throw new SwitchyardError('RATE_LIMITED', `The agent reached its cap of ${caps.maxToolCalls} tool calls`);
  };

  async function external<T extends { id: string } | null>(tool: AgentTool, args: unknown, run: (m: EffectMeta) => Promise<T>): Promise<EffectOutcome> {
    refuseUngranted(tool);
    if (!allowed.has(tool)) {
      report.toolCalls.push({ tool, status: 'refused', reason: 'not on the allow-list' });
      return { status: 'refused', reason: `Agent "${agent.name}" may not use the tool "${tool}"` };
    }
    if (++portCalls > caps.maxToolCalls) throw new SwitchyardError('RATE_LIMITED', `The agent reached its cap of ${caps.maxToolCalls} tool calls`);
    const m = subMeta(tool);
    if (EXTERNAL_TOOLS.includes(tool) && report.untrusted.length && !req.grantEffects) {
      const reason = `Proposed after reading untrusted content (${report.untrusted.map((u) => SOURCE_WORDS[u] ?? u).join(', ')})`;
      const approval = await onceEffect(deps.em, nowIso(), m, 'approval', async (tx) => {
        const id = randomUUID();
        await sql(tx, `insert into agent_approvals (id, agent_id, user_id, run_id, node_id, tool, args, reason, status, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
          [id, agent.id, userId, req.fromRun ? meta.runId : null, req.fromRun ? meta.nodeId : null, tool, { args }, reason, nowIso()]);
        return { id };
      });
      report.pendingApprovals.push({ id: approval.id, tool, reason });
      report.toolCalls.push({ tool, status: 'pending', reason });
      return { status: 'pending', approvalId: approval.id };
    }
    const r = await run(m);
    report.toolCalls.push({ tool, status: r ? 'ok' : 'failed' });
    return r ? { status: 'done', id: r.id } : { status: 'refused', reason: 'Nothing matched' };
  }

  const contactBy = async (where: string, v: string) => {
    const row = await sqlOne<ContactRow>(deps.em(), `select ${CONTACT_COLS} from contacts where user_id = ? and ${where}`, [userId, v]);
    return row ? toContact(row) : null;
  };

  const ports: SkillPorts = {
    now: deps.now,
    crm: {
      async getContact(id) {
        use('getContact');
        // Contact fields are free text anyone can get into the CRM (an email's display name, a company).
        taint('crm');
        return /^[0-9a-f-]{36}$/i.test(id) ? contactBy('id = ?', id) : null;
      },
      async findContactByEmail(email) {
        use('getContact');
        taint('crm');
        return contactBy('lower(email) = lower(?)', email);
      },
      async searchEmails({ address, threadId, limit }) {
        use('searchEmails');
        taint('email');
        const rows = await sql<{ id: string; thread_id: string; direction: 'inbound' | 'outbound'; from_addr: string; to_addrs: string[]; subject: string; body: string; at: unknown }>(deps.em(),
          `select id, thread_id, direction, from_addr, to_addrs, subject, body, at from emails where user_id = ?
           ${threadId ? 'and thread_id::text = ?' : ''} ${address ? 'and (lower(from_addr) = lower(?) or to_addrs @> ?::jsonb)' : ''}
           order by at desc limit ?`,
          [userId, ...(threadId ? [threadId] : []), ...(address ? [address, JSON.stringify([address.toLowerCase()])] : []), limit]);
        return rows.map((r): SkillEmail => ({ id: r.id, threadId: r.thread_id, direction: r.direction, from: r.from_addr, to: r.to_addrs, subject: r.subject, body: r.body, at: iso(r.at)! }));
      },
    },
    memory: {
      async remember(key, value, ttl) {
        use('memory');
        await deps.memory.remember(agent.id, key, value, ttl);
      },
      async recall(key) {
        use('memory');
        return deps.memory.recall(agent.id, key);
      },
      async addInteraction(entityType, entityId, data) {
        // Bookkeeping of what the agent did, not a tool: allowed for every agent.
        await deps.memory.addInteraction(agent.id, entityType, entityId, data);
      },
    },
    llm: {
      async complete(r) {
        if (priorSteps + report.steps >= caps.maxSteps) throw new SwitchyardError('RATE_LIMITED', `The run reached its cap of ${caps.maxSteps} model calls`);
        if (priorTokens + report.tokens >= caps.maxTokens) throw new SwitchyardError('RATE_LIMITED', `The run reached its cap of ${caps.maxTokens} tokens`);
        report.steps++;
        // Untrusted before the call, whatever the skill says: every prompt carries CRM text, email
        // content, web results or caller-supplied instructions, and an obeying model turns any of
        // them into tool calls. So an external effect proposed from here on waits for a person.
        taint(r.untrusted ? 'prompt' : 'model');
        const callKey = req.fromRun ? hash(`${nextKey('llm')}#${req.attempt ?? 0}`) : null;
        const res = await deps.llm.complete({ userId, agentId: agent.id, runId: req.fromRun ? meta.runId : null, callKey, activation: req.fromRun ? meta.activation ?? null : null }, r);
        report.tokens += (res.usage?.prompt ?? 0) + (res.usage?.completion ?? 0);
        report.model = res.model;
        return res;
      },
    },
    web: {
      async search(q) {
        use('searchWeb');
        taint('web');
        return deps.web.search(userId, q);
      },
    },
    social: {
      async enrich(q) {
        use('enrichContact');
        taint('social');
        return deps.social.enrich(userId, q);
      },
    },
    calendar: {
      async list({ from, to }) {
        use('readCalendar');
        const rows = await sql<{ id: string; title: string; starts_at: unknown; ends_at: unknown; attendees: string[] }>(deps.em(),
          'select id, title, starts_at, ends_at, attendees from calendar_events where user_id = ? and starts_at < ? and ends_at > ? order by starts_at', [userId, to, from]);
        return rows.map((r) => ({ id: r.id, title: r.title, startsAt: iso(r.starts_at)!, endsAt: iso(r.ends_at)!, attendees: r.attendees }));
      },
    },
    effects: {
      createDraft: (d) => external('createDraft', d, (m) => deps.crm.createDraft(m, d)),
      sendEmail: (e) => external('sendEmail', e, (m) => deps.crm.sendEmail(m, e)),
      scheduleFollowUp: (f) => external('scheduleFollowUp', f, (m) => deps.crm.scheduleFollowUp(m, f)),
      createCalendarEvent: (e) => external('createCalendarEvent', e, (m) => writeCalendarEvent(deps.em, nowIso(), m, e, req.fromRun ? meta.runId : null)),
    },
    tools: {
      available(): ToolSpec[] {
        return AGENT_TOOLS.filter((t) => allowed.has(t) && TOOL_ARGS[t]).map((t) => ({
          name: t, description: TOOL_ARGS[t]!.description, parameters: z.toJSONSchema(TOOL_ARGS[t]!.schema) as Record<string, unknown>,
        }));
      },
      /** A model's tool call: refused unless on the allow-list, validated, then run like any port call. */
      async invoke(call: ToolCall) {
        const tool = call.name as AgentTool;
        if (!(AGENT_TOOLS as readonly string[]).includes(call.name) || !allowed.has(tool) || !TOOL_ARGS[tool]) {
          report.toolCalls.push({ tool: call.name, status: 'refused', reason: 'not on the allow-list' });
          return { ok: false, refused: `The tool "${call.name}" is not available to this agent` };
        }
        const args = TOOL_ARGS[tool]!.schema.safeParse(call.arguments);
        if (!args.success) {
          report.toolCalls.push({ tool, status: 'failed', reason: 'invalid arguments' });
          return { ok: false, refused: `Invalid arguments for ${tool}` };
        }
        // Shape checked by TOOL_ARGS[tool] just above; each case reads its own tool's fields.
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const a = args.data as any;
        try {
          switch (tool) {
            case 'getContact': return { ok: true, result: await ports.crm.findContactByEmail(a.email) };
            case 'searchEmails': return { ok: true, result: await ports.crm.searchEmails({ address: a.address, limit: a.limit }) };
            case 'searchWeb': return { ok: true, result: await ports.web.search({ query: a.query, limit: a.limit }) };
            case 'createDraft': return { ok: true, result: await ports.effects.createDraft({ to: a.to, subject: a.subject, body: a.body }) };
            case 'sendEmail': return { ok: true, result: await ports.effects.sendEmail({ to: a.to, subject: a.subject, body: a.body }) };
            case 'scheduleFollowUp': return { ok: true, result: await ports.effects.scheduleFollowUp({ email: a.email, dueAt: a.dueAt, note: a.note }) };
            case 'createTask': {
              const t = { title: a.title as string, description: '', dueAt: a.dueAt as string, priority: a.priority as 'low' | 'medium' | 'high' };
              return { ok: true, result: await external('createTask', t, (m) => deps.crm.createTask(m, t)) };
            }
            default: return { ok: false, refused: `The tool "${tool}" cannot be called by a model` };
          }
        } catch (e) {
          return { ok: false, refused: e instanceof Error ? e.message : String(e) };
        }
      },
    },
  };
  return { ports, report };
}
