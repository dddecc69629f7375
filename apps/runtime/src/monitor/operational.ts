import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../host/db';

/**
 * A user's operational figures over a period, from the database (every process's work): runs by
 * flow and outcome, run durations, model calls and tokens, agent request outcomes, what waits now.
 */
export async function operationalMetrics(em: EntityManager, userId: string, p: { from: string; to: string }) {
  const runs = await sql<{ doc_id: string; name: string; kind: string; status: string; n: string; p50: number | null; p95: number | null }>(em,
    `select f.doc_id, max(f.name) as name, f.kind, r.status, count(*) as n,
            percentile_cont(0.5) within group (order by extract(epoch from (r.finished_at - r.started_at))) filter (where r.finished_at is not null) as p50,
            percentile_cont(0.95) within group (order by extract(epoch from (r.finished_at - r.started_at))) filter (where r.finished_at is not null) as p95
       from runs r join flows f on f.id = r.flow_id
      where r.user_id = ? and r.started_at >= ?::timestamptz and r.started_at < ?::timestamptz
      group by f.doc_id, f.kind, r.status`, [userId, p.from, p.to]);
  const flows = new Map<string, { docId: string; name: string; kind: string; started: number; byStatus: Record<string, number>; p50Seconds: number | null; p95Seconds: number | null }>();
  const totals: Record<string, number> = {};
  for (const r of runs) {
    const f = flows.get(r.doc_id) ?? { docId: r.doc_id, name: r.name, kind: r.kind, started: 0, byStatus: {}, p50Seconds: null, p95Seconds: null };
    const n = Number(r.n);
    f.started += n;
    f.byStatus[r.status] = (f.byStatus[r.status] ?? 0) + n;
    if (r.status === 'completed') {
      f.p50Seconds = r.p50 === null ? null : Number(r.p50);
      f.p95Seconds = r.p95 === null ? null : Number(r.p95);
    }
    flows.set(r.doc_id, f);
    totals[r.status] = (totals[r.status] ?? 0) + n;
  }
  const [models] = await sql<{ calls: string; errors: string; prompt: string; completion: string; p50: number | null; p95: number | null }>(em,
    `select count(*) as calls, count(*) filter (where status <> 'ok') as errors,
            coalesce(sum(prompt_tokens), 0) as prompt, coalesce(sum(completion_tokens), 0) as completion,
            percentile_cont(0.5) within group (order by latency_ms) as p50, percentile_cont(0.95) within group (order by latency_ms) as p95
       from llm_calls where user_id = ? and at >= ?::timestamptz and at < ?::timestamptz`, [userId, p.from, p.to]);
  const requests = await sql<{ kind: string; status: string; n: string }>(em,
    `select kind, status, count(*) as n from agent_requests where user_id = ? and created_at >= ?::timestamptz and created_at < ?::timestamptz group by 1, 2`,
    [userId, p.from, p.to]);
  const [now] = await sql<{ running: string; waiting: string; timers: string; overdue: string; commands: string; mailbox: string }>(em,
    // A running run whose agent step waits on a person's decision counts as waiting, as runs.get says.
    `select (select count(*) from runs r where r.user_id = ? and r.status = 'running'
               and not exists (select 1 from agent_approvals p where p.run_id = r.id and p.status = 'pending')) as running,
            (select count(*) from runs r where r.user_id = ? and (r.status = 'waiting' or (r.status = 'running'
               and exists (select 1 from agent_approvals p where p.run_id = r.id and p.status = 'pending')))) as waiting,
            (select count(*) from timers t join runs r on r.id = t.run_id where r.user_id = ? and t.fired_at is null) as timers,
            (select count(*) from timers t join runs r on r.id = t.run_id where r.user_id = ? and t.fired_at is null and t.due_at < now()) as overdue,
            (select count(*) from run_commands c join runs r on r.id = c.run_id where r.user_id = ? and c.applied_at is null) as commands,
            (select count(*) from agent_requests where user_id = ? and status in ('queued', 'running')) as mailbox`,
    [userId, userId, userId, userId, userId, userId]);
  const num = (v: string | number | null | undefined) => (v === null || v === undefined ? 0 : Number(v));
  return {
    period: p,
    runs: {
      started: Object.values(totals).reduce((s, n) => s + n, 0),
      completed: totals.completed ?? 0, failed: totals.failed ?? 0, skipped: totals.skipped ?? 0, cancelled: totals.cancelled ?? 0,
      parked: totals.parked ?? 0, active: (totals.running ?? 0) + (totals.waiting ?? 0),
      perFlow: [...flows.values()].sort((a, b) => b.started - a.started || a.name.localeCompare(b.name)),
    },
    models: {
      calls: num(models?.calls), errors: num(models?.errors), promptTokens: num(models?.prompt), completionTokens: num(models?.completion),
      p50LatencyMs: models?.p50 === null || models?.p50 === undefined ? null : Number(models.p50),
      p95LatencyMs: models?.p95 === null || models?.p95 === undefined ? null : Number(models.p95),
    },
    agentRequests: requests.map((r) => ({ kind: r.kind, status: r.status, count: Number(r.n) })),
    now: {
      running: num(now?.running), waiting: num(now?.waiting), timersPending: num(now?.timers), timersOverdue: num(now?.overdue),
      commandsPending: num(now?.commands), agentMailbox: num(now?.mailbox),
    },
  };
}
