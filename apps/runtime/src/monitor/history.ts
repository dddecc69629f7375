import type { EntityManager } from '@mikro-orm/postgresql';
import type { CompiledMachine, NodeResult } from '@switchyard/actors';
import { nodeStatesOf } from '@switchyard/actors';
import { SwitchyardError } from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import { journalValue } from './journal';
import { decodeTimeCursor, encodeTimeCursor } from '../host/time-cursor';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export interface HistoryFilters {
  docId?: string | undefined;
  flowKind?: string | undefined;
  status?: string | undefined;
  trigger?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** A running run whose agent step waits on a person's decision reads 'waiting', as in runs.get and runs.list. SQL over `runs r`. */
const STATUS = `case when r.status = 'running' and exists (select 1 from agent_approvals p where p.run_id = r.id and p.status = 'pending')
                     then 'waiting' else r.status end`;

/** Every run of the user (finished or not), newest first, with per-run counts for the history table. */
export async function runHistory(em: EntityManager, userId: string, f: HistoryFilters) {
  const after = f.cursor ? decodeTimeCursor(f.cursor) : null;
  const rows = await sql<{
    id: string; doc_id: string; flow_name: string; flow_kind: string; flow_version: number; status: string; reason: string | null;
    error: { nodeId?: string; code: string; message: string } | null; trigger_type: string | null; started_at: Date; finished_at: Date | null;
    updated_at: Date; cursor_at: string; steps: string; model_calls: string; effects: string; replay_of: string | null; replay_from: string | null;
  }>(em,
    `select r.id, f.doc_id, f.name as flow_name, f.kind as flow_kind, r.flow_version, ${STATUS} as status, r.reason, r.error, r.trigger->>'type' as trigger_type,
            r.replay_of, r.replay_from,
            r.started_at, r.finished_at, r.updated_at, r.started_at::text as cursor_at,
            (select count(*) from run_journal j where j.run_id = r.id) as steps,
            (select count(*) from llm_calls c where c.run_id = r.id) as model_calls,
            (select count(*) from effects e where e.run_id = r.id) as effects
       from runs r join flows f on f.id = r.flow_id
      where r.user_id = ?
        and (?::text is null or f.doc_id = ?)
        and (?::text is null or f.kind = ?)
        and (?::text is null or ${STATUS} = ?)
        and (?::text is null or r.trigger->>'type' = ?)
        and (?::timestamptz is null or r.started_at >= ?::timestamptz)
        and (?::timestamptz is null or r.started_at < ?::timestamptz)
        and (?::timestamptz is null or (r.started_at, r.id) < (?::timestamptz, ?::uuid))
      order by r.started_at desc, r.id desc
      limit ?`,
    [userId, f.docId ?? null, f.docId ?? null, f.flowKind ?? null, f.flowKind ?? null, f.status ?? null, f.status ?? null,
      f.trigger ?? null, f.trigger ?? null, f.from ?? null, f.from ?? null, f.to ?? null, f.to ?? null,
      after?.at ?? null, after?.at ?? null, after?.id ?? null, f.limit + 1]);
  const end = rows.length > f.limit ? rows[f.limit - 1] : undefined;
  return {
    nextCursor: end ? encodeTimeCursor(end.cursor_at, end.id) : null,
    items: rows.slice(0, f.limit).map((r) => ({
      id: r.id, docId: r.doc_id, flowName: r.flow_name, flowKind: r.flow_kind, flowVersion: r.flow_version, status: r.status,
      reason: r.reason, error: r.error, triggerType: r.trigger_type,
      startedAt: iso(r.started_at)!, finishedAt: iso(r.finished_at), updatedAt: iso(r.updated_at)!,
      durationMs: r.finished_at ? new Date(r.finished_at).getTime() - new Date(r.started_at).getTime() : null,
      steps: Number(r.steps), modelCalls: Number(r.model_calls), effects: Number(r.effects),
      replayOf: r.replay_of ? { runId: r.replay_of, fromNodeId: r.replay_from ?? '' } : null,
    })),
  };
}

/** One activation of a node: from the first stored step where it was active to the first where it was not. */
export interface Span {
  nodeId: string;
  nodeType: string | null;
  label: string | null;
  activation: number;
  startedAt: string;
  endedAt: string | null;
  status: string;
  attempts: number;
  /** Time spent waiting (a delay, an approval, an agent's proposal) or in retry backoff. */
  waits: { kind: 'delay' | 'approval' | 'retry' | 'agent'; from: string; to: string | null; until: string | null }[];
  /** The node's configured parameters (from the flow version the run pinned). */
  params: unknown;
  /** What the step was asked (an approval's rendered request, an agent request's parameters). */
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  reason: string | null;
  effects: { key: string; kind: string; record: { type: string; id: string } | null; at: string }[];
  modelCalls: ModelCall[];
  /** A replay's step that kept the replayed run's recorded result (it did not run again). */
  replayed?: boolean;
  /** A pure node (a filter, an if) decided by the step that reached it (machine format 4): no step of its own. */
  decided?: boolean;
}

const outcomeOf = (r: NodeResult) => ({
  status: r.status as string, attempts: r.attempts, output: r.output ?? null, error: r.error ?? null, reason: r.reason ?? null,
  ...(r.request !== undefined ? { input: r.request } : {}),
});

export interface ModelCall {
  id: number;
  agentId: string | null;
  purpose: string;
  model: string;
  promptChars: number;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
  status: string;
  attempts: number;
  response: unknown;
  error: string | null;
  at: string;
}

interface JournalRow {
  seq: number;
  at: Date;
  kind: string;
  event_type: string | null;
  node_id: string | null;
  changed: Record<string, { state: string; result: NodeResult | null }> | null;
  value: unknown;
  nodes: Record<string, NodeResult> | null;
}

const EFFECT_RECORD: Record<string, string> = { email: 'email', draft: 'draft', task: 'task', contact: 'contact', notification: 'notification', followUp: 'followUp' };

/**
 * A run's timeline: each node activation as a span, built from the journal's stored steps (each
 * carries the snapshot at that step), with its outcome, waits, effects and model calls. Journal
 * markers (restores, refused writes) are listed beside it.
 */
export async function runTimeline(em: EntityManager, userId: string, runId: string, compiledFor: (flowId: string, version: number) => Promise<CompiledMachine>) {
  const run = await sqlOne<{
    id: string; flow_id: string; flow_version: number; doc_id: string; flow_name: string; flow_kind: string; status: string; reason: string | null;
    error: { nodeId?: string; code: string; message: string } | null; trigger: { type?: string; payload?: unknown }; trigger_node_id: string | null;
    started_at: Date; finished_at: Date | null; updated_at: Date; owner: string | null; document: { nodes?: { id: string; type: string; params?: unknown; label?: string }[] } | null;
    replay_of: string | null; replay_from: string | null;
  }>(em,
    `select r.id, r.flow_id, r.flow_version, f.doc_id, f.name as flow_name, f.kind as flow_kind, r.status, r.reason, r.error, r.trigger, r.trigger_node_id,
            r.started_at, r.finished_at, r.updated_at, r.owner, v.document, r.replay_of, r.replay_from
       from runs r join flows f on f.id = r.flow_id left join flow_versions v on v.flow_id = r.flow_id and v.version = r.flow_version
      where r.id = ? and r.user_id = ?`, [runId, userId]);
  if (!run) throw new SwitchyardError('NOT_FOUND', 'Run not found');
  const compiled = await compiledFor(run.flow_id, run.flow_version).catch(() => null);
  const docNodes = new Map((run.document?.nodes ?? []).map((n) => [n.id, n]));
  const typeOf = (id: string) => compiled?.nodes[id]?.type ?? docNodes.get(id)?.type ?? null;

  // Each step's `data.changed` names the nodes whose state changed and their results; older rows
  // without it fall back to the snapshot the row carries.
  const journal = await sql<JournalRow>(em,
    `select seq, at, kind, event_type, node_id, data->'changed' as changed, ${await journalValue(em, 'j')} as value, j.snapshot->'context'->'nodes' as nodes
       from run_journal j where run_id = ? order by seq limit 5000`, [runId]);
  const effects = await sql<{ idempotency_key: string; node_id: string; kind: string; result: { id?: string } | null; created_at: Date }>(em,
    'select idempotency_key, node_id, kind, result, created_at from effects where run_id = ? and user_id = ? order by created_at, idempotency_key', [runId, userId]);
  const calls = await sql<{
    id: string; agent_id: string | null; purpose: string; model: string; prompt_chars: number; prompt_tokens: number | null; completion_tokens: number | null;
    latency_ms: number; status: string; attempts: number; result: unknown; error: string | null; at: Date;
  }>(em, 'select * from llm_calls where run_id = ? and (user_id = ? or user_id is null) order by at, id', [runId, userId]);
  // An agent step's requests tell which model calls were made for which node (same agent, inside the request's time).
  const requests = await sql<{ agent_id: string; node_id: string | null; params: unknown; skill: string | null; started_at: Date | null; finished_at: Date | null; created_at: Date }>(em,
    `select agent_id, payload->'meta'->>'nodeId' as node_id, payload->'params' as params, payload->>'skill' as skill, started_at, finished_at, created_at
       from agent_requests where user_id = ? and payload->'meta'->>'runId' = ? order by created_at`, [userId, runId]);
  const timers = await sql<{ key: string; due_at: Date; fired_at: Date | null }>(em, 'select key, due_at, fired_at from timers where run_id = ?', [runId]);
  // An agent step's proposals (a send the agent may not make alone) wait for a person's decision.
  const proposals = await sql<{ node_id: string | null; status: string; created_at: Date; decided_at: Date | null }>(em,
    'select node_id, status, created_at, decided_at from agent_approvals where run_id = ? and user_id = ? order by created_at', [runId, userId]);
  // Replays of this run (newest first), and the run this one replays (monitor/replay.ts).
  const replays = await sql<{ id: string; replay_from: string; status: string; started_at: Date }>(em,
    'select id, replay_from, status, started_at from runs where replay_of = ? and user_id = ? order by started_at desc, id limit 50', [runId, userId]);

  // A replay's reused agent steps were asked in the run it replays: what they were asked is there.
  const replayedRequests = run.replay_of
    ? await sql<{ node_id: string | null; params: unknown; skill: string | null }>(em,
      `select payload->'meta'->>'nodeId' as node_id, payload->'params' as params, payload->>'skill' as skill
         from agent_requests where user_id = ? and payload->'meta'->>'runId' = ? order by created_at`, [userId, run.replay_of])
    : [];
  const spans: Span[] = [];
  const open = new Map<string, Span>();
  const activations = new Map<string, number>();
  let results: Record<string, NodeResult> = {};
  const startSpan = (nodeId: string, at: string) => {
    const n = (activations.get(nodeId) ?? 0) + 1;
    activations.set(nodeId, n);
    const doc = docNodes.get(nodeId);
    const span: Span = {
      nodeId, nodeType: typeOf(nodeId), label: doc?.label ?? null, activation: n, startedAt: at, endedAt: null, status: 'running', attempts: 0,
      waits: [], params: doc?.params ?? null, input: null, output: null, error: null, reason: null, effects: [], modelCalls: [],
    };
    spans.push(span);
    open.set(nodeId, span);
    return span;
  };
  const waitKind = (span: Span, state: string): Span['waits'][number]['kind'] | null =>
    state === 'retrying' ? 'retry' : span.nodeType === 'flow.delay' ? 'delay' : span.nodeType === 'flow.approval' ? 'approval' : null;

  // The trigger is the run's first step: from the run's start to the first stored transition.
  if (run.trigger_node_id) {
    const t = startSpan(run.trigger_node_id, iso(run.started_at)!);
    t.input = run.trigger?.payload ?? null;
  }
  const markers: { seq: number; at: string; kind: string; eventType: string | null; nodeId: string | null; data: unknown }[] = [];
  const current: Record<string, string> = {};
  const close = (span: Span, at: string) => {
    span.endedAt = at;
    for (const w of span.waits) if (w.to === null) w.to = at;
    open.delete(span.nodeId);
    const r = results[span.nodeId];
    if (r) Object.assign(span, outcomeOf(r));
    else if (span.nodeId === run.trigger_node_id) span.status = 'succeeded';
  };
  for (const j of journal) {
    const at = iso(j.at)!;
    if (j.kind !== 'state') markers.push({ seq: j.seq, at, kind: j.kind, eventType: j.event_type, nodeId: j.node_id, data: null });
    if (j.event_type === 'run.replay' && j.changed && typeof j.changed === 'object') {
      // A replay's first step holds the old run's results of the steps before the chosen one.
      for (const [id, c] of Object.entries(j.changed)) {
        if (!c.result || !['succeeded', 'failed', 'skipped'].includes(c.state)) continue;
        results = { ...results, [id]: c.result };
        current[id] = c.state;
        const span = open.get(id) ?? startSpan(id, at);
        span.replayed = true;
        close(span, at);
      }
    }
    // Nodes this step decided without a step of their own (format 4: a filter, an if): they end
    // where they start, at this step.
    const decided: string[] = [];
    if (j.changed && typeof j.changed === 'object') {
      for (const [id, c] of Object.entries(j.changed)) {
        if (c.result && (c.state === 'succeeded' || c.state === 'failed') && !open.has(id) && id !== run.trigger_node_id && j.event_type !== 'run.replay') decided.push(id);
        current[id] = c.state;
        if (c.result) results = { ...results, [id]: c.result };
      }
    } else if (j.nodes || j.value) {
      if (j.nodes) results = j.nodes;
      for (const [id, r] of Object.entries(results)) current[id] = r.status;
      Object.assign(current, nodeStatesOf(j.value));
    } else continue;
    for (const [nodeId, state] of Object.entries(current)) {
      if (state !== 'running' && state !== 'retrying') continue;
      let span = open.get(nodeId);
      if (!span) span = startSpan(nodeId, at);
      const kind = waitKind(span, state);
      const last = span.waits[span.waits.length - 1];
      if (kind && !(last && last.to === null && last.kind === kind)) span.waits.push({ kind, from: at, to: null, until: null });
      if (!kind && last && last.to === null) last.to = at;
    }
    for (const [nodeId, span] of open) {
      const state = current[nodeId];
      if (state === 'running' || state === 'retrying') continue;
      // The trigger span closes at the first step; other nodes once their state moved on.
      if (state === undefined && nodeId !== run.trigger_node_id) continue;
      close(span, at);
    }
    for (const id of decided) {
      const span = startSpan(id, at);
      span.decided = true;
      close(span, at);
    }
  }
  // An agent step waited from its first proposal to the last decision on them (open while one is pending).
  for (const span of spans) {
    const from = Date.parse(span.startedAt);
    const to = span.endedAt ? Date.parse(span.endedAt) + 1000 : Infinity;
    const mine = proposals.filter((p) => p.node_id === span.nodeId && new Date(p.created_at).getTime() >= from - 1000 && new Date(p.created_at).getTime() <= to);
    if (!mine.length) continue;
    const pending = mine.some((p) => p.status === 'pending');
    const decided = Math.max(...mine.map((p) => (p.decided_at ? new Date(p.decided_at).getTime() : 0)));
    span.waits.push({ kind: 'agent', from: iso(mine[0]!.created_at)!, to: pending ? null : new Date(decided).toISOString(), until: null });
  }
  // Spans still open: ended by the run's end, or still running / waiting.
  for (const span of spans) {
    if (!span.endedAt) {
      if (['completed', 'failed', 'skipped', 'cancelled', 'parked'].includes(run.status)) {
        span.endedAt = iso(run.finished_at ?? run.updated_at);
        for (const w of span.waits) if (w.to === null) w.to = span.endedAt;
        span.status = run.status === 'cancelled' ? 'cancelled' : 'interrupted';
      } else if (span.waits.some((w) => w.to === null)) span.status = 'waiting';
    }
    for (const w of span.waits) {
      const t = timers.find((x) => x.key === span.nodeId || x.key.startsWith(`${span.nodeId}:`) || x.key.startsWith(`${span.nodeId}#`));
      if ((w.kind === 'delay' || w.kind === 'retry') && t) w.until = iso(t.due_at);
    }
    const req = (span.replayed ? replayedRequests : requests).filter((q) => q.node_id === span.nodeId).at(-1);
    if (req && span.input === null) span.input = { skill: req.skill, params: req.params };
  }
  const spanOf = (nodeId: string) => spans.filter((s) => s.nodeId === nodeId).at(-1);
  for (const e of effects) {
    const span = spanOf(e.node_id);
    const type = EFFECT_RECORD[e.kind];
    span?.effects.push({ key: e.idempotency_key, kind: e.kind, record: type && e.result?.id ? { type, id: e.result.id } : null, at: iso(e.created_at)! });
  }
  const unassigned: ModelCall[] = [];
  for (const c of calls) {
    const call: ModelCall = {
      id: Number(c.id), agentId: c.agent_id, purpose: c.purpose, model: c.model, promptChars: c.prompt_chars, promptTokens: c.prompt_tokens,
      completionTokens: c.completion_tokens, latencyMs: c.latency_ms, status: c.status, attempts: c.attempts, response: c.result, error: c.error, at: iso(c.at)!,
    };
    const at = new Date(c.at).getTime();
    const req = requests.find((q) => q.agent_id === c.agent_id && q.node_id &&
      new Date(q.started_at ?? q.created_at).getTime() - 1000 <= at && (!q.finished_at || at <= new Date(q.finished_at).getTime() + 1000));
    const span = req?.node_id ? spanOf(req.node_id) : undefined;
    if (span) span.modelCalls.push(call);
    else unassigned.push(call);
  }
  // Steps that start together (a replay's recorded ones) in the drawing's order.
  const order = new Map((run.document?.nodes ?? []).map((n, i) => [n.id, i]));
  spans.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || (order.get(a.nodeId) ?? 1e9) - (order.get(b.nodeId) ?? 1e9) || a.nodeId.localeCompare(b.nodeId));
  return {
    run: {
      id: run.id, docId: run.doc_id, flowName: run.flow_name, flowKind: run.flow_kind, flowVersion: run.flow_version,
      // Waiting while an agent's proposal waits for a person, as runs.get says.
      status: run.status === 'running' && proposals.some((p) => p.status === 'pending') ? 'waiting' : run.status,
      reason: run.reason, error: run.error, triggerType: run.trigger?.type ?? null, owner: run.owner,
      startedAt: iso(run.started_at)!, finishedAt: iso(run.finished_at), updatedAt: iso(run.updated_at)!,
      replayOf: run.replay_of ? { runId: run.replay_of, fromNodeId: run.replay_from ?? '' } : null,
      replays: replays.map((r) => ({ runId: r.id, fromNodeId: r.replay_from, status: r.status, startedAt: iso(r.started_at)! })),
    },
    spans,
    markers,
    modelCalls: unassigned,
    steps: journal.length,
  };
}
export type RunTimeline = Awaited<ReturnType<typeof runTimeline>>;
