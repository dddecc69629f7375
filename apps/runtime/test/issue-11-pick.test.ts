import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../src/agents/agent.store';
import { pickAgent, type AgentLoad } from '../src/plans/capable';
import { backendsUnderTest } from './host-support';
import { RESEARCH_TOOLS, planDoc, seedCast, startPlansServer, type PlansServer } from './issue-11-support';

const agent = (id: string, name: string) => ({ id, name }) as AgentRecord;

/** Issue 11, the coordinator's documented pick rule for "any capable agent". */
describe('the pick rule', () => {
  const a = agent('a', 'Alpha');
  const b = agent('b', 'Bravo');
  const loads = (la: AgentLoad, lb: AgentLoad) => new Map([['a', la], ['b', lb]]);

  it('the shortest mailbox first, then the better past success rate, then an agent already in the plan, then the name', () => {
    expect(pickAgent([a, b], loads({ mailbox: 2, successRate: 1 }, { mailbox: 1, successRate: 0.1 }))?.id).toBe('b');
    expect(pickAgent([a, b], loads({ mailbox: 1, successRate: 0.5 }, { mailbox: 1, successRate: 0.9 }))?.id).toBe('b');
    expect(pickAgent([a, b], loads({ mailbox: 1, successRate: 0.9 }, { mailbox: 1, successRate: 0.9 }), new Set(['b']))?.id).toBe('b');
    expect(pickAgent([b, a], loads({ mailbox: 0, successRate: 1 }, { mailbox: 0, successRate: 1 }))?.id).toBe('a');
    expect(pickAgent([], new Map())).toBeNull();
  });
});

describe.each(backendsUnderTest())('picking and coordinating through the mailboxes (%s)', (backend) => {
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

  it("an agent whose past research failed is picked after one that succeeded; each step's request is in its agent's mailbox", async () => {
    const second = await s.api.agents.create.mutate({ name: 'Second Researcher', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    // Equal mailboxes, no history: the name decides ("Research Agent" before "Second Researcher").
    const first = await s.api.plans.fromTask.mutate({ description: 'Research John Doe' });
    expect(first.document.nodes[0]!.params.agent).toBe(cast.researcher.id);
    // A failed research in the researcher's history: now the second researcher is the better pick.
    const failed = await s.api.plans.run.mutate({ document: planDoc('fails', [{ id: 'gone', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: randomUUID() } }]), wait: true });
    expect(failed.status).toBe('failed');
    const next = await s.api.plans.fromTask.mutate({ description: 'Research John Doe' });
    expect(next.document.nodes[0]!.params.agent).toBe(second.id);
    expect(next.assignments).toEqual([expect.objectContaining({ step: 'research', agentId: second.id, reason: 'capable; 0 request(s) in its mailbox, 100% past success' })]);

    // Run as proposed: the step's request went through that agent's mailbox, with a key (run, step and attempt, hashed).
    const run = await s.api.plans.run.mutate({ document: next.document, wait: true });
    expect(run.status).toBe('success');
    const requests = await s.query<{ agent_id: string; request_key: string; status: string }>(
      `select agent_id, request_key, status from agent_requests where payload->'meta'->>'runId' = ?`, [run.id]);
    expect(requests).toEqual([{ agent_id: second.id, request_key: expect.stringMatching(/^[0-9a-f]{64}$/), status: 'done' }]);
  });
});
