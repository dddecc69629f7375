import type { EntityManager } from '@mikro-orm/postgresql';
import client from 'prom-client';
import { sql } from '../host/db';

/**
 * The runtime's Prometheus metrics (`GET /metrics`). Two sources:
 * - in-process figures the run store records as it commits (commit latency, batch size, fencing
 *   refusals), and Node's own process metrics;
 * - database-wide figures read at scrape time (runs by flow and outcome, queues, leases, model calls,
 *   agent requests), so any process reports the same totals for the whole deployment.
 * Histograms of things stored in tables (step duration, model latency, timer lag) are filled
 * incrementally: each scrape observes the rows added since the previous one.
 */
export const registry = new client.Registry();

const commitLatency = new client.Histogram({
  name: 'switchyard_commit_latency_seconds', help: 'Time to store one group-committed batch of run transitions (this process).',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
});
const batchSize = new client.Histogram({
  name: 'switchyard_commit_batch_size', help: 'Run transitions stored per group commit (this process).',
  buckets: [1, 2, 5, 10, 20, 50, 100, 200], registers: [registry],
});
const fencingRefusals = new client.Counter({
  name: 'switchyard_fencing_refusals_total', help: 'Run writes refused because another process holds the run now (this process).', registers: [registry],
});

const leasesLost = new client.Counter({
  name: 'switchyard_leases_lost_total', help: 'Runs this process stopped because a heartbeat found its lease on them gone: paused past its lease, another process adopted them (this process).', registers: [registry],
});

/** Called by the host when a heartbeat finds runs it held adopted elsewhere: it stops them before they act again. */
export function recordLeasesLost(runs: number) {
  if (runs > 0) leasesLost.inc(runs);
}

/** Called by the run store after each batch statement: how many writes, how many were fenced off, how long it took. */
export function recordCommit(writes: number, fenced: number, seconds: number) {
  commitLatency.observe(seconds);
  batchSize.observe(writes);
  if (fenced > 0) fencingRefusals.inc(fenced);
}

const counter = (name: string, help: string, labelNames: string[] = []) => new client.Counter({ name, help, labelNames, registers: [registry] });
const gauge = (name: string, help: string, labelNames: string[] = []) => new client.Gauge({ name, help, labelNames, registers: [registry] });

const runsStarted = counter('switchyard_runs_started_total', 'Runs started, by flow (doc id) and kind.', ['flow', 'kind']);
const runsEnded: Record<'completed' | 'failed' | 'skipped' | 'cancelled' | 'parked', client.Counter> = {
  completed: counter('switchyard_runs_completed_total', 'Runs that completed, by flow.', ['flow']),
  failed: counter('switchyard_runs_failed_total', 'Runs that failed, by flow.', ['flow']),
  skipped: counter('switchyard_runs_skipped_total', 'Runs that did nothing (a condition stopped them), by flow.', ['flow']),
  cancelled: counter('switchyard_runs_cancelled_total', 'Runs cancelled by a person, by flow.', ['flow']),
  parked: counter('switchyard_runs_parked_total', 'Runs parked because this runtime cannot execute their pinned machine, by flow.', ['flow']),
};
const runsActive = gauge('switchyard_runs_active', 'Runs not finished, by status (running, waiting).', ['status']);
const queueDepth = gauge('switchyard_queue_depth', 'Work waiting in each durable queue.', ['queue']);
const timersOverdue = gauge('switchyard_timers_overdue', 'Timers past their due time and not fired yet.');
const leaseAdoptions = counter('switchyard_lease_adoptions_total', 'Claims of a run after its first (adopted by another process, or resumed after a restart).');
const processesGauge = gauge('switchyard_runtime_processes', 'Runtime processes registered on the database, by lease state.', ['state']);
const processRuns = gauge('switchyard_process_owned_runs', 'Active runs each process owns.', ['instance']);
const modelCalls = counter('switchyard_model_calls_total', 'Model calls, by purpose and status.', ['purpose', 'status']);
const modelTokens = counter('switchyard_model_tokens_total', 'Tokens of model calls, by type (prompt, completion).', ['type']);
const agentRequests = counter('switchyard_agent_requests_total', 'Agent mailbox requests that finished, by kind and outcome (done, failed).', ['kind', 'outcome']);
const agentRequestsOpen = gauge('switchyard_agent_requests_open', 'Agent mailbox requests queued or running, by status.', ['status']);
const processInfo = gauge('switchyard_process_info', 'This runtime process: its instance id, version and database kind.', ['instance', 'version', 'database']);

