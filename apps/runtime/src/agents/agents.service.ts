import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  createBuiltinSkillRegistry, firstEmail, matchSkill, paramsFromRequest, type AgentApprovalDecision, type AgentSkillOutcome, type AgentsPort, type Clock, type EffectMeta, type SkillResult,
} from '@switchyard/actors';
import { SwitchyardError, type AgentCreate, type AgentState, type AgentUpdate, type ErrorCode, type FeedbackType, type Personality } from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import { createEffects } from '../host/effects';
import { createLlm, LlmRateLimitedError, type LlmProvider } from '../llm/llm';
import type { Outbound } from '../outbound/outbound';
import { proposePlanFromChat } from '../plans/chat';
import { startAgentActor, stateOf, type AgentActor } from './agent.actor';
import { createAgentStore, type AgentRecord } from './agent.store';
import { createDispatch, writeCalendarEvent, type CalendarEventInput, type DispatchReport } from './dispatcher';
import { agentNodeDiagnostics } from './flow-diagnostics';
import { asJson, asJsonObject, proposalOf, type JsonObject, type JsonValue } from './json';
import { createAgentMemory } from './memory';
import { adjustResponse, personalityPrompt } from './personality';
import { createHttpWebSearch, createOfflineSocial, createOfflineWebSearch } from './sources';
import { AGENTS_CHANNEL, createAgentOwnership, parseNotice, type AgentNotice } from './ownership';
import { voidDeadLeases } from '../host/instances';
import { createPgListener } from '../host/listener';

export interface AgentsServiceDeps {
  em: () => EntityManager;
  /** Read on every use, so the runtime clock (settable in tests) is the one used. */
  clock: () => Clock;
  outbound: Outbound;
  provider: LlmProvider;
  /** A JSON web-search endpoint reached through the outbound guard; unset = offline search over CRM data. */
  webSearchUrl?: string;
  /** How often a step waiting on proposals re-reads decisions another process made; default 2 s. */
  approvalPollMs?: number;
  /**
   * This process's identity (the run owner id: `SWITCHYARD_INSTANCE_ID`, else unique per process).
   * Agents are owned by one process at a time under its `runtime_instances` lease (ownership.ts).
   */
  instanceId?: string;
  /**
   * Agent ownership: how long a lease lasts (the host's heartbeat renews it) and whether this
   * process takes every agent on start (the embedded database has one process by construction).
   * Absent: single-process (adopt all).
   */
  lease?: { leaseMs: number; adoptAll: boolean };
  /** PostgreSQL: follow other processes' agent notices (requests, outcomes, live states) by LISTEN. */
  listenUrl?: string;
  /** How often a caller waiting on a request another process runs re-reads its outcome (NOTIFY wakes it sooner); default 500 ms. */
  requestPollMs?: number;
  log?: { error(o: unknown, m?: string): void };
  /** Test-only fault injection (SWITCHYARD_TEST_HOOKS=1): SIGKILL the process at this point of `agents.approve`. */
  crashInApprove?: ApproveCrashPoint;
  /** Test-only: SIGKILL inside `agents.chat` once the question is written, before its transaction commits. */
  crashInChat?: 'after-question';
}

/** Where a test may kill the process inside `agents.approve`. */
export const APPROVE_CRASH_POINTS = ['after-claim', 'after-effect', 'after-commit'] as const;
export type ApproveCrashPoint = (typeof APPROVE_CRASH_POINTS)[number];

/** A skill run as the API returns it: the outcome with its output typed as the JSON it is. */
export type SkillRunResult = Omit<AgentSkillOutcome, 'output' | 'sideEffects'> & {
  output: JsonObject;
  sideEffects: { type: string; data: JsonValue }[];
  toolCalls: DispatchReport['toolCalls'];
  untrusted: string[];
};

/** What a chat request made the agent do (offline: the skill its manifest matched). */
export interface ChatAction {
  skill: string;
  params: Record<string, unknown>;
  success: boolean;
  output: JsonObject;
  pendingApprovals: { id: string; tool: string; reason: string }[];
}

/** One chat turn's answer. */
export interface ChatTurn {
  conversationId: string;
  reply: string;
  replyId: number;
  model: string;
  action?: ChatAction;
}

/** A person-readable account of a skill run, for a chat answer. */
export function describeSkillRun(name: string, r: SkillRunResult): string {
  const o = (r.output ?? {}) as Record<string, unknown>;
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const parts: string[] = [];
  if (!r.success) parts.push(`I tried to ${name.toLowerCase()}, but it did not work: ${r.error ?? 'unknown error'}.`);
  else if (list(o.insights).length) {
    const profile = (o.profile ?? {}) as { name?: string };
    parts.push(`I researched ${profile.name ?? 'the contact'}: ${list(o.insights).join('; ')}.`);
    if (list(o.recommendations).length) parts.push(`Next: ${list(o.recommendations).join('; ')}.`);
  } else if (typeof o.subject === 'string' && o.draft) {
    const d = o.draft as { status?: string };
    parts.push(d.status === 'pending' ? `I wrote "${o.subject}", but saving it waits for your approval.` : `I drafted "${o.subject}"${Array.isArray(o.to) ? ` to ${o.to.join(', ')}` : ''}. It is in Drafts for you to review.`);
  } else if (typeof o.summary === 'string') parts.push(o.summary);
  else {
    const facts = Object.entries(o).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)).slice(0, 5).map(([k, v]) => `${k}: ${String(v)}`);
    parts.push(`Done: ${name}.${facts.length ? ` ${facts.join(', ')}.` : ''}`);
  }
  if (r.pendingApprovals.length) parts.push(`${r.pendingApprovals.length} action${r.pendingApprovals.length === 1 ? '' : 's'} wait for your approval (Memory tab).`);
  return parts.join(' ');
}

/** An agent's live state, as `agents.watch` pushes it. */
export interface AgentLive {
  id: string;
  userId: string;
  state: AgentState;
  pendingApprovals: number;
  queued: number;
  lastError: string | null;
  at: string;
  /** Set once, on the last event of an agent that was deleted. */
  deleted?: true;
}

/** A mailbox request, persisted in `agent_requests` so it survives a restart. */
type RequestPayload =
  | { kind: 'skill'; skill: string; params: Record<string, unknown>; grantEffects: boolean; trigger?: unknown; meta: EffectMeta; fromRun: boolean; attempt?: number }
  | { kind: 'chat'; message: string; conversationId: string; userMessageId: number };

interface RequestRow {
  id: string;
  agent_id: string;
  user_id: string;
  kind: 'skill' | 'chat';
  payload: RequestPayload;
  status: 'queued' | 'running' | 'done' | 'failed';
  result: unknown;
  error: { code: ErrorCode; message: string; issues?: SwitchyardError['issues']; nonRetryable?: boolean; retryAfterMs?: number | null } | null;
}

