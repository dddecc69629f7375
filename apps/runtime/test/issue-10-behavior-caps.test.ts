import { afterAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from './host-support';
import { startAgentsServer, type AgentsServer } from './support/agents-support';

const NOW = Date.UTC(2026, 0, 7, 15, 0);

/** On each login: the agent writes a check-in to one contact (one model call), then a task names the activation. */
const behavior = (agentId: string, contactId: string) => ({
  schemaVersion: 1, id: 'capped-check-in', kind: 'behavior', name: 'Check in with an agent',
  nodes: [
    { id: 'login', type: 'trigger.userLogin', position: { x: 0, y: 0 }, params: {} },
    { id: 'write', type: 'agent.runSkill', position: { x: 200, y: 0 }, params: { agentId, skill: 'write-check-in', params: { contactId, tone: 'friendly' } } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Check-in #{{ run.activation }}' } },
  ],
  edges: [{ id: 'e1', source: 'login', target: 'write' }, { id: 'e2', source: 'write', target: 'task' }],
});

// A behavior is one run for its whole life: an agent's per-run caps count one activation of it,
// not every activation since it was deployed.
describe.each(backendsUnderTest())("an agent's per-run caps count one activation of a behavior (%s)", (backend) => {
  let s: AgentsServer | undefined;
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('an agent allowed one model call per run serves every activation', async () => {
    s = await startAgentsServer(backend);
    s.clock.set(NOW);
    const contact = (await s.api.crm.contacts.create.mutate({ name: 'Ada Lovelace', email: 'ada@example.test' } as never)) as unknown as { id: string };
    const agent = await s.api.agents.create.mutate({ name: 'Writer', skills: ['write-check-in'], tools: ['getContact'], caps: { maxSteps: 1 } } as never);
    await s.api.flows.save.mutate({ document: behavior(agent.id, contact.id) as never });
    await s.api.flows.deploy.mutate({ docId: 'capped-check-in' });

    let runId = '';
    const titles = async () => {
      const page = (await s!.api.crm.tasks.list.query({ limit: 50 } as never)) as unknown as { items: { sourceRunId: string; title: string }[] };
      return page.items.filter((t) => t.sourceRunId === runId).map((t) => t.title).sort();
    };
    for (let n = 1; n <= 3; n++) {
      const { runs } = await s.api.events.emit.mutate({ type: 'user.login', payload: { at: new Date(NOW + n * 60_000).toISOString() }, dedupeKey: `login-${n}` } as never);
      runId = runs[0]!.runId;
      await expect.poll(titles, { timeout: 20_000 }).toContain(`Check-in #${n}`);
    }
    expect(await titles()).toEqual(['Check-in #1', 'Check-in #2', 'Check-in #3']);
    // One model call per activation, each recorded with the activation it served.
    const calls = await s.query<{ activation: number }>('select activation from llm_calls where run_id = ? order by activation', [runId]);
    expect(calls.map((c) => Number(c.activation))).toEqual([1, 2, 3]);
    const failed = await s.query('select 1 from agent_requests where status = ? and agent_id = ?', ['failed', agent.id]);
    expect(failed).toHaveLength(0);
  });
});