const stepDuration = new client.Histogram({
  name: 'switchyard_step_duration_seconds', help: 'Time from a run\'s previous stored step to each stored step (database-wide).',
  buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400], registers: [registry],
});
const modelLatency = new client.Histogram({
  name: 'switchyard_model_latency_seconds', help: 'Latency of model calls (database-wide).',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry],
});
const timerLag = new client.Histogram({
  name: 'switchyard_timer_lag_seconds', help: 'How late timers fired after their due time (database-wide).',
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [registry],
});

let defaultsOn = false;
/** Node's process metrics (CPU, memory, event loop), prefixed `switchyard_`; once per process. */
function enableDefaults() {
  if (defaultsOn) return;
  defaultsOn = true;
  client.collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });
}

/** Where the incremental histograms stopped reading, per table. */
const marks = { journalId: 0, llmId: 0, timerAt: null as string | null, timerKey: '' };
const PER_SCRAPE = 20_000;

function setCounter(c: client.Counter, rows: { labels: Record<string, string>; value: number }[]) {
  c.reset();
  for (const r of rows) c.inc(r.labels, r.value);
}

/** Reads the database-wide figures into the registry. Several scrapes at once share one read. */
let refreshing: Promise<void> | null = null;
export function refreshFromDatabase(em: () => EntityManager, info: { instanceId: string; version: string; database: string }) {
  enableDefaults();
  processInfo.reset();
  processInfo.set({ instance: info.instanceId, version: info.version, database: info.database }, 1);
  return (refreshing ??= read(em).finally(() => (refreshing = null)));
}

