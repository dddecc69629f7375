import type { EntityManager } from '@mikro-orm/postgresql';
import type { CompiledMachine } from '@switchyard/actors';
import { nodeStatesOf } from '@switchyard/actors';
import { sql } from '../host/db';
import { journalValue } from './journal';
import { decodeTimeCursor, encodeTimeCursor } from '../host/time-cursor';

/**
 * The live actors of a user, read from the database so every runtime process sees the same list:
 * active runs (running or waiting, whoever owns them) and agents. What a run waits on is derived
 * from its newest stored snapshot (its active nodes), its pending timers, pending agent proposals
 * and open agent requests; ownership from `runs.owner` and the owner's lease in `runtime_instances`.
 */

export type WaitsOn =
  | { type: 'delay'; nodeId: string; until: string; retry: boolean }
  | { type: 'approval'; nodeId: string }
  | { type: 'agent'; nodeId: string | null; agentId: string; agentName: string; approval: boolean }
  | { type: 'step'; nodeId: string; nodeType: string | null };

export interface RunActor {
  kind: 'run';
  id: string;
  flowKind: string;
  docId: string;
  flowName: string;
  flowVersion: number;
  status: 'running' | 'waiting';
  waitsOn: WaitsOn[];
  activeNodes: string[];
  owner: string | null;
  ownerAlive: boolean;
  leaseUntil: string | null;
  triggerType: string | null;
  /** Commands (approve, reject, cancel) sent through another process, not yet applied by the owner. */
  queueDepth: number;
  startedAt: string;
  updatedAt: string;
  ageMs: number;
  lastError: { nodeId?: string; code: string; message: string } | null;
}

export interface AgentActor {
  kind: 'agent';
  id: string;
  name: string;
  active: boolean;
  /** working: a request runs; waiting_approval: a proposal waits for a person; error: the last request failed. */
  status: 'idle' | 'working' | 'waiting_approval' | 'error';
  currentRequest: { id: string; kind: string; skill: string | null; runId: string | null; nodeId: string | null; startedAt: string | null; owner: string | null } | null;
  /** Requests queued or running (the persisted mailbox). */
  mailboxDepth: number;
  pendingApprovals: number;
  owner: string | null;
  ownerAlive: boolean;
  lastError: string | null;
  updatedAt: string;
  ageMs: number;
}

/** A multi-agent plan run (plans.*): its steps run through the agents' mailboxes. */
export interface PlanActor {
  kind: 'plan';
  id: string;
  docId: string;
  name: string;
  status: 'running';
  steps: { total: number; done: number; running: number; failed: number };
  /** Steps at work now, with the agent each waits on. */
  waitsOn: { step: string; agentId: string | null; agentName: string | null; skill: string }[];
  owner: string | null;
  ownerAlive: boolean;
  cancelRequested: boolean;
  startedAt: string;
  ageMs: number;
}

export type Actor = RunActor | AgentActor | PlanActor;

export interface ProcessInfo {
  id: string;
  leaseUntil: string;
  startedAt: string;
  alive: boolean;
  runs: number;
  agentRequests: number;
}

