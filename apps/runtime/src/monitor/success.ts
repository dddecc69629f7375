import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../host/db';
import { coherenceMetrics } from './coherence';

/**
 * The seed's success metrics, measured from stored facts (definitions in docs/metrics.md):
 * - task completion: agent tasks that succeeded / tasks that finished (skill requests to agents,
 *   and multi-agent plan steps, each task counted once);
 * - suggestion engagement: notifications acted on / notifications shown;
 * - time saved: automated actions (effects), agent tasks a run asked for and plan steps done, times
 *   the minutes a person would have spent on each, estimated per node kind and editable per flow;
 * - coherence across sessions: memory probes answered consistently / probes asked (coherence.ts).
 * Each is given over a period, per day, and per agent / behavior / flow.
 */

/** Minutes a person would spend doing by hand what one successful step of this kind does. Editable per user and per flow. */
export const DEFAULT_MINUTES: Record<string, number> = {
  'action.sendEmail': 4,
  'action.draftReply': 6,
  'action.createTask': 1,
  'action.updateContact': 2,
  'action.scheduleFollowUp': 1,
  'action.sendNotification': 0.5,
  'action.webhook': 2,
  'action.setMemory': 0,
  'agent.runSkill': 10,
  'plan.step': 10,
};

/**
 * Effect kinds (the `effects` ledger) to the node kind that makes them: the automated actions. Other
 * kinds are not (an `approval` is an agent's proposal waiting for a person).
 */
const EFFECT_NODE: Record<string, string> = {
  email: 'action.sendEmail', draft: 'action.draftReply', task: 'action.createTask', contact: 'action.updateContact',
  followUp: 'action.scheduleFollowUp', notification: 'action.sendNotification', webhook: 'action.webhook', memory: 'action.setMemory',
};

export interface Period {
  from: string;
  to: string;
  /** IANA zone the daily buckets follow. */
  timeZone: string;
}

const exists = async (em: EntityManager, table: string) =>
  Boolean((await sql<{ t: string | null }>(em, 'select to_regclass(?)::text as t', [table]))[0]?.t);

const rate = (num: number, den: number) => (den > 0 ? num / den : null);

/**
 * A skill request that ran to its end (`done`) may still report the skill failed (`success: false`,
 * e.g. "Contact not found", a refused tool): the workflow step and the plan step fail then, so the
 * task did not succeed. SQL over `agent_requests q`.
 */
const SKILL_SUCCEEDED = `coalesce(q.result->>'success', 'true') <> 'false'`;

