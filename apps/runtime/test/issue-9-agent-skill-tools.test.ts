import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from './host-support';
import { agentReplyFlow, startAgentsServer, type AgentsServer } from './support/agents-support';

/**
 * Issue 9, Agents: an agent given Draft Email without the tools it needs passed the canvas with
 * "0 problems" and failed at run time (`may not use the tool "getContact"`). The runtime-side check
 * (`agents.flowDiagnostics`, added to flows.validate/deploy) pins it on the `Run agent skill` node.
 */
describe.each(backendsUnderTest())('agent.runSkill nodes checked against the agent (%s)', (backend) => {
  let s: AgentsServer;
  let userId: string;
  beforeAll(async () => {
    s = await startAgentsServer(backend);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  const diagnostics = async (doc: unknown) => {
    userId ??= (await s.query<{ id: string }>(`select id from users order by created_at limit 1`))[0]!.id;
    return s.agents.flowDiagnostics(userId, doc);
  };

  it('a skill whose required tools the agent may not use is an error on that node and param', async () => {
    const bare = await s.api.agents.create.mutate({ name: 'Bare', skills: ['draft-email'], tools: [] });
    expect(await diagnostics(agentReplyFlow(bare.id))).toEqual([{
      code: 'invalid-params', severity: 'error', nodeId: 'reply', path: ['nodes', 1, 'params', 'skill'],
      message: 'Agent "Bare" may not use getContact, createDraft, which Draft Email needs: allow them on the agent\'s page',
    }]);
    const ready = await s.api.agents.create.mutate({ name: 'Ready', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    expect(await diagnostics(agentReplyFlow(ready.id))).toEqual([]);
  });

  it('an unknown agent, a skill the agent lacks, a paused agent', async () => {
    expect((await diagnostics(agentReplyFlow(randomUUID())))[0]).toMatchObject({ nodeId: 'reply', path: ['nodes', 1, 'params', 'agentId'], message: 'No such agent: choose one of your agents' });
    const other = await s.api.agents.create.mutate({ name: 'Researcher', skills: ['research-contact'], tools: ['getContact', 'memory'] });
    expect((await diagnostics(agentReplyFlow(other.id)))[0]).toMatchObject({ severity: 'error', message: expect.stringContaining('does not have the skill "Draft Email"') });
    const paused = await s.api.agents.create.mutate({ name: 'Sleepy', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    await s.api.agents.update.mutate({ id: paused.id, active: false });
    expect(await diagnostics(agentReplyFlow(paused.id))).toEqual([expect.objectContaining({ severity: 'warning', path: ['nodes', 1, 'params', 'agentId'] })]);
    // Templates are only known at run time.
    expect(await diagnostics(agentReplyFlow('{{ trigger.agent }}'))).toEqual([]);
  });

  it("another user's agent is unknown", async () => {
    const mine = await s.api.agents.create.mutate({ name: 'Mine', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    const otherUser = (await s.query<{ id: string }>(`select id from users where id <> ? limit 1`, [userId]))[0];
    if (otherUser) expect((await s.agents.flowDiagnostics(otherUser.id, agentReplyFlow(mine.id)))[0]).toMatchObject({ message: 'No such agent: choose one of your agents' });
    expect(otherUser).toBeDefined();
  });
});