export interface ActorFilters {
  kind?: 'run' | 'agent' | 'plan' | undefined;
  /** run: running / waiting; agent: idle / working / waiting_approval / error. */
  status?: string | undefined;
  docId?: string | undefined;
  flowKind?: string | undefined;
  owner?: string | undefined;
  /** Run waits on this kind of thing. */
  waitsOn?: WaitsOn['type'] | undefined;
  /** Case-insensitive text in the flow's or agent's name or the id. */
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

interface Deps {
  em: EntityManager;
  now: number;
  compiledFor: (flowId: string, version: number) => Promise<CompiledMachine>;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

interface RunActorRow {
  id: string;
  flow_id: string;
  flow_kind: string;
  doc_id: string;
  flow_name: string;
  flow_version: number;
  status: 'running' | 'waiting';
  value: unknown;
  owner: string | null;
  lease_until: Date | null;
  owner_alive: boolean;
  trigger_type: string | null;
  queue_depth: number | string;
  started_at: Date;
  updated_at: Date;
  cursor_at: string;
  error: RunActor['lastError'];
  timers: { key: string; due_at: string }[] | null;
  agent_waits: { agent_id: string; agent_name: string; node_id: string | null; approval: boolean }[] | null;
}

async function runActors(deps: Deps, userId: string, f: ActorFilters): Promise<{ items: RunActor[]; nextCursor: string | null }> {
  const after = f.cursor ? decodeTimeCursor(f.cursor) : null;
  const q = f.q ? `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  // A `waitsOn` filter is applied after the wait is derived: read more rows and cut after.
  const scan = f.waitsOn ? Math.max(f.limit * 10, 500) : f.limit + 1;
  // Newest state value: the journal's latest, or the run row's when that is newer (as runs.get).
  const value = await journalValue(deps.em, 'j');
  const rows = await sql<RunActorRow>(deps.em,
    `select r.id, r.flow_id, f.kind as flow_kind, f.doc_id, f.name as flow_name, r.flow_version, r.status, r.owner, i.lease_until, coalesce(i.lease_until >= now(), false) as owner_alive,
            r.trigger->>'type' as trigger_type, r.started_at, r.updated_at, r.started_at::text as cursor_at, r.error,
            case when lj.j_seq > r.snapshot_version then lj.j_value else r.snapshot->'value' end as value
       from runs r
       join flows f on f.id = r.flow_id
       left join runtime_instances i on i.id = r.owner
       left join lateral (
         select ${value} as j_value, j.seq as j_seq from run_journal j
          where j.run_id = r.id and ${value} is not null order by j.seq desc limit 1) lj on true
      where r.user_id = ? and r.status in ('running', 'waiting')
        and (?::text is null or r.status = ?)
        and (?::text is null or f.doc_id = ?)
        and (?::text is null or f.kind = ?)
        and (?::text is null or r.owner = ?)
        and (?::text is null or f.name ilike ? or r.id::text ilike ?)
        and (?::timestamptz is null or (r.started_at, r.id) < (?::timestamptz, ?::uuid))
      order by r.started_at desc, r.id desc
      limit ?`,
    [userId, f.status ?? null, f.status ?? null, f.docId ?? null, f.docId ?? null, f.flowKind ?? null, f.flowKind ?? null,
      f.owner ?? null, f.owner ?? null, q, q, q, after?.at ?? null, after?.at ?? null, after?.id ?? null, scan]);
  // What the page's runs wait on and their queued commands: one query each for the whole page
  // (per-row subqueries cost a lookup per run and kind; bench: monitor).
  const ids = `{${rows.map((r) => r.id).join(',')}}`;
  if (rows.length) {
    const [depths, timers, waits] = [
      await sql<{ run_id: string; n: string }>(deps.em,
        'select run_id, count(*) as n from run_commands where run_id = any(?::uuid[]) and applied_at is null group by run_id', [ids]),
      await sql<{ run_id: string; key: string; due_at: string }>(deps.em,
        'select run_id, key, due_at from timers where run_id = any(?::uuid[]) and fired_at is null order by due_at', [ids]),
      await sql<{ run_id: string; agent_id: string; agent_name: string; node_id: string | null; approval: boolean }>(deps.em,
        `select p.run_id::text as run_id, p.agent_id, a.name as agent_name, p.node_id, true as approval from agent_approvals p join agents a on a.id = p.agent_id
          where p.run_id = any(?::uuid[]) and p.status = 'pending'
         union all
         select q.payload->'meta'->>'runId', q.agent_id, a.name, q.payload->'meta'->>'nodeId', false from agent_requests q join agents a on a.id = q.agent_id
          where q.user_id = ? and q.status in ('queued', 'running') and q.payload->'meta'->>'runId' = any(?::text[])`, [ids, userId, ids]),
    ];
    const depth = new Map(depths.map((d) => [d.run_id, Number(d.n)]));
    const byRun = <T extends { run_id: string }>(xs: T[]) => {
      const m = new Map<string, T[]>();
      for (const x of xs) m.set(x.run_id, [...(m.get(x.run_id) ?? []), x]);
      return m;
    };
    const timersOf = byRun(timers);
    const waitsOf = byRun(waits);
    for (const r of rows) {
      r.queue_depth = depth.get(r.id) ?? 0;
      r.timers = timersOf.get(r.id)?.map((t) => ({ key: t.key, due_at: t.due_at })) ?? null;
      r.agent_waits = waitsOf.get(r.id) ?? null;
    }
  }

  const items: (RunActor & { cursorAt: string })[] = [];
  for (const r of rows) {
    const compiled = await deps.compiledFor(r.flow_id, r.flow_version).catch(() => null);
    const active = Object.entries(nodeStatesOf(r.value)).filter(([, s]) => s === 'running' || s === 'retrying').map(([id]) => id);
    const waitsOn: WaitsOn[] = [];
    const agentWaits = r.agent_waits ?? [];
    for (const nodeId of active) {
      const type = compiled?.nodes[nodeId]?.type ?? null;
      const agent = agentWaits.filter((a) => a.node_id === nodeId);
      // Timer keys start with the node id (`<node>`, `<node>#<activation>`, `<node>:retry:<n>`): a pending one is the wait.
      const timer = (r.timers ?? []).find((t) => t.key === nodeId || t.key.startsWith(`${nodeId}#`) || t.key.startsWith(`${nodeId}:`));
      if (timer) {
        waitsOn.push({ type: 'delay', nodeId, until: iso(timer.due_at)!, retry: timer.key.includes(':retry') });
      } else if (type === 'flow.approval') waitsOn.push({ type: 'approval', nodeId });
      else if (agent.length) {
        const a = agent.find((x) => x.approval) ?? agent[0]!;
        waitsOn.push({ type: 'agent', nodeId, agentId: a.agent_id, agentName: a.agent_name, approval: a.approval });
      } else waitsOn.push({ type: 'step', nodeId, nodeType: type });
    }
    if (f.waitsOn && !waitsOn.some((w) => w.type === f.waitsOn)) continue;
    const hasApproval = waitsOn.some((w) => w.type === 'approval' || (w.type === 'agent' && w.approval));
    const leaseUntil = iso(r.lease_until);
    items.push({
      kind: 'run', id: r.id, flowKind: r.flow_kind, docId: r.doc_id, flowName: r.flow_name, flowVersion: r.flow_version,
      status: r.status === 'running' && hasApproval ? 'waiting' : r.status,
      waitsOn, activeNodes: active,
      owner: r.owner, ownerAlive: r.owner_alive, leaseUntil,
      triggerType: r.trigger_type, queueDepth: Number(r.queue_depth),
      startedAt: iso(r.started_at)!, updatedAt: iso(r.updated_at)!, ageMs: Math.max(0, deps.now - new Date(r.started_at).getTime()),
      lastError: r.error, cursorAt: r.cursor_at,
    });
    if (items.length > f.limit) break;
  }
  const end = items.length > f.limit ? items[f.limit - 1] : undefined;
  // A filtered scan that read all its rows without filling the page has not seen the older runs:
  // the page goes on after the last row read (it may hold fewer items than the limit).
  const lastRead = !end && f.waitsOn && rows.length === scan ? rows[rows.length - 1] : undefined;
  return {
    items: items.slice(0, f.limit).map(({ cursorAt: _c, ...a }) => a),
    nextCursor: end ? encodeTimeCursor(end.cursorAt, end.id) : lastRead ? encodeTimeCursor(lastRead.cursor_at, lastRead.id) : null,
  };
}