async function taskCompletion(em: EntityManager, userId: string, p: Period) {
  const hasPlans = await exists(em, 'plan_steps');
  // Skill requests to agents, except those a plan step made (the plan step is the task then).
  const notPlan = hasPlans ? `and not exists (select 1 from plan_runs pr where pr.id::text = q.payload->'meta'->>'runId')` : '';
  const requests = await sql<{ agent_id: string; name: string; day: string; done: string; failed: string }>(em,
    `select q.agent_id, a.name, to_char(date_trunc('day', coalesce(q.finished_at, q.created_at) at time zone ?), 'YYYY-MM-DD') as day,
            count(*) filter (where q.status = 'done' and ${SKILL_SUCCEEDED}) as done,
            count(*) filter (where q.status = 'failed' or not ${SKILL_SUCCEEDED}) as failed
       from agent_requests q join agents a on a.id = q.agent_id
      where q.user_id = ? and q.kind = 'skill' and q.status in ('done', 'failed')
        and coalesce(q.finished_at, q.created_at) >= ?::timestamptz and coalesce(q.finished_at, q.created_at) < ?::timestamptz ${notPlan}
      group by 1, 2, 3`, [p.timeZone, userId, p.from, p.to]);
  const steps = hasPlans
    ? await sql<{ agent_id: string | null; name: string | null; day: string; done: string; failed: string }>(em,
      `select s.agent_id, a.name, to_char(date_trunc('day', coalesce(s.finished_at, r.started_at) at time zone ?), 'YYYY-MM-DD') as day,
              count(*) filter (where s.status = 'done') as done, count(*) filter (where s.status = 'failed') as failed
         from plan_steps s join plan_runs r on r.id = s.run_id left join agents a on a.id = s.agent_id
        where r.user_id = ? and s.status in ('done', 'failed')
          and coalesce(s.finished_at, r.started_at) >= ?::timestamptz and coalesce(s.finished_at, r.started_at) < ?::timestamptz
        group by 1, 2, 3`, [p.timeZone, userId, p.from, p.to])
    : [];
  const byAgent = new Map<string, { agentId: string | null; name: string; requestsDone: number; requestsFailed: number; stepsDone: number; stepsFailed: number }>();
  const byDay = new Map<string, { succeeded: number; assigned: number }>();
  const add = (agentId: string | null, name: string | null, day: string, done: number, failed: number, what: 'requests' | 'steps') => {
    const key = agentId ?? '';
    const a = byAgent.get(key) ?? { agentId, name: name ?? 'No agent', requestsDone: 0, requestsFailed: 0, stepsDone: 0, stepsFailed: 0 };
    a[`${what}Done`] += done;
    a[`${what}Failed`] += failed;
    byAgent.set(key, a);
    const d = byDay.get(day) ?? { succeeded: 0, assigned: 0 };
    d.succeeded += done;
    d.assigned += done + failed;
    byDay.set(day, d);
  };
  for (const r of requests) add(r.agent_id, r.name, r.day, Number(r.done), Number(r.failed), 'requests');
  for (const s of steps) add(s.agent_id, s.name, s.day, Number(s.done), Number(s.failed), 'steps');
  const agents = [...byAgent.values()].map((a) => {
    const succeeded = a.requestsDone + a.stepsDone;
    const assigned = succeeded + a.requestsFailed + a.stepsFailed;
    return { ...a, succeeded, assigned, rate: rate(succeeded, assigned) };
  }).sort((x, y) => y.assigned - x.assigned || x.name.localeCompare(y.name));
  const succeeded = agents.reduce((s, a) => s + a.succeeded, 0);
  const assigned = agents.reduce((s, a) => s + a.assigned, 0);
  return {
    succeeded, assigned, rate: rate(succeeded, assigned), target: 0.8,
    requests: { done: agents.reduce((s, a) => s + a.requestsDone, 0), failed: agents.reduce((s, a) => s + a.requestsFailed, 0) },
    planSteps: { done: agents.reduce((s, a) => s + a.stepsDone, 0), failed: agents.reduce((s, a) => s + a.stepsFailed, 0), measured: hasPlans },
    perAgent: agents,
    daily: [...byDay.entries()].map(([day, d]) => ({ day, ...d, rate: rate(d.succeeded, d.assigned) })).sort((a, b) => a.day.localeCompare(b.day)),
  };
}

