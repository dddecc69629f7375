import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentsOf } from '../src/agents/wiring';
import { proposePlanFromChat } from '../src/plans/chat';
import { backendsUnderTest, switchyardCode } from './host-support';
import { seedCast, startPlanModel, startPlansServer, type PlansServer } from './issue-11-support';

/**
 * Issue 11, "chat can start plans": asking an agent for something that needs several skills
 * answers with a proposed plan (stored beside the answer, nothing run) that the person can open
 * or run; a request one skill can do is still done by the agent itself.
 */
describe.each(backendsUnderTest())('plans proposed in chat (%s)', (backend) => {
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

  const skillRequests = async () => Number((await s.query<{ n: string }>(`select count(*) as n from agent_requests where kind = 'skill'`))[0]!.n);
  const drafts = async () => Number((await s.query<{ n: string }>('select count(*) as n from drafts'))[0]!.n);

  it('a request needing research and a draft is answered with a plan across both agents; nothing runs until asked', async () => {
    const [requestsBefore, draftsBefore] = [await skillRequests(), await drafts()];
    const res = await s.api.agents.chat.mutate({ id: cast.researcher.id, message: 'Research John Doe and draft a personalized email' });
    expect(res.reply).toContain('I made a plan');
    expect(res.reply).toContain('research (Research Contact, by Research Agent)');
    expect(res.reply).toContain('email (Draft Email, by Writer Agent, after research)');
    // No skill ran and no draft was written: the plan is a proposal.
    expect(await skillRequests()).toBe(requestsBefore);
    expect(await drafts()).toBe(draftsBefore);
    expect((res as { action?: unknown }).action).toBeUndefined();
    const turn = res as typeof res & { plan?: { id: string; messageId: number } };
    expect(turn.plan?.messageId).toBe(res.replyId);

    const { items } = await s.api.plans.chatProposals.query({ agentId: cast.researcher.id });
    expect(items).toHaveLength(1);
    const proposal = items[0]!;
    expect(proposal).toMatchObject({ id: turn.plan!.id, messageId: res.replyId, task: 'Research John Doe and draft a personalized email', source: 'offline', diagnostics: [] });
    expect(proposal.document.kind).toBe('plan');
    expect(proposal.document.nodes.map((n) => [n.id, n.params.skill, n.params.agent])).toEqual([
      ['research', 'research-contact', cast.researcher.id], ['email', 'draft-email', cast.writer.id],
    ]);
    // The answer is in the conversation, under the question.
    expect(res.messages.slice(-2).map((m) => [m.role, m.id])).toEqual([['user', expect.any(Number)], ['assistant', res.replyId]]);

    // Run as proposed: the seed's outcome, the email built from the research.
    const run = await s.api.plans.run.mutate({ document: proposal.document, wait: true });
    expect(run.status).toBe('success');
    expect((run.outcome!.results.email as { to: string[] }).to).toEqual(['john.doe@acme.test']);
    // Or opened on the canvas: it is a plan flow like any other.
    const saved = await s.api.flows.save.mutate({ document: proposal.document });
    expect(saved.diagnostics).toEqual([]);
  });

  it('a request one skill can do is done by the agent itself, as before (no plan)', async () => {
    const res = await s.api.agents.chat.mutate({ id: cast.researcher.id, message: 'Research Jane Roe' });
    expect(res.action?.skill).toBe('research-contact');
    expect(res.reply).not.toContain('plan');
    expect((await s.api.plans.chatProposals.query({ agentId: cast.researcher.id })).items).toHaveLength(1);
  });

  it("a writing request is the writer's own job: it drafts, no plan", async () => {
    const res = await s.api.agents.chat.mutate({ id: cast.writer.id, message: 'Draft an email to jane.roe@globex.test about the renewal' });
    expect(res.action?.skill).toBe('draft-email');
    expect((await s.api.plans.chatProposals.query({ agentId: cast.writer.id })).items).toHaveLength(0);
  });

  it('a question asked again (a chat request re-run after a crash) finds its proposal: no second proposal, no second answer', async () => {
    const res = await s.api.agents.chat.mutate({ id: cast.writer.id, message: 'Research Jane Roe and draft a personalized email' });
    const agents = agentsOf(s.server.services);
    const agent = await agents.store.get(cast.researcher.userId, cast.writer.id);
    const question = res.messages.at(-2)!;
    const again = await proposePlanFromChat(agents, agent, { message: question.content, conversationId: res.conversationId, userMessageId: question.id });
    expect(again).toMatchObject({ replyId: res.replyId, reply: res.reply });
    expect((await s.api.plans.chatProposals.query({ agentId: cast.writer.id })).items).toHaveLength(1);
    expect((await s.api.agents.memory.query({ id: cast.writer.id })).conversation!.messages.filter((m) => m.role === 'assistant')).toHaveLength(2);
  });

  it('a plan one of whose skills no agent can run is answered with the reason, and nothing is proposed', async () => {
    const before = (await s.api.plans.chatProposals.query({ agentId: cast.researcher.id })).items.length;
    const res = await s.api.agents.chat.mutate({ id: cast.researcher.id, message: 'Research John Doe, schedule a follow-up with John Doe and draft an email' });
    expect(res.reply).toContain('No capable agent for skill schedule-follow-up');
    expect((await s.api.plans.chatProposals.query({ agentId: cast.researcher.id })).items).toHaveLength(before);
  });

  it("another user's agent's proposals are NOT_FOUND; a bad agent id is NOT_FOUND", async () => {
    expect(await s.other.plans.chatProposals.query({ agentId: cast.researcher.id }).catch((e: unknown) => switchyardCode(e))).toBe('NOT_FOUND');
    expect(await s.api.plans.chatProposals.query({ agentId: 'not-an-agent' }).catch((e: unknown) => switchyardCode(e))).toBe('NOT_FOUND');
  });
});

describe.each(backendsUnderTest())('plans proposed in chat, with a model (%s)', (backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('the analyser decides that a plan is needed; the model analyses the task into the plan', async () => {
    const model = await startPlanModel();
    cleanup.push(() => model.stop());
    const s = await startPlansServer(backend, { env: model.env });
    cleanup.push(async () => {
      await s.stop();
      await s.storage.drop();
    });
    const cast = await seedCast(s.api);
    const res = await s.api.agents.chat.mutate({ id: cast.writer.id, message: 'Research John Doe and draft a personalized email' });
    expect(res.reply).toContain('I made a plan');
    expect(res.model).toBe('plan-test-model');
    // One model call, the plan analysis; the chat model was not asked.
    expect(model.requests.map((r) => r.schema)).toEqual(['task_analysis']);
    const [proposal] = (await s.api.plans.chatProposals.query({ agentId: cast.writer.id })).items;
    expect(proposal!.source).toBe('model');
    expect(proposal!.document.nodes[1]!.params).toMatchObject({ agent: cast.writer.id, params: { instructions: 'MODEL PLAN: mention {{ steps.research.output.insights }}' } });
  });
});
