import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MINUTES } from '../src/monitor/success';
import { backendsUnderTest } from './host-support';
import { waitForRun } from './support/agents-support';
import { planDoc, seedCast, startPlansServer, type PlansServer } from './issue-11-support';

const node = (id: string, type: string, params: Record<string, unknown> = {}, x = 0) => ({ id, type, position: { x, y: 0 }, params });

/** Effect kinds (the effects ledger) to the node kind that made them, as docs/metrics.md defines. */
const EFFECT_NODE: Record<string, string> = {
  email: 'action.sendEmail', draft: 'action.draftReply', task: 'action.createTask', contact: 'action.updateContact',
  followUp: 'action.scheduleFollowUp', notification: 'action.sendNotification', webhook: 'action.webhook', memory: 'action.setMemory',
};

/**
 * Issue 13: task completion and time saved on the Monitor page equal what the database says, counted
 * here straight from its tables, after a mix of agent tasks that succeeded and failed: direct skill
 * requests, a workflow's agent step, and a plan whose steps succeed and fail (each plan step counted
 * once, not also as the request it made).
 */
describe.each(backendsUnderTest())('task completion and time saved equal the database (%s)', (backend) => {
  let s: PlansServer;
  let cast: Awaited<ReturnType<typeof seedCast>>;

  beforeAll(async () => {
    s = await startPlansServer(backend);
    cast = await seedCast(s.api);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('after successes and failures, the figures equal the counts of agent_requests, plan_steps and effects', async () => {
    // Direct skill requests: two succeed; one ends but its skill reports it failed (an unknown
    // contact), as a workflow step or a plan step would fail on it.
    expect((await s.api.agents.runSkill.mutate({ id: cast.researcher.id, skill: 'research-contact', params: { contactId: cast.john.id } })).success).toBe(true);
    expect((await s.api.agents.runSkill.mutate({ id: cast.researcher.id, skill: 'research-contact', params: { contactId: cast.jane.id } })).success).toBe(true);
    expect(await s.api.agents.runSkill.mutate({ id: cast.researcher.id, skill: 'research-contact', params: { contactId: randomUUID() } })).toMatchObject({ success: false, error: 'Contact not found' });
    // A workflow: the writer's step, then a task.
    const doc = {
      schemaVersion: 1, id: 'figures-flow', kind: 'workflow', name: 'Draft then task',
      nodes: [
        node('start', 'trigger.manual'),
        node('draft', 'agent.runSkill', { agentId: cast.writer.id, skill: 'draft-email', params: { to: 'john.doe@acme.test' } }, 200),
        node('task', 'action.createTask', { title: 'Send it' }, 400),
      ],
      edges: [{ id: 'e1', source: 'start', target: 'draft' }, { id: 'e2', source: 'draft', target: 'task' }],
    };
    await s.api.flows.save.mutate({ document: doc as never });
    await s.api.flows.deploy.mutate({ docId: doc.id });
    const runId = (await s.api.runs.start.mutate({ docId: doc.id })).runId;
    expect((await waitForRun(s.api as never, runId, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');
    // A plan: one step fails (not critical), two succeed.
    const plan = await s.api.plans.run.mutate({
      document: planDoc('figures-plan', [
        { id: 'bad', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: randomUUID() }, critical: false },
        { id: 'good', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: cast.jane.id } },
        { id: 'email', skill: 'draft-email', agent: cast.writer.id, params: { to: 'jane.roe@globex.test' } },
      ], [['good', 'email']]),
      wait: true,
    });
    expect(plan.steps.map((x) => [x.name, x.status]).sort()).toEqual([['bad', 'failed'], ['email', 'done'], ['good', 'done']]);

    const m = await s.api.monitor.metrics.query({});
    const t = m.success.taskCompletion;

    // Task completion, counted from the tables: skill requests not made by a plan step, and plan steps.
    // A request that ended (`done`) whose skill reported `success: false` did not succeed.
    const requests = await s.query<{ agent_id: string; status: string; n: string }>(
      `select agent_id, case when status = 'done' and (result->>'success')::boolean is not false then 'done' else 'failed' end as status, count(*) as n
         from agent_requests q
        where kind = 'skill' and status in ('done', 'failed') and not exists (select 1 from plan_runs p where p.id::text = q.payload->'meta'->>'runId')
        group by 1, 2`);
    expect((await s.query(`select 1 from agent_requests where status = 'done' and result->>'success' = 'false'`)).length).toBeGreaterThanOrEqual(2);
    const steps = await s.query<{ agent_id: string; status: string; n: string }>(
      `select agent_id, status, count(*) as n from plan_steps where status in ('done', 'failed') group by 1, 2`);
    const count = (rows: { agent_id: string; status: string; n: string }[], status: string, agent?: string) =>
      rows.filter((r) => r.status === status && (agent === undefined || r.agent_id === agent)).reduce((n, r) => n + Number(r.n), 0);
    const succeeded = count(requests, 'done') + count(steps, 'done');
    const assigned = succeeded + count(requests, 'failed') + count(steps, 'failed');
    // The mix above: 2 + 1 requests done, 1 failed; 2 plan steps done, 1 failed.
    expect([succeeded, assigned]).toEqual([5, 7]);
    expect([t.succeeded, t.assigned, t.rate]).toEqual([succeeded, assigned, succeeded / assigned]);
    expect(t.requests).toEqual({ done: count(requests, 'done'), failed: count(requests, 'failed') });
    expect(t.planSteps).toMatchObject({ done: count(steps, 'done'), failed: count(steps, 'failed'), measured: true });
    for (const agent of [cast.researcher, cast.writer]) {
      const done = count(requests, 'done', agent.id) + count(steps, 'done', agent.id);
      const failed = count(requests, 'failed', agent.id) + count(steps, 'failed', agent.id);
      expect(t.perAgent.find((a) => a.agentId === agent.id)).toMatchObject({ name: agent.name, succeeded: done, assigned: done + failed });
    }
    expect(t.daily.reduce((n, d) => n + d.assigned, 0)).toBe(assigned);

    // Time saved, counted from the tables: effects with a result of a flow's run, agent skill requests a
    // run asked for, and plan steps done.
    const effects = await s.query<{ kind: string; n: string }>(
      `select e.kind, count(*) as n from effects e join runs r on r.id = e.run_id where e.result is not null and e.kind = any(?::text[]) group by 1`,
      [`{${Object.keys(EFFECT_NODE).join(',')}}`]);
    const [fromRuns] = await s.query<{ n: string }>(
      `select count(*) as n from agent_requests q join runs r on r.id::text = q.payload->'meta'->>'runId'
        where q.kind = 'skill' and q.status = 'done' and (q.result->>'success')::boolean is not false`);
    const planDone = count(steps, 'done');
    const minutes = effects.reduce((sum, e) => sum + Number(e.n) * DEFAULT_MINUTES[EFFECT_NODE[e.kind]!]!, 0)
      + Number(fromRuns!.n) * DEFAULT_MINUTES['agent.runSkill']! + planDone * DEFAULT_MINUTES['plan.step']!;
    const stepsSaved = effects.reduce((sum, e) => sum + Number(e.n), 0) + Number(fromRuns!.n) + planDone;
    expect(Number(fromRuns!.n)).toBe(1);
    expect(m.success.timeSaved).toMatchObject({ minutes, steps: stepsSaved });
    expect(m.success.timeSaved.perFlow.find((f) => f.docId === doc.id)?.byKind['agent.runSkill']).toEqual({ steps: 1, minutes: DEFAULT_MINUTES['agent.runSkill'] });
    expect(m.success.timeSaved.perFlow.find((f) => f.docId === 'figures-plan')).toMatchObject({ steps: 2, byKind: { 'plan.step': { steps: 2, minutes: 2 * DEFAULT_MINUTES['plan.step']! } } });
    // Per week: the minutes over the 30-day period, scaled to 7 days.
    expect(m.success.timeSaved.hoursPerWeek).toBeCloseTo((minutes / 60) * (7 / 30), 10);
  });
});