async function engagement(em: EntityManager, userId: string, p: Period) {
  // Shown in the period = notifications created in it; acted / dismissed = those of them a person acted on / dismissed (at any time since).
  const hasEvents = await exists(em, 'notification_engagement');
  const rows = hasEvents
    ? await sql<{ behavior: string | null; type: string; day: string; shown: string; acted: string; dismissed: string }>(em,
      `select coalesce(n.behavior_id, f.doc_id) as behavior, n.type, to_char(date_trunc('day', n.created_at at time zone ?), 'YYYY-MM-DD') as day, count(*) as shown,
              count(*) filter (where n.acted_at is not null or exists (select 1 from notification_engagement e where e.notification_id = n.id and e.event = 'acted')) as acted,
              count(*) filter (where n.dismissed_at is not null or exists (select 1 from notification_engagement e where e.notification_id = n.id and e.event = 'dismissed')) as dismissed
         from notifications n left join runs r on r.id = n.source_run_id left join flows f on f.id = r.flow_id
        where n.user_id = ? and n.created_at >= ?::timestamptz and n.created_at < ?::timestamptz
        group by 1, 2, 3`, [p.timeZone, userId, p.from, p.to])
    : await sql<{ behavior: string | null; type: string; day: string; shown: string; acted: string; dismissed: string }>(em,
      `select f.doc_id as behavior, n.type, to_char(date_trunc('day', n.created_at at time zone ?), 'YYYY-MM-DD') as day, count(*) as shown,
              count(*) filter (where n.acted_at is not null) as acted, count(*) filter (where n.dismissed_at is not null) as dismissed
         from notifications n left join runs r on r.id = n.source_run_id left join flows f on f.id = r.flow_id
        where n.user_id = ? and n.created_at >= ?::timestamptz and n.created_at < ?::timestamptz
        group by 1, 2, 3`, [p.timeZone, userId, p.from, p.to]);
  const actions = await sql<{ action: string | null; n: string }>(em, hasEvents
    ? `select coalesce((select e.action_id from notification_engagement e where e.notification_id = n.id and e.event = 'acted' limit 1), n.acted_action) as action, count(*) as n
         from notifications n
        where n.user_id = ? and n.created_at >= ?::timestamptz and n.created_at < ?::timestamptz
          and (n.acted_at is not null or exists (select 1 from notification_engagement e where e.notification_id = n.id and e.event = 'acted'))
        group by 1`
    : `select acted_action as action, count(*) as n from notifications
        where user_id = ? and acted_at is not null and created_at >= ?::timestamptz and created_at < ?::timestamptz group by 1`, [userId, p.from, p.to]);
  const names = new Map((await sql<{ doc_id: string; name: string }>(em,
    `select distinct on (doc_id) doc_id, name from flows where user_id = ? order by doc_id, deleted_at nulls first, updated_at desc`, [userId])).map((f) => [f.doc_id, f.name]));
  const perBehavior = new Map<string, { behavior: string | null; name: string; shown: number; acted: number; dismissed: number }>();
  const byDay = new Map<string, { shown: number; acted: number }>();
  let shown = 0, acted = 0, dismissed = 0;
  for (const r of rows) {
    const s = Number(r.shown), a = Number(r.acted), d = Number(r.dismissed);
    shown += s; acted += a; dismissed += d;
    const key = r.behavior ?? '';
    const b = perBehavior.get(key) ?? { behavior: r.behavior, name: r.behavior ? (names.get(r.behavior) ?? r.behavior) : 'Not from a flow', shown: 0, acted: 0, dismissed: 0 };
    b.shown += s; b.acted += a; b.dismissed += d;
    perBehavior.set(key, b);
    const day = byDay.get(r.day) ?? { shown: 0, acted: 0 };
    day.shown += s; day.acted += a;
    byDay.set(r.day, day);
  }
  return {
    shown, acted, dismissed, rate: rate(acted, shown), target: 0.5, source: hasEvents ? ('engagement events' as const) : ('notification columns' as const),
    perBehavior: [...perBehavior.values()].map((b) => ({ ...b, rate: rate(b.acted, b.shown) })).sort((x, y) => y.shown - x.shown || x.name.localeCompare(y.name)),
    perAction: actions.map((a) => ({ action: a.action ?? 'unknown', acted: Number(a.n) })).sort((x, y) => y.acted - x.acted),
    daily: [...byDay.entries()].map(([day, d]) => ({ day, ...d, rate: rate(d.acted, d.shown) })).sort((a, b) => a.day.localeCompare(b.day)),
  };
}

/** The minutes in force: defaults, then the user's own defaults (doc ''), then each flow's. */
export async function estimatesOf(em: EntityManager, userId: string) {
  const rows = await sql<{ doc_id: string; node_type: string; minutes: string }>(em,
    'select doc_id, node_type, minutes from time_saved_estimates where user_id = ?', [userId]);
  const user: Record<string, number> = { ...DEFAULT_MINUTES };
  const perFlow: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    if (r.doc_id === '') user[r.node_type] = Number(r.minutes);
    else (perFlow[r.doc_id] ??= {})[r.node_type] = Number(r.minutes);
  }
  return { defaults: DEFAULT_MINUTES, user, perFlow };
}