interface AgentActorRow {
  id: string;
  name: string;
  active: boolean;
  state: AgentActor['status'];
  last_error: string | null;
  updated_at: Date;
  mailbox: number | string;
  approvals: number | string;
  cur_id: string | null;
  cur_kind: string | null;
  cur_skill: string | null;
  cur_run: string | null;
  cur_node: string | null;
  cur_started: Date | null;
  cur_owner: string | null;
  cur_alive: boolean;
  last_status: string | null;
  last_failure: string | null;
}

async function agentActors(deps: Deps, userId: string, f: ActorFilters): Promise<AgentActor[]> {
  const q = f.q ? `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const rows = await sql<AgentActorRow>(deps.em,
    `select a.id, a.name, a.active, a.state, a.last_error, a.updated_at,
            (select count(*) from agent_requests q where q.agent_id = a.id and q.status in ('queued', 'running')) as mailbox,
            (select count(*) from agent_approvals p where p.agent_id = a.id and p.status = 'pending') as approvals,
            cur.id as cur_id, cur.kind as cur_kind, cur.payload->>'skill' as cur_skill, cur.payload->'meta'->>'runId' as cur_run,
            cur.payload->'meta'->>'nodeId' as cur_node, cur.started_at as cur_started, cur.owner as cur_owner, coalesce(i.lease_until >= now(), false) as cur_alive,
            last.status as last_status, last.error->>'message' as last_failure
       from agents a
       left join lateral (
         select q.* from agent_requests q where q.agent_id = a.id and q.status in ('queued', 'running')
          order by (q.status = 'running') desc, q.created_at, q.id limit 1) cur on true
       left join runtime_instances i on i.id = cur.owner
       left join lateral (
         select q.status, q.error from agent_requests q where q.agent_id = a.id and q.status in ('done', 'failed')
          order by q.finished_at desc nulls last, q.created_at desc limit 1) last on true
      where a.user_id = ? and a.deleted_at is null
        and (?::text is null or a.name ilike ? or a.id::text ilike ?)
      order by a.created_at, a.id`,
    [userId, q, q, q]);
  const out: AgentActor[] = [];
  for (const r of rows) {
    const approvals = Number(r.approvals);
    const running = r.cur_id !== null;
    // The database's facts first (any process may hold the request); the stored actor state as a fallback.
    const status: AgentActor['status'] = approvals > 0 ? 'waiting_approval' : running ? 'working' : r.last_status === 'failed' ? 'error' : r.state === 'error' ? 'error' : 'idle';
    const lastError = r.last_status === 'failed' ? r.last_failure : r.last_error;
    const since = r.cur_started ?? r.updated_at;
    const a: AgentActor = {
      kind: 'agent', id: r.id, name: r.name, active: r.active, status,
      currentRequest: running
        ? { id: r.cur_id!, kind: r.cur_kind!, skill: r.cur_skill, runId: r.cur_run, nodeId: r.cur_node, startedAt: iso(r.cur_started), owner: r.cur_owner }
        : null,
      mailboxDepth: Number(r.mailbox), pendingApprovals: approvals,
      owner: r.cur_owner, ownerAlive: r.cur_alive,
      lastError, updatedAt: iso(r.updated_at)!, ageMs: Math.max(0, deps.now - new Date(since).getTime()),
    };
    if (f.status && a.status !== f.status) continue;
    if (f.owner && a.owner !== f.owner) continue;
    out.push(a);
  }
  return out;
}

async function planActors(deps: Deps, userId: string, f: ActorFilters): Promise<PlanActor[]> {
  const [t] = await sql<{ t: string | null }>(deps.em, `select to_regclass('plan_runs')::text as t`);
  if (!t?.t) return [];
  const q = f.q ? `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const rows = await sql<{
    id: string; doc_id: string; name: string; owner: string | null; alive: boolean; cancel_requested: boolean; started_at: Date;
    total: string; done: string; running: string; failed: string;
    at_work: { step: string; agent_id: string | null; agent_name: string | null; skill: string }[] | null;
  }>(deps.em,
    `select p.id, p.doc_id, p.name, p.owner, coalesce(i.lease_until >= now(), false) as alive, p.cancel_requested, p.started_at,
            (select count(*) from plan_steps s where s.run_id = p.id) as total,
            (select count(*) from plan_steps s where s.run_id = p.id and s.status = 'done') as done,
            (select count(*) from plan_steps s where s.run_id = p.id and s.status = 'running') as running,
            (select count(*) from plan_steps s where s.run_id = p.id and s.status = 'failed') as failed,
            (select json_agg(json_build_object('step', s.name, 'agent_id', s.agent_id, 'agent_name', a.name, 'skill', s.skill) order by s.started_at)
               from plan_steps s left join agents a on a.id = s.agent_id where s.run_id = p.id and s.status = 'running') as at_work
       from plan_runs p left join runtime_instances i on i.id = p.owner
      where p.user_id = ? and p.status = 'running'
        and (?::text is null or p.doc_id = ?)
        and (?::text is null or p.owner = ?)
        and (?::text is null or p.name ilike ? or p.id::text ilike ?)
      order by p.started_at desc, p.id desc limit ?`,
    [userId, f.docId ?? null, f.docId ?? null, f.owner ?? null, f.owner ?? null, q, q, q, f.limit]);
  return rows.map((r) => ({
    kind: 'plan', id: r.id, docId: r.doc_id, name: r.name, status: 'running',
    steps: { total: Number(r.total), done: Number(r.done), running: Number(r.running), failed: Number(r.failed) },
    waitsOn: (r.at_work ?? []).map((w) => ({ step: w.step, agentId: w.agent_id, agentName: w.agent_name, skill: w.skill })),
    owner: r.owner, ownerAlive: r.alive, cancelRequested: r.cancel_requested,
    startedAt: iso(r.started_at)!, ageMs: Math.max(0, deps.now - new Date(r.started_at).getTime()),
  }));
}