/** A stored failure, as the caller first saw it: same code, retryability and retry-after. */
const storedError = (e: NonNullable<RequestRow['error']>) =>
  e.code === 'RATE_LIMITED' && e.retryAfterMs !== undefined
    ? new LlmRateLimitedError(e.message, e.retryAfterMs)
    : new SwitchyardError(e.code, e.message, { issues: e.issues ?? [], nonRetryable: e.nonRetryable ?? true });
const errorRecord = (e: unknown): NonNullable<RequestRow['error']> =>
  e instanceof LlmRateLimitedError ? { code: e.code, message: e.message, nonRetryable: false, retryAfterMs: e.retryAfterMs }
    : e instanceof SwitchyardError ? { code: e.code, message: e.message, issues: e.issues, nonRetryable: e.nonRetryable }
      : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };

/**
 * Agents in the runtime: their store, memory, personality, LLM, skill dispatch and one XState
 * actor per agent whose mailbox runs requests (skill runs, chat) one at a time.
 */
export function createAgentsService(deps: AgentsServiceDeps) {
  const registry = createBuiltinSkillRegistry();
  const now = () => deps.clock().now();
  const instance = deps.instanceId ?? 'local';
  const nowIso = () => new Date(now()).toISOString();
  const store = createAgentStore({ em: deps.em, now: nowIso, knownSkill: (id) => registry.get(id) !== undefined });
  const memory = createAgentMemory({ em: deps.em, clock: { now } });
  const llm = createLlm({ em: deps.em, provider: deps.provider });
  // The host's effect ledger over the same tables: drafts, emails, follow-ups stay exactly-once.
  const ledger = createEffects({
    em: deps.em, clock: { now, set: () => undefined, onChange: () => () => undefined },
    outbound: { request: (r) => deps.outbound.request(r) },
  });
  const dispatchDeps = {
    em: deps.em, now, llm, memory, crm: ledger.crm,
    web: deps.webSearchUrl ? createHttpWebSearch(deps.outbound, deps.webSearchUrl) : createOfflineWebSearch(deps.em),
    social: createOfflineSocial(),
  };

  const actors = new Map<string, AgentActor>();
  /** The agents this process owns, with the lease epoch of its claim (ownership.ts). */
  const held = new Map<string, number>();
  const ownership = createAgentOwnership({ em: deps.em, instanceId: instance, leaseMs: deps.lease?.leaseMs ?? 30_000, adoptAll: deps.lease?.adoptAll ?? true });
  const adoptAll = deps.lease?.adoptAll ?? true;
  const crossProcess = Boolean(deps.listenUrl);
  const listener = deps.listenUrl ? createPgListener(deps.listenUrl, { [AGENTS_CHANNEL]: (p) => onNotice(p) }, deps.log) : null;
  let leaseTimer: ReturnType<typeof setInterval> | null = null;
  let requestPoll: ReturnType<typeof setInterval> | null = null;
  /** Callers waiting for a request's outcome, by request id (several when a step asks again). */
  const waiters = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void; fromRun: boolean; agentId: string }[]>();
  /** Steps waiting for proposals to be decided; woken by `decide` (and by a poll for other processes). */
  const approvalWaiters = new Map<() => void, string[]>();
  let decisionPoll: ReturnType<typeof setInterval> | null = null;
  const persisting = new Map<string, Promise<unknown>>();
  /** 'agent' (AgentLive) when an agent's state changes; 'run' (run id) when a run's proposals change. */
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let stopped = false;

  const crashAt = (point: ApproveCrashPoint) => {
    if (deps.crashInApprove === point) process.kill(process.pid, 'SIGKILL');
  };

  const settle = (requestId: string, ok: boolean, value: unknown) => {
    const ws = waiters.get(requestId) ?? [];
    waiters.delete(requestId);
    for (const w of ws) {
      if (ok) w.resolve(value);
      else w.reject(value);
    }
  };

  const pendingApprovals = async (agentId: string) =>
    Number((await sqlOne<{ n: string }>(deps.em(), `select count(*) as n from agent_approvals where agent_id = ? and status = 'pending'`, [agentId]))?.n ?? 0);

  const liveOf = (agent: Pick<AgentRecord, 'id' | 'userId'>, actor: AgentActor): AgentLive => {
    const c = actor.getSnapshot().context;
    return { id: agent.id, userId: agent.userId, state: stateOf(actor), pendingApprovals: c.pendingApprovals, queued: c.queue.length, lastError: c.lastError, at: nowIso() };
  };

  /** An agent another process owns (or nobody, between requests), as the database has it. */
  async function storedLive(agent: Pick<AgentRecord, 'id' | 'userId' | 'state' | 'lastError'>): Promise<AgentLive> {
    const queued = Number((await sqlOne<{ n: string }>(deps.em(), `select count(*) as n from agent_requests where agent_id = ? and status in ('queued', 'running')`, [agent.id]))?.n ?? 0);
    return { id: agent.id, userId: agent.userId, state: agent.state, pendingApprovals: await pendingApprovals(agent.id), queued, lastError: agent.state === 'error' ? agent.lastError : null, at: nowIso() };
  }

  const tell = (notice: AgentNotice) => {
    if (crossProcess) void ownership.notify(notice).catch((e: unknown) => deps.log?.error({ err: e, notice: notice.t }, 'could not notify other processes'));
  };

  /** Another process's notice (ownership.ts): a request to pull, an outcome, a live state, a decision. */
  function onNotice(payload: string) {
    const n = parseNotice(payload);
    if (!n || n.from === instance || stopped) return;
    if (n.t === 'req' && held.has(n.agentId)) void pull([n.agentId]).catch((e: unknown) => deps.log?.error({ err: e }, 'pulling an agent request failed'));
    if (n.t === 'done' && waiters.has(n.id)) void readOutcomes([n.id]).catch((e: unknown) => deps.log?.error({ err: e }, 'reading a request outcome failed'));
    if (n.t === 'live') {
      if (n.live.deleted && held.has(n.live.id)) drop(n.live.id);
      events.emit('agent', n.live as AgentLive);
    }
    if (n.t === 'decided') {
      wakeWaiters(new Set(n.ids));
      if (held.has(n.agentId)) void recountApprovals(n.agentId);
    }
  }

  const recountApprovals = async (agentId: string) => {
    try {
      const count = await pendingApprovals(agentId);
      actors.get(agentId)?.send({ type: 'approvals', count });
    } catch (e) {
      deps.log?.error({ err: e, agentId }, 'counting pending proposals failed');
    }
  };

  /** Stops the actor of an agent this process no longer holds (lost, deleted, stopping). */
  function drop(agentId: string) {
    held.delete(agentId);
    actors.get(agentId)?.stop();
    actors.delete(agentId);
    // Callers waiting here on its requests now wait for the new owner's outcome.
    if (waiters.size) pollOutcomes();
  }

  /**
   * Puts the agents' open requests into their mailboxes, oldest first (the global order), skipping
   * those already there: requests queued through any process, and those left by a dead owner.
   */
  async function pull(agentIds: string[]) {
    const mine = agentIds.filter((id) => held.has(id) && actors.has(id));
    for (const r of await ownership.open(mine)) {
      const actor = held.has(r.agent_id) ? actors.get(r.agent_id) : undefined;
      if (actor && !actor.getSnapshot().context.queue.includes(r.id)) actor.send({ type: 'enqueue', requestId: r.id });
    }
  }

  /**
   * Settles callers waiting on requests that another process runs (or ran, before this one took
   * the agent over): their stored outcome, once there is one.
   */
  async function readOutcomes(ids: string[]) {
    if (!ids.length) return;
    const rows = await sql<Pick<RequestRow, 'id' | 'status' | 'result' | 'error'>>(deps.em(),
      `select id, status, result, error from agent_requests where id = any(?::uuid[]) and status in ('done', 'failed')`, [`{${ids.join(',')}}`]);
    for (const r of rows) settle(r.id, r.status === 'done', r.status === 'done' ? r.result : storedError(r.error!));
  }

  /** While callers wait on requests this process does not run, read their outcomes every `requestPollMs`. */
  function pollOutcomes() {
    if (requestPoll || stopped) return;
    requestPoll = setInterval(() => {
      const remote = [...waiters].filter(([, ws]) => ws.some((w) => !held.has(w.agentId))).map(([id]) => id);
      if (!remote.length || stopped) {
        if (!waiters.size || stopped) {
          clearInterval(requestPoll!);
          requestPoll = null;
        }
        return;
      }
      void readOutcomes(remote).catch((e: unknown) => deps.log?.error({ err: e }, 'reading request outcomes failed'));
    }, deps.requestPollMs ?? 500);
    requestPoll.unref();
  }

  /**
   * Stores a request's outcome if this process still holds its agent (same owner and epoch), and
   * tells other processes in the same statement (the NOTIFY is sent when it commits). False when
   * fenced off: the agent's new owner runs the request again and stores the outcome.
   */
  async function storeOutcome(agentId: string, epoch: number, requestId: string, set: string, values: unknown[]) {
    const rows = await sql(deps.em(),
      `with u as (update agent_requests set ${set} where id = ? and status = 'running' and ${ownership.fence} returning id)
       select id${crossProcess ? ', pg_notify(?, ?) as n' : ''} from u`,
      [...values, requestId, agentId, instance, epoch, ...(crossProcess ? [AGENTS_CHANNEL, JSON.stringify({ t: 'done', id: requestId, from: instance } satisfies AgentNotice)] : [])]);
    if (!rows.length) deps.log?.error({ agentId, requestId }, 'lost the agent to another process; its new owner runs the request');
    return rows.length > 0;
  }

  /**
   * Runs one persisted request: its outcome is stored with it, then handed to whoever waits.
   * `beforeSettle` runs between the two (the actor reads what it needs for its next state), so
   * the agent's state has moved on by the time a caller gets its answer and asks for it.
   */
  async function processRequest(agentId: string, requestId: string, beforeSettle?: () => Promise<void>) {
    const row = await sqlOne<RequestRow>(deps.em(), 'select id, agent_id, user_id, kind, payload, status, result, error from agent_requests where id = ?', [requestId]);
    if (!row) return;
    if (row.status === 'done') return settle(requestId, true, row.result);
    if (row.status === 'failed') return settle(requestId, false, storedError(row.error!));
    // Fenced: only while this process holds the agent under the epoch it claimed.
    const epoch = held.get(agentId);
    if (epoch === undefined) return;
    const started = await sql(deps.em(),
      `update agent_requests set status = 'running', started_at = ?, owner = ? where id = ? and status in ('queued', 'running') and ${ownership.fence} returning id`,
      [nowIso(), instance, requestId, agentId, instance, epoch]);
    if (!started.length) return readOutcomes([requestId]);
    let result: unknown;
    try {
      const agent = await store.find(row.user_id, agentId);
      if (!agent) throw new SwitchyardError('NOT_FOUND', 'The agent was deleted');
      result = row.payload.kind === 'skill' ? await executeSkill(agent, row.payload) : await executeChat(agent, row.payload);
    } catch (e) {
      // Stopping is not the request's failure: left 'running', it runs again after the restart.
      if (stopped) return;
      if (!(await storeOutcome(agentId, epoch, requestId, `status = 'failed', error = ?, finished_at = ?`, [errorRecord(e), nowIso()]))) return;
      // A question the model never answered: shown as failed (with a retry), never replayed as history.
      if (row.payload.kind === 'chat') await memory.setMessageStatus(row.payload.userMessageId, 'failed', { agentId, userId: row.user_id });
      await beforeSettle?.().catch(() => undefined);
      settle(requestId, false, e);
      throw e;
    }
    if (!(await storeOutcome(agentId, epoch, requestId, `status = 'done', result = ?, finished_at = ?`, [JSON.stringify(result ?? null), nowIso()]))) return;
    await beforeSettle?.().catch(() => undefined);
    settle(requestId, true, result);
  }

  /** The live actor of an agent this process has just claimed under `epoch`. */
  function spawn(agent: Pick<AgentRecord, 'id' | 'userId' | 'state' | 'lastError'>, approvals: number, epoch: number) {
    actors.get(agent.id)?.stop();
    held.set(agent.id, epoch);
    const actor = startAgentActor({ agentId: agent.id, pendingApprovals: approvals, lastError: agent.state === 'error' ? agent.lastError : null }, async (requestId) => {
      // Read before the caller is answered: the actor then moves to its next state (idle, error,
      // waiting for approval) in the same tick the answer goes out, so an immediate agents.get sees it.
      let after: number | null = null;
      await processRequest(agent.id, requestId, async () => {
        after = await pendingApprovals(agent.id);
      });
      return { pendingApprovals: after ?? (await pendingApprovals(agent.id)) };
    });
    // Persist the state whenever it changes, in order, so the API and a restart see it; push
    // every visible change (state, approvals, queue) to `agents.watch`.
    let last = '';
    let lastLive = '';
    // An observer's exception would reach XState's unhandled-error report and end the process:
    // a change that cannot be published or persisted is logged instead.
    actor.subscribe((snap) => {
      try {
        const live = liveOf(agent, actor);
        const liveKey = `${live.state}|${live.pendingApprovals}|${live.queued}|${live.lastError ?? ''}`;
        if (liveKey !== lastLive) {
          lastLive = liveKey;
          events.emit('agent', live);
          tell({ t: 'live', from: instance, live: { ...live, lastError: live.lastError?.slice(0, 1000) ?? null } });
        }
        const key = `${live.state}|${snap.context.lastError ?? ''}`;
        if (key === last) return;
        last = key;
        const summary = { state: live.state, pendingApprovals: snap.context.pendingApprovals, processed: snap.context.processed, queued: snap.context.queue.length };
        const chain = (persisting.get(agent.id) ?? Promise.resolve())
          .then(() => sql(deps.em(), 'update agents set state = ?, last_error = ?, snapshot = ? where id = ? and owner = ? and lease_epoch = ?',
            [live.state, snap.context.lastError, summary, agent.id, instance, epoch]))
          .catch((e: unknown) => deps.log?.error({ err: e, agentId: agent.id }, 'failed to persist agent state'));
        persisting.set(agent.id, chain);
      } catch (e) {
        deps.log?.error({ err: e, agentId: agent.id }, 'could not publish or persist an agent change');
      }
    });
    actors.set(agent.id, actor);
    // A new agent shows up in open `agents.watch` streams at once.
    events.emit('agent', liveOf(agent, actor));
    return actor;
  }

  /**
   * Gets the request to the agent's owner: into this process's mailbox when it holds the agent or
   * can claim it (nobody live holds it), else a notice to the process that does.
   */
  async function route(agent: AgentRecord) {
    if (!held.has(agent.id)) {
      const epoch = await ownership.claim(agent.id, adoptAll);
      if (epoch === null) return tell({ t: 'req', agentId: agent.id, from: instance });
      spawn(agent, await pendingApprovals(agent.id), epoch);
    }
    await pull([agent.id]);
  }

  /**
   * Stores a request in the agent's persisted mailbox (in `em`'s transaction when given, so a
   * caller can store it with what it answers). With a key (a workflow step's), asking again finds
   * the same request: `done` carries its stored outcome when it is finished.
   */
  async function queueRequest(agent: AgentRecord, payload: RequestPayload, key: string | null, em = deps.em()): Promise<{ id: string; done?: { result: unknown } | { error: NonNullable<RequestRow['error']> } }> {
    if (stopped) throw new SwitchyardError('INTERNAL', 'The runtime is stopping');
    const requestKey = key === null ? null : createHash('sha256').update(key).digest('hex');
    const inserted = await sql<{ id: string }>(em,
      `insert into agent_requests (id, agent_id, user_id, request_key, kind, payload, status, submitted_by, created_at) values (?, ?, ?, ?, ?, ?, 'queued', ?, ?)
       on conflict (request_key) do nothing returning id`,
      [randomUUID(), agent.id, agent.userId, requestKey, payload.kind, JSON.stringify(payload), instance, nowIso()]);
    if (inserted[0]) return { id: inserted[0].id };
    const row = (await sqlOne<RequestRow>(em, 'select id, status, result, error from agent_requests where request_key = ?', [requestKey]))!;
    if (row.status === 'done') return { id: row.id, done: { result: row.result } };
    if (row.status === 'failed') return { id: row.id, done: { error: row.error! } };
    return { id: row.id };
  }

  /**
   * Puts a request into the agent's persisted mailbox; resolves when the agent has processed it.
   * With a key (a workflow step's), asking again finds the same request: its stored outcome when
   * it is finished, else the request still queued or running.
   */
  async function submit<T>(agent: AgentRecord, payload: RequestPayload, key: string | null): Promise<T> {
    const queued = await queueRequest(agent, payload, key);
    if (queued.done) {
      if ('error' in queued.done) throw storedError(queued.done.error);
      return queued.done.result as T;
    }
    return outcomeOf<T>(agent, queued.id, key !== null);
  }

  /** Hands a stored request to its agent's owner; resolves with its outcome. */
  async function outcomeOf<T>(agent: AgentRecord, id: string, fromRun: boolean): Promise<T> {
    const outcome = new Promise<T>((resolve, reject) => {
      waiters.set(id, [...(waiters.get(id) ?? []), { resolve: resolve as (v: unknown) => void, reject, fromRun, agentId: agent.id }]);
    });
    try {
      await route(agent);
    } catch (e) {
      // Stored all the same: whoever holds (or next adopts) the agent runs it; the caller waits for it.
      deps.log?.error({ err: e, agentId: agent.id, requestId: id }, 'could not hand a request to its agent; it stays queued');
    }
    // Run elsewhere (or here after all): the outcome is read when its NOTIFY arrives or by the poll.
    if (!held.has(agent.id)) pollOutcomes();
    return outcome;
  }

  async function runSkill(userId: string, agentId: string, skillId: string, params: unknown, opts: { meta?: EffectMeta; grantEffects?: boolean; trigger?: unknown; attempt?: number } = {}): Promise<SkillRunResult> {
    const agent = await store.get(userId, agentId);
    if (!agent.active) throw new SwitchyardError('INVALID_STATE', `Agent "${agent.name}" is paused`);
    const skill = registry.get(skillId);
    if (!skill) throw new SwitchyardError('NOT_FOUND', `Unknown skill "${skillId}"`);
    if (!agent.skills.includes(skillId)) throw new SwitchyardError('FORBIDDEN', `Agent "${agent.name}" does not have the skill "${skillId}"`);
    const valid = registry.validate(skillId, params);
    if (!valid.ok) throw new SwitchyardError('BAD_INPUT', `Invalid params for ${skillId}`, { issues: valid.issues.map((i) => ({ ...i, path: ['params', ...i.path] })) });

    // A workflow step's request is keyed by its effect key and attempt: a restored step finds it
    // (and its stored result), a retry is a new request. A direct call gets fresh keys, stored
    // with the request so a request re-run after a crash keeps its effects exactly once.
    const meta: EffectMeta = opts.meta ?? { runId: randomUUID(), userId, nodeId: 'api', nodeType: 'agent.runSkill', effectKey: `api|${randomUUID()}` };
    const payload: RequestPayload = {
      kind: 'skill', skill: skillId, params: valid.params as Record<string, unknown>, grantEffects: opts.grantEffects ?? false, meta, fromRun: !!opts.meta,
      attempt: opts.attempt ?? 0, ...(opts.trigger === undefined ? {} : { trigger: opts.trigger }),
    };
    // Each attempt of a step is its own request (a retry asks the model again); the same attempt
    // asked again (a restored step) finds its request and stored outcome.
    return submit<SkillRunResult>(agent, payload, opts.meta ? `${opts.meta.effectKey}#attempt:${opts.attempt ?? 0}` : null);
  }

  async function executeSkill(agent: AgentRecord, p: Extract<RequestPayload, { kind: 'skill' }>): Promise<SkillRunResult> {
    const skill = registry.get(p.skill);
    if (!skill) throw new SwitchyardError('NOT_FOUND', `Unknown skill "${p.skill}"`);
    const { userId } = agent;
    const { ports, report } = await createDispatch(dispatchDeps, {
      agent, userId, meta: p.meta, fromRun: p.fromRun, grantEffects: p.grantEffects, attempt: p.attempt ?? 0,
      // The event that started the workflow (an email, a webhook body) is untrusted from the start.
      untrusted: p.trigger === undefined || p.trigger === null ? [] : ['trigger'],
    });
    const context = { userId, agent: { id: agent.id, name: agent.name, systemPrompt: agent.systemPrompt, personalityPrompt: await memory.contextPrompt(agent.id, agent.personality) }, ports, ...(p.trigger === undefined ? {} : { trigger: p.trigger }) };
    let result: SkillResult;
    let errorCode: ErrorCode | undefined;
    try {
      result = await skill.execute(p.params, context);
    } catch (e) {
      // A refused tool is the agent's failure, reported as data; anything else fails the request.
      // Its code goes with it, so the step that asked fails as FORBIDDEN, not as a bad input.
      if (!(e instanceof SwitchyardError && e.code === 'FORBIDDEN')) throw e;
      result = { success: false, output: { error: e.message }, error: e.message };
      errorCode = e.code;
    }
    await memory.addInteraction(agent.id, 'skill', p.skill, {
      type: 'skill', summary: `${skill.name}: ${result.success ? 'done' : result.error ?? 'failed'}`, ...(p.fromRun ? { runId: p.meta.runId } : {}),
    });
    return {
      success: result.success, output: asJsonObject(result.output), ...(result.error ? { error: result.error } : {}), ...(errorCode ? { errorCode } : {}),
      sideEffects: (result.sideEffects ?? []).map((e) => ({ type: e.type, data: asJson(e.data) })), suggestedNextSteps: result.suggestedNextSteps ?? [], pendingApprovals: report.pendingApprovals,
      ...(report.model ? { model: report.model } : {}), toolCalls: report.toolCalls, untrusted: report.untrusted,
    };
  }

  /** One chat turn: the history before the person's message (oldest first), the model's answer appended. */
  async function executeChat(agent: AgentRecord, p: Extract<RequestPayload, { kind: 'chat' }>): Promise<ChatTurn> {
    // A request that needs several skills is answered with a proposed plan (plans/chat.ts).
    const planned = await proposePlanFromChat(service, agent, p);
    if (planned) return planned;
    // Without a model the agent still acts: the request goes to the skill its manifest matches.
    if (llm.offline) {
      const acted = await offlineAct(agent, p);
      if (acted) {
        const reply = adjustResponse(acted.text, agent.personality);
        const replyId = await memory.addMessage(p.conversationId, 'assistant', reply, llm.model);
        await memory.addInteraction(agent.id, 'conversation', p.conversationId, { type: 'chat', summary: `Chat: ${p.message.slice(0, 80)}` });
        return { conversationId: p.conversationId, reply, replyId, model: llm.model, ...(acted.action ? { action: acted.action } : {}) };
      }
    }
    const history = await memory.history(p.conversationId, 20, p.userMessageId, { forModel: true });
    const res = await llm.complete({ userId: agent.userId, agentId: agent.id }, {
      purpose: 'chat', system: await fullPrompt(agent),
      messages: [...history.map((m) => ({ role: m.role, content: m.content })), { role: 'user' as const, content: p.message }],
      offline: () => ({ text: offlineChat(agent, p.message, history.length) }),
    });
    const reply = adjustResponse(res.text, agent.personality);
    const replyId = await memory.addMessage(p.conversationId, 'assistant', reply, res.model);
    await memory.addInteraction(agent.id, 'conversation', p.conversationId, { type: 'chat', summary: `Chat: ${p.message.slice(0, 80)}` });
    return { conversationId: p.conversationId, reply, replyId, model: res.model };
  }

  /**
   * Runs an approved proposal through the effect ledger, keyed by the approval, inside the
   * transaction `tx` that claimed it: the claim, the effect and its result commit together.
   */
  async function runApproved(tx: EntityManager, row: { id: string; tool: string; args: { args: Record<string, unknown> }; run_id: string | null }, userId: string) {
    const meta: EffectMeta = { runId: row.run_id ?? row.id, userId, nodeId: 'approval', nodeType: 'agent.approval', effectKey: `approval|${row.id}` };
    const a = row.args.args;
    const inTx = createEffects({ em: () => tx, clock: { now, set: () => undefined, onChange: () => () => undefined }, outbound: { request: (r) => deps.outbound.request(r) } });
    switch (row.tool) {
      case 'sendEmail':
        return inTx.crm.sendEmail(meta, { to: a.to as string[], subject: String(a.subject ?? ''), body: String(a.body ?? ''), ...(typeof a.threadId === 'string' ? { threadId: a.threadId } : {}) });
      case 'createCalendarEvent':
        return writeCalendarEvent(() => tx, nowIso(), meta, a as unknown as CalendarEventInput, row.run_id);
      case 'updateContact':
        return inTx.crm.updateContact(meta, { email: String(a.email), addTags: (a.addTags as string[]) ?? [], appendNote: String(a.appendNote ?? ''), touchLastInteraction: a.touchLastInteraction !== false });
      default:
        throw new SwitchyardError('INVALID_STATE', `Cannot run a proposed "${row.tool}"`);
    }
  }

  /**
   * A workflow step waiting for a person to decide its agent's proposals. Woken by `decide` in this
   * process and by a poll for decisions made through another process; a restored step simply
   * asks again (the decisions are rows).
   */
  /** Wakes the steps waiting on any of these proposals. */
  const wakeWaiters = (decided: Set<string>) => {
    for (const [wake, ids] of [...approvalWaiters]) if (ids.some((id) => decided.has(id))) wake();
  };

  /**
   * Decisions made through another process: one query for every waiting step of this process,
   * every `approvalPollMs`, while any step waits (not one query per step).
   */
  function pollDecisions() {
    if (decisionPoll || stopped) return;
    decisionPoll = setInterval(() => {
      if (!approvalWaiters.size || stopped) {
        clearInterval(decisionPoll!);
        decisionPoll = null;
        return;
      }
      const ids = [...new Set([...approvalWaiters.values()].flat())];
      void sql<{ id: string }>(deps.em(), `select id from agent_approvals where id::text in (select jsonb_array_elements_text(?::jsonb)) and status <> 'pending'`, [ids])
        .then((rows) => wakeWaiters(new Set(rows.map((r) => r.id))))
        .catch((e: unknown) => deps.log?.error({ err: e }, 'reading proposal decisions failed'));
    }, deps.approvalPollMs ?? 2000);
    decisionPoll.unref();
  }

  /**
   * A workflow step waiting for a person to decide its agent's proposals. Woken by `decide` in this
   * process and by the shared poll for decisions made through another process; a restored step
   * simply asks again (the decisions are rows).
   */
  async function awaitApprovals(meta: EffectMeta, ids: string[], signal?: AbortSignal): Promise<AgentApprovalDecision[]> {
    events.emit('run', meta.runId);
    for (;;) {
      const rows = await sql<{ id: string; tool: string; status: 'pending' | 'approved' | 'rejected'; result: unknown }>(deps.em(),
        `select id, tool, status, result from agent_approvals where user_id = ? and id::text in (select jsonb_array_elements_text(?::jsonb))`, [meta.userId, ids]);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const missing = ids.find((id) => !byId.has(id));
      if (missing) throw new SwitchyardError('NOT_FOUND', `No proposal ${missing}`, { nonRetryable: true });
      const pending = rows.filter((r) => r.status === 'pending').map((r) => r.id);
      if (!pending.length) {
        return ids.map((id) => {
          const r = byId.get(id)!;
          return { id, tool: r.tool, status: r.status as AgentApprovalDecision['status'], result: r.result ?? null };
        });
      }
      // Stopping ends the wait only through the step's abort: the step must not fail because of it.
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          approvalWaiters.delete(done);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          done();
          reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
        };
        if (!stopped) {
          approvalWaiters.set(done, pending);
          pollDecisions();
        }
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** Claims what `ownership.adopt` offers, starts their actors and pulls their open requests. */
  async function adoptAgents() {
    const adopted = await ownership.adopt([...held.keys()]);
    if (!adopted.length) return;
    const epochs = new Map(adopted.map((a) => [a.id, a.epoch]));
    for (const agent of await store.byIds([...epochs.keys()])) spawn(agent, await pendingApprovals(agent.id), epochs.get(agent.id)!);
    await pull([...epochs.keys()]);
  }

  /** One lease check (see `start`). */
  async function tick() {
    if (stopped) return;
    const mine = [...held].map(([id, epoch]) => ({ id, epoch }));
    const still = await ownership.held(mine);
    for (const { id, epoch } of mine) {
      if (still.has(id) || held.get(id) !== epoch) continue;
      deps.log?.error({ agentId: id }, 'lost an agent to another process (or it was deleted); stopped it here');
      drop(id);
    }
    if (stopped) return;
    await adoptAgents();
    await pull([...held.keys()]);
  }

  const offlineChat = (agent: AgentRecord, _message: string, turns: number) => {
    const skills = agent.skills.flatMap((s) => registry.get(s) ?? []);
    const opener = turns === 0 ? `Hi, I'm ${agent.name}.${agent.description ? ` ${agent.description}.` : ''} ` : '';
    if (!skills.length) return `${opener}I have no skills yet: give me some in my settings, then ask me to use them. I am running on the offline model, so my answers are templates.`;
    const tries = skills.slice(0, 3).map((s) => `"${s.examples[0]?.description ?? s.name}"`).join(', ');
    return `${opener}I can ${skills.map((s) => s.name.toLowerCase()).join(', ')}. Ask me to do one of them, e.g. ${tries}, naming a contact or an email address. I am running on the offline model (no model is configured), so my answers are templates.`;
  };

  /**
   * The offline provider acting on a chat request: the agent's skill whose manifest matches the
   * request runs through the dispatcher (allow-list, approvals, ledger) like any other request.
   * Effect keys come from the question, so a request re-run after a crash keeps its effects once.
   */
  async function offlineAct(agent: AgentRecord, p: Extract<RequestPayload, { kind: 'chat' }>): Promise<{ text: string; action?: ChatAction } | null> {
    const skills = agent.skills.flatMap((id) => registry.get(id) ?? []);
    const match = matchSkill(p.message, skills);
    if (!match) return null;
    const { skill } = match;
    const email = firstEmail(p.message);
    const contact = await findNamedContact(agent.userId, p.message, email);
    const valid = registry.validate(skill.id, paramsFromRequest(p.message, skill, { contact, email }));
    if (!valid.ok) {
      const example = skill.examples[0]?.description;
      const needs = [...new Set(valid.issues.map((i) => String(i.path[0] ?? 'params')))];
      const who = needs.some((n) => ['contactId', 'to', 'email', 'address'].includes(n));
      return { text: `To ${skill.name.toLowerCase()} I need ${who ? 'a contact: name one of your contacts or give an email address' : `more to go on (${needs.join(', ')})`}.${example ? ` For example: "${example}".` : ''}` };
    }
    const seed = createHash('sha256').update(`chat|${p.conversationId}|${p.userMessageId}`).digest('hex');
    const runId = `${seed.slice(0, 8)}-${seed.slice(8, 12)}-4${seed.slice(13, 16)}-a${seed.slice(17, 20)}-${seed.slice(20, 32)}`;
    const result = await executeSkill(agent, {
      kind: 'skill', skill: skill.id, params: valid.params, grantEffects: false, fromRun: false, attempt: 0,
      meta: { runId, userId: agent.userId, nodeId: 'chat', nodeType: 'agent.chat', effectKey: `chat|${p.conversationId}|${p.userMessageId}` },
    });
    return {
      text: describeSkillRun(skill.name, result),
      action: { skill: skill.id, params: valid.params, success: result.success, output: result.output, pendingApprovals: result.pendingApprovals },
    };
  }

  /** The contact a request names: by email address, else by full or first name (whole words). */
  async function findNamedContact(userId: string, message: string, email: string | null) {
    if (email) return (await sqlOne<{ id: string; email: string }>(deps.em(), 'select id, email from contacts where user_id = ? and lower(email) = ?', [userId, email])) ?? null;
    const rows = await sql<{ id: string; email: string; name: string }>(deps.em(),
      `select id, email, name from contacts where user_id = ? and position(lower(split_part(trim(name), ' ', 1)) in lower(?)) > 0 order by updated_at desc nulls last limit 50`, [userId, message]);
    const words = new Set(message.toLowerCase().split(/[^\p{L}\p{N}'-]+/u));
    const full = rows.find((r) => message.toLowerCase().includes(r.name.toLowerCase().trim()));
    const first = rows.find((r) => { const f = r.name.toLowerCase().trim().split(/\s+/)[0] ?? ''; return f.length >= 3 && words.has(f); });
    const hit = full ?? first;
    return hit ? { id: hit.id, email: hit.email } : null;
  }

  const fullPrompt = async (agent: AgentRecord) => [agent.systemPrompt, await memory.contextPrompt(agent.id, agent.personality)].filter(Boolean).join('\n\n');

  const service = {
    registry,
    store,
    memory,
    llm,
    list: (userId: string) => store.list(userId).then((as) => as.map((a) => ({ ...a, state: actors.has(a.id) ? stateOf(actors.get(a.id)!) : a.state }))),
    /** `agents.list`: a page of the user's agents, oldest first, with their live state. */
    async listPage(userId: string, page: { limit?: number; cursor?: string } = {}) {
      const { items, nextCursor } = await store.page(userId, page);
      return { items: items.map((a) => ({ ...a, state: actors.has(a.id) ? stateOf(actors.get(a.id)!) : a.state })), nextCursor };
    },
    async get(userId: string, agentId: string) {
      const agent = await store.get(userId, agentId);
      return {
        ...agent,
        state: actors.has(agent.id) ? stateOf(actors.get(agent.id)!) : agent.state,
        personalityPrompt: personalityPrompt(agent.personality),
        systemPromptFull: await fullPrompt(agent),
        pendingApprovals: await pendingApprovals(agent.id),
        model: { name: llm.model, offline: llm.offline },
      };
    },
    async create(userId: string, input: AgentCreate) {
      const agent = await store.create(userId, input);
      const epoch = await ownership.claim(agent.id, adoptAll);
      if (epoch !== null) spawn(agent, 0, epoch);
      return agent;
    },
    update: (userId: string, input: AgentUpdate) => store.update(userId, input),
    async remove(userId: string, agentId: string) {
      const agent = await store.get(userId, agentId);
      await store.remove(userId, agentId);
      const actor = actors.get(agentId);
      const last: AgentLive = { ...(actor ? liveOf(agent, actor) : await storedLive(agent)), deleted: true };
      events.emit('agent', last);
      // The owner (if another process) stops its actor; every process's watchers see the deletion.
      tell({ t: 'live', from: instance, live: { ...last, lastError: last.lastError?.slice(0, 1000) ?? null } });
      drop(agentId);
      return { id: agentId, deleted: true as const };
    },
    async remember(userId: string, agentId: string, key: string, value: unknown, ttlSeconds?: number) {
      const agent = await store.get(userId, agentId);
      await memory.remember(agent.id, key, value, ttlSeconds);
      return { key };
    },
    async recall(userId: string, agentId: string, key: string) {
      const agent = await store.get(userId, agentId);
      return { key, value: await memory.recall(agent.id, key) };
    },
    async forget(userId: string, agentId: string, key: string) {
      const agent = await store.get(userId, agentId);
      await memory.forget(agent.id, key);
      return { key };
    },
    /**
     * The memory inspector: the first page of entries with expiry (`entriesNextCursor` continues
     * them through `memoryEntries`), recent interactions, the active conversation, pending approvals.
     */
    async memoryView(userId: string, agentId: string, opts: { prefix?: string; entityType?: string; entityId?: string; limit?: number } = {}) {
      const agent = await store.get(userId, agentId);
      const conversation = await sqlOne<{ id: string }>(deps.em(), 'select id from conversations where agent_id = ? and active order by updated_at desc limit 1', [agent.id]);
      const approvals = await sql<{ id: string; tool: string; args: { args: unknown }; reason: string; created_at: unknown; run_id: string | null; node_id: string | null }>(deps.em(),
        `select id, tool, args, reason, created_at, run_id, node_id from agent_approvals where agent_id = ? and status = 'pending' order by created_at`, [agent.id]);
      const entries = await memory.entries(agent.id, { ...(opts.prefix ? { prefix: opts.prefix } : {}), ...(opts.limit ? { limit: opts.limit } : {}) });
      return {
        entries: entries.items,
        entriesNextCursor: entries.nextCursor,
        interactions: opts.entityType && opts.entityId ? await memory.entityContext(agent.id, opts.entityType, opts.entityId) : await memory.recentInteractions(agent.id, 50),
        conversation: conversation ? { id: conversation.id, messages: await memory.history(conversation.id, 50) } : null,
        approvals: approvals.map((a) => ({
          ...proposalOf(a.tool, a.args.args), id: a.id, reason: a.reason, createdAt: new Date(String(a.created_at)).toISOString(), runId: a.run_id, nodeId: a.node_id,
        })),
      };
    },
    /** Evolves the traits from feedback (seed days 8-9), persisted; returns the new traits and prompt. */
    /** One page of an agent's live memory entries in key order (`agents.memoryEntries`). */
    async memoryEntries(userId: string, agentId: string, page: { prefix?: string; limit?: number; cursor?: string } = {}) {
      const agent = await store.get(userId, agentId);
      return memory.entries(agent.id, page);
    },
    async feedback(userId: string, agentId: string, feedback: FeedbackType[], comment = '', messageId?: number) {
      const agent = await store.get(userId, agentId);
      if (messageId !== undefined) await memory.addFeedback(agent.id, userId, messageId, feedback);
      const personality: Personality = await store.applyFeedback(userId, agentId, feedback);
      await memory.addInteraction(agentId, 'agent', agentId, {
        type: 'feedback', summary: `Feedback: ${feedback.join(', ')}`, feedback, comment, ...(messageId === undefined ? {} : { messageId }),
      });
      return { personality, personalityPrompt: personalityPrompt(personality) };
    },
    /**
     * Chat with the agent: its system prompt, personality and the conversation's history (oldest
     * first). The person's message is stored at once; the answer comes through the mailbox.
     */
    async chat(userId: string, agentId: string, message: string, retryOf?: number) {
      const agent = await store.get(userId, agentId);
      // The question and its request are stored together: a crash never leaves a question that
      // nobody will answer (or a retried one hidden and never asked again).
      const { conversationId, requestId } = await deps.em().transactional(async (tx) => {
        // Asking a failed question again: the failed one is hidden, the question is asked anew.
        if (retryOf !== undefined && !(await memory.setMessageStatus(retryOf, 'retried', { agentId: agent.id, userId }, tx))) {
          throw new SwitchyardError('NOT_FOUND', 'No failed question to retry');
        }
        const conversationId = await memory.activeConversation(agent.id, userId, tx);
        const userMessageId = await memory.addMessage(conversationId, 'user', message, null, tx);
        if (deps.crashInChat === 'after-question') process.kill(process.pid, 'SIGKILL');
        return { conversationId, requestId: (await queueRequest(agent, { kind: 'chat', message, conversationId, userMessageId }, null, tx)).id };
      });
      const r = await outcomeOf<ChatTurn>(agent, requestId, false);
      return { ...r, offline: llm.offline, messages: await memory.history(conversationId, 50) };
    },
    /**
     * A person's decision on an effect the agent proposed after reading untrusted content. Approving
     * runs it through the effect ledger keyed by the approval, so it happens at most once.
     */
    async decide(userId: string, agentId: string, approvalId: string, decision: 'approve' | 'reject', comment = '') {
      const agent = await store.get(userId, agentId);
      const row = /^[0-9a-f-]{36}$/i.test(approvalId)
        ? await sqlOne<{ id: string; tool: string; args: { args: Record<string, unknown> }; status: string; run_id: string | null }>(deps.em(),
          'select id, tool, args, status, run_id from agent_approvals where id = ? and agent_id = ? and user_id = ?', [approvalId, agent.id, userId])
        : null;
      if (!row) throw new SwitchyardError('NOT_FOUND', 'No such approval');
      if (row.status !== 'pending') throw new SwitchyardError('INVALID_STATE', `This proposal was already ${row.status}`);
      // Claiming the decision, performing the effect and storing its result are one transaction:
      // a crash anywhere leaves the proposal pending with no effect, or decided with its effect and
      // result, never approved without a result. The claim's row lock makes two deciders take turns.
      const status = decision === 'approve' ? 'approved' : 'rejected';
      const result = await deps.em().transactional(async (tx) => {
        const claimed = await sql(tx, `update agent_approvals set status = ?, decided_at = ? where id = ? and status = 'pending' returning id`, [status, nowIso(), row.id]);
        if (!claimed.length) throw new SwitchyardError('INVALID_STATE', 'This proposal was decided meanwhile');
        crashAt('after-claim');
        if (decision !== 'approve') return null;
        const r = await runApproved(tx, row, userId);
        crashAt('after-effect');
        await sql(tx, 'update agent_approvals set result = ? where id = ?', [JSON.stringify(r), row.id]);
        return r;
      });
      crashAt('after-commit');
      await memory.addInteraction(agent.id, 'approval', row.id, { type: 'approval', summary: `${status} ${row.tool}`, comment });
      if (held.has(agent.id)) await recountApprovals(agent.id);
      wakeWaiters(new Set([row.id]));
      // The agent's owner re-counts; steps waiting in any process wake at once (not at their next poll).
      tell({ t: 'decided', agentId: agent.id, ids: [row.id], from: instance });
      if (row.run_id) events.emit('run', row.run_id);
      return { id: row.id, tool: row.tool, status, result };
    },
    runSkill,
    /**
     * Diagnostics for a flow's `agent.runSkill` nodes against the caller's agents (unknown agent,
     * missing skill, required tools not allowed, paused). For `flows.validate` / `flows.deploy`
     * to add to the compiler's diagnostics: the compiler is pure and cannot see agents.
     */
    flowDiagnostics: (userId: string, document: unknown) => agentNodeDiagnostics(document, {
      agent: async (id) => (/^[0-9a-f-]{36}$/i.test(id) ? store.find(userId, id) : null),
      skill: (id) => registry.get(id) ?? null,
    }),
    /** The port `agent.runSkill` workflow nodes use. */
    port: {
      runSkill: (meta, r) => runSkill(meta.userId, r.agentId, r.skill, r.params, { meta, grantEffects: r.grantEffects, trigger: r.trigger, attempt: r.attempt ?? 0 }),
      awaitApprovals,
    } satisfies AgentsPort,
    /** The live state of one agent, or of all the user's agents (what `agents.watch` starts with). */
    async live(userId: string, agentId?: string): Promise<AgentLive[]> {
      const agents = agentId ? [await store.get(userId, agentId)] : await store.list(userId);
      return Promise.all(agents.map(async (a) => (actors.has(a.id) ? liveOf(a, actors.get(a.id)!) : storedLive(a))));
    },
    events,
    /**
     * Takes the agents this process should own (ownership.ts `adopt`: on the embedded database all
     * of them; otherwise those with open requests nobody live holds), rehydrates one actor each
     * (its state and pending approvals) and puts their open requests into its mailbox, oldest
     * first, whoever queued them. Then keeps checking every third of the lease: agents lost to
     * another process stop here, agents whose owner died are adopted, requests queued through
     * other processes are pulled (NOTIFY pulls them sooner).
     */
    async start() {
      stopped = false;
      await ownership.register();
      await listener?.start();
      // Agents start before the host: a crashed predecessor's lease is void here too, so its agents
      // (and their queued requests) are adopted now, not a lease check (a third of the lease) later.
      if (!adoptAll) await voidDeadLeases(deps.em()).catch((e: unknown) => deps.log?.error({ err: e }, 'could not void the leases of crashed processes'));
      await adoptAgents();
      const every = Math.max(250, Math.floor((deps.lease?.leaseMs ?? 30_000) / 3));
      leaseTimer = setInterval(() => void tick().catch((e: unknown) => deps.log?.error({ err: e }, 'agent lease check failed')), every);
      leaseTimer.unref();
    },
    async stop() {
      stopped = true;
      events.emit('stop');
      if (decisionPoll) clearInterval(decisionPoll);
      decisionPoll = null;
      if (leaseTimer) clearInterval(leaseTimer);
      leaseTimer = null;
      if (requestPoll) clearInterval(requestPoll);
      requestPoll = null;
      await listener?.stop();
      // Requests still queued stay queued in the database and run after the restart. A person
      // waiting is told so; a workflow step is not failed (its restored run asks again).
      const stopping = new SwitchyardError('INTERNAL', 'The runtime is stopping; the request stays queued and runs when it starts again');
      for (const ws of waiters.values()) for (const w of ws) if (!w.fromRun) w.reject(stopping);
      waiters.clear();
      await Promise.all(persisting.values());
      for (const a of actors.values()) a.stop();
      actors.clear();
      held.clear();
      // Given up at once: another process takes the agents (and their open requests) on its next check.
      await ownership.release().catch((e: unknown) => deps.log?.error({ err: e }, 'could not release the agents on stop'));
    },
    /** The agents this process owns now (tests, monitoring). */
    owned: () => [...held.keys()],
    stateOf: (agentId: string) => (actors.has(agentId) ? stateOf(actors.get(agentId)!) : null),
  };
  return service;
}
export type AgentsService = ReturnType<typeof createAgentsService>;