async function read(emOf: () => EntityManager) {
  const em = emOf();
  const runs = await sql<{ flow: string; kind: string; status: string; n: string }>(em,
    // A running run whose agent step waits on a person's decision is waiting, as runs.get says.
    `select f.doc_id as flow, f.kind,
            case when r.status = 'running' and exists (select 1 from agent_approvals p where p.run_id = r.id and p.status = 'pending')
                 then 'waiting' else r.status end as status,
            count(*) as n
       from runs r join flows f on f.id = r.flow_id group by 1, 2, 3`);
  const started = new Map<string, { labels: Record<string, string>; value: number }>();
  const ended: Record<string, { labels: Record<string, string>; value: number }[]> = {};
  runsActive.reset();
  runsActive.set({ status: 'running' }, 0);
  runsActive.set({ status: 'waiting' }, 0);
  for (const r of runs) {
    const n = Number(r.n);
    const key = `${r.flow}\u0000${r.kind}`;
    const s = started.get(key) ?? { labels: { flow: r.flow, kind: r.kind }, value: 0 };
    s.value += n;
    started.set(key, s);
    if (r.status === 'running' || r.status === 'waiting') runsActive.inc({ status: r.status }, n);
    else (ended[r.status] ??= []).push({ labels: { flow: r.flow }, value: n });
  }
  setCounter(runsStarted, [...started.values()]);
  for (const [status, c] of Object.entries(runsEnded)) setCounter(c, ended[status] ?? []);

  const [q] = await sql<{ inbox: string; commands: string; queued: string; running: string; timers: string; overdue: string; adoptions: string }>(em,
    `select (select count(*) from inbox where processed_at is null) as inbox,
            (select count(*) from run_commands where applied_at is null) as commands,
            (select count(*) from agent_requests where status = 'queued') as queued,
            (select count(*) from agent_requests where status = 'running') as running,
            (select count(*) from timers where fired_at is null) as timers,
            (select count(*) from timers where fired_at is null and due_at < now()) as overdue,
            (select coalesce(sum(lease_epoch - 1), 0) from runs where lease_epoch > 1) as adoptions`);
  queueDepth.set({ queue: 'inbox' }, Number(q?.inbox ?? 0));
  queueDepth.set({ queue: 'run_commands' }, Number(q?.commands ?? 0));
  queueDepth.set({ queue: 'agent_requests' }, Number(q?.queued ?? 0) + Number(q?.running ?? 0));
  queueDepth.set({ queue: 'timers' }, Number(q?.timers ?? 0));
  timersOverdue.set(Number(q?.overdue ?? 0));
  agentRequestsOpen.set({ status: 'queued' }, Number(q?.queued ?? 0));
  agentRequestsOpen.set({ status: 'running' }, Number(q?.running ?? 0));
  setCounter(leaseAdoptions, [{ labels: {}, value: Number(q?.adoptions ?? 0) }]);

  const procs = await sql<{ id: string; alive: boolean; runs: string }>(em,
    `select i.id, i.lease_until >= now() as alive,
            (select count(*) from runs r where r.owner = i.id and r.status in ('running', 'waiting')) as runs from runtime_instances i`);
  processesGauge.reset();
  processesGauge.set({ state: 'alive' }, procs.filter((p) => p.alive).length);
  processesGauge.set({ state: 'expired' }, procs.filter((p) => !p.alive).length);
  processRuns.reset();
  for (const p of procs) processRuns.set({ instance: p.id }, Number(p.runs));

  const models = await sql<{ purpose: string; status: string; n: string; prompt: string; completion: string }>(em,
    `select purpose, status, count(*) as n, coalesce(sum(prompt_tokens), 0) as prompt, coalesce(sum(completion_tokens), 0) as completion from llm_calls group by 1, 2`);
  setCounter(modelCalls, models.map((m) => ({ labels: { purpose: m.purpose, status: m.status }, value: Number(m.n) })));
  setCounter(modelTokens, [
    { labels: { type: 'prompt' }, value: models.reduce((s, m) => s + Number(m.prompt), 0) },
    { labels: { type: 'completion' }, value: models.reduce((s, m) => s + Number(m.completion), 0) },
  ]);

  const requests = await sql<{ kind: string; status: string; n: string }>(em,
    `select kind, status, count(*) as n from agent_requests where status in ('done', 'failed') group by 1, 2`);
  setCounter(agentRequests, requests.map((r) => ({ labels: { kind: r.kind, outcome: r.status }, value: Number(r.n) })));

  // Incremental histograms: rows added since the last scrape, a bounded number per scrape.
  const steps = await sql<{ id: string; seconds: number | null }>(em,
    `select j.id, extract(epoch from (j.at - p.at))::float8 as seconds from run_journal j
       left join run_journal p on p.run_id = j.run_id and p.seq = j.seq - 1
      where j.id > ? order by j.id limit ${PER_SCRAPE}`, [marks.journalId]);
  // A run's first step has no predecessor: it moves the mark without an observation.
  for (const s of steps) if (s.seconds !== null) stepDuration.observe(Math.max(0, s.seconds));
  if (steps.length) marks.journalId = Number(steps[steps.length - 1]!.id);
  const calls = await sql<{ id: string; latency_ms: number }>(em, `select id, latency_ms from llm_calls where id > ? order by id limit ${PER_SCRAPE}`, [marks.llmId]);
  for (const c of calls) modelLatency.observe(c.latency_ms / 1000);
  if (calls.length) marks.llmId = Number(calls[calls.length - 1]!.id);
  const fired = await sql<{ at: string; key: string; lag: number }>(em,
    `select fired_at::text as at, run_id::text || '/' || key as key, extract(epoch from (fired_at - due_at))::float8 as lag from timers
      where fired_at is not null and (?::timestamptz is null or (fired_at, run_id::text || '/' || key) > (?::timestamptz, ?))
      order by fired_at, run_id::text || '/' || key limit ${PER_SCRAPE}`, [marks.timerAt, marks.timerAt, marks.timerKey]);
  for (const t of fired) timerLag.observe(Math.max(0, t.lag));
  const last = fired[fired.length - 1];
  if (last) {
    marks.timerAt = last.at;
    marks.timerKey = last.key;
  }
}