/** The processes sharing the database, with what each holds. Not per user: process ids are not user data. */
export async function processes(em: EntityManager): Promise<ProcessInfo[]> {
  const rows = await sql<{ id: string; lease_until: Date; started_at: Date; alive: boolean; runs: string; requests: string }>(em,
    `select i.id, i.lease_until, i.started_at, i.lease_until >= now() as alive,
            (select count(*) from runs r where r.owner = i.id and r.status in ('running', 'waiting')) as runs,
            (select count(*) from agent_requests q where q.owner = i.id and q.status in ('queued', 'running')) as requests
       from runtime_instances i order by i.started_at, i.id`);
  return rows.map((r) => ({
    id: r.id, leaseUntil: iso(r.lease_until)!, startedAt: iso(r.started_at)!, alive: r.alive,
    runs: Number(r.runs), agentRequests: Number(r.requests),
  }));
}

/**
 * One page of live actors. Agents (few per user) come whole on the first page, before the runs;
 * runs are paged newest first with `nextCursor`.
 */
export async function listActors(deps: Deps, userId: string, f: ActorFilters) {
  const runStatus = f.status === 'running' || f.status === 'waiting';
  const wantAgents = (f.kind === undefined || f.kind === 'agent') && !f.cursor && !f.docId && !f.flowKind && !f.waitsOn && !runStatus;
  const wantRuns = (f.kind === undefined || f.kind === 'run') && (!f.status || runStatus);
  // Plans are few and short-lived: all running ones on the first page, like agents.
  const wantPlans = (f.kind === undefined || f.kind === 'plan') && !f.cursor && !f.flowKind && !f.waitsOn && (!f.status || f.status === 'running');
  const agents = wantAgents ? await agentActors(deps, userId, f) : [];
  const plans = wantPlans ? await planActors(deps, userId, f) : [];
  const runs = wantRuns ? await runActors(deps, userId, f) : { items: [], nextCursor: null };
  // A running run whose agent step waits on a person's decision counts as waiting, as its row says.
  const [totals] = await sql<{ running: string; waiting: string; agents: string }>(deps.em,
    `select count(*) filter (where r.status = 'running' and p.run_id is null) as running,
            count(*) filter (where r.status = 'waiting' or p.run_id is not null) as waiting,
            (select count(*) from agents where user_id = ? and deleted_at is null) as agents
       from runs r left join (select distinct run_id from agent_approvals where user_id = ? and status = 'pending') p on p.run_id = r.id
      where r.user_id = ? and r.status in ('running', 'waiting')`, [userId, userId, userId]);
  return {
    items: [...agents, ...plans, ...runs.items] as Actor[],
    nextCursor: runs.nextCursor,
    totals: { running: Number(totals?.running ?? 0), waiting: Number(totals?.waiting ?? 0), agents: Number(totals?.agents ?? 0) },
    processes: await processes(deps.em),
    at: new Date(deps.now).toISOString(),
  };
}
export type ActorsPage = Awaited<ReturnType<typeof listActors>>;