async function timeSaved(em: EntityManager, userId: string, p: Period) {
  const est = await estimatesOf(em, userId);
  const minutesOf = (docId: string | null, nodeType: string) => (docId ? est.perFlow[docId]?.[nodeType] : undefined) ?? est.user[nodeType] ?? 0;
  const effects = await sql<{ doc_id: string; name: string; kind: string; day: string; n: string }>(em,
    `select f.doc_id, max(f.name) as name, e.kind, to_char(date_trunc('day', e.created_at at time zone ?), 'YYYY-MM-DD') as day, count(*) as n
       from effects e join runs r on r.id = e.run_id join flows f on f.id = r.flow_id
      where e.user_id = ? and e.result is not null and e.kind = any(?::text[]) and e.created_at >= ?::timestamptz and e.created_at < ?::timestamptz
      group by 1, 3, 4`, [p.timeZone, userId, `{${Object.keys(EFFECT_NODE).join(',')}}`, p.from, p.to]);
  // Agent work a flow step asked for (a person's own chat or direct request is not automation).
  const agentSteps = await sql<{ doc_id: string; name: string; day: string; n: string }>(em,
    `select f.doc_id, max(f.name) as name, to_char(date_trunc('day', q.finished_at at time zone ?), 'YYYY-MM-DD') as day, count(*) as n
       from agent_requests q join runs r on r.id::text = q.payload->'meta'->>'runId' join flows f on f.id = r.flow_id
      where q.user_id = ? and q.kind = 'skill' and q.status = 'done' and ${SKILL_SUCCEEDED} and q.finished_at >= ?::timestamptz and q.finished_at < ?::timestamptz
      group by 1, 3`, [p.timeZone, userId, p.from, p.to]);
  // Plan steps done: a plan is a flow document too; its steps' own requests and effects are not
  // counted again (they have no `runs` row to join).
  const planSteps = (await exists(em, 'plan_steps'))
    ? await sql<{ doc_id: string; name: string; day: string; n: string }>(em,
      `select r.doc_id, max(r.name) as name, to_char(date_trunc('day', s.finished_at at time zone ?), 'YYYY-MM-DD') as day, count(*) as n
         from plan_steps s join plan_runs r on r.id = s.run_id
        where r.user_id = ? and s.status = 'done' and s.finished_at >= ?::timestamptz and s.finished_at < ?::timestamptz
        group by 1, 3`, [p.timeZone, userId, p.from, p.to])
    : [];
  const perFlow = new Map<string, { docId: string; name: string; steps: number; minutes: number; byKind: Record<string, { steps: number; minutes: number }> }>();
  const byDay = new Map<string, number>();
  const add = (docId: string, name: string, nodeType: string, day: string, n: number) => {
    const m = n * minutesOf(docId, nodeType);
    const f = perFlow.get(docId) ?? { docId, name, steps: 0, minutes: 0, byKind: {} };
    f.steps += n;
    f.minutes += m;
    const k = (f.byKind[nodeType] ??= { steps: 0, minutes: 0 });
    k.steps += n;
    k.minutes += m;
    perFlow.set(docId, f);
    byDay.set(day, (byDay.get(day) ?? 0) + m);
  };
  for (const e of effects) add(e.doc_id, e.name, EFFECT_NODE[e.kind]!, e.day, Number(e.n));
  for (const a of agentSteps) add(a.doc_id, a.name, 'agent.runSkill', a.day, Number(a.n));
  for (const x of planSteps) add(x.doc_id, x.name, 'plan.step', x.day, Number(x.n));
  const minutes = [...perFlow.values()].reduce((s, f) => s + f.minutes, 0);
  const days = Math.max(1, (new Date(p.to).getTime() - new Date(p.from).getTime()) / 86_400_000);
  return {
    minutes, steps: [...perFlow.values()].reduce((s, f) => s + f.steps, 0),
    hoursPerWeek: (minutes / 60) * (7 / days), targetHoursPerWeek: 2,
    perFlow: [...perFlow.values()].sort((a, b) => b.minutes - a.minutes || a.name.localeCompare(b.name)),
    daily: [...byDay.entries()].map(([day, m]) => ({ day, minutes: m })).sort((a, b) => a.day.localeCompare(b.day)),
    estimates: est,
  };
}

export async function successMetrics(em: EntityManager, userId: string, p: Period) {
  const [tasks, suggestions, saved] = [await taskCompletion(em, userId, p), await engagement(em, userId, p), await timeSaved(em, userId, p)];
  const coherence = (await exists(em, 'coherence_probes')) ? await coherenceMetrics(em, userId, p) : null;
  return { period: p, taskCompletion: tasks, engagement: suggestions, timeSaved: saved, coherence };
}
export type SuccessMetrics = Awaited<ReturnType<typeof successMetrics>>;
