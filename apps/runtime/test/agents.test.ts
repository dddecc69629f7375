import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stableStringify } from '@switchyard/actors';
import { backendsUnderTest, switchyardCode } from './host-support';
import { rejection } from './support/test-db';
import { agentReplyFlow, startAgentsServer, waitForRun, type AgentsServer } from './support/agents-support';

const NOW = Date.UTC(2026, 0, 7, 15, 0);

describe.each(backendsUnderTest())('agents through the API, offline model (%s)', (backend) => {
  let s: AgentsServer;
  let agentId: string;
  let contactId: string;

  beforeAll(async () => {
    // The scheduler's sweep job (bree) runs every second here, so the TTL test sees it work.
    s = await startAgentsServer(backend, { env: { SWITCHYARD_SWEEP_SECONDS: '1' } });
    s.clock.set(NOW);
    const agent = await s.api.agents.create.mutate({
      name: 'Test Agent', description: 'Helps with sales', skills: ['research-contact', 'draft-email'],
      tools: ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory', 'createDraft'],
    });
    agentId = agent.id;
    const contact = await s.api.crm.contacts.create.mutate({ name: 'Ada Lovelace', email: 'ada@analytical.test', company: 'Analytical Engines', title: 'CTO', notes: 'Recently changed jobs; hiring engineers.' } as never);
    contactId = (contact as { id: string }).id;
    await s.api.crm.emails.create.mutate({ direction: 'inbound', from: 'ada@analytical.test', to: ['me@example.test'], subject: 'Pricing', body: 'Could you send the pricing?' } as never);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('skills: list, search, get with docs, examples and JSON-schema params, validate with defaults', async () => {
    const { items } = await s.api.skills.list.query();
    expect(items).toHaveLength(11);
    expect((await s.api.skills.list.query({ category: 'scheduling' })).items.map((i) => i.id).sort()).toEqual(['check-calendar', 'extract-meeting-intent', 'propose-times', 'send-calendar-invite']);
    expect((await s.api.skills.search.query({ query: 'research' })).items.map((i) => i.id)).toEqual(['research-contact']);
    const research = await s.api.skills.get.query({ id: 'research-contact' });
    expect(research).toMatchObject({ category: 'enrichment', requiredTools: expect.arrayContaining(['searchWeb']), examples: expect.any(Array) });
    expect(research.docs).toContain('Contact not found');
    expect(research.params).toMatchObject({ type: 'object', properties: { depth: { enum: ['basic', 'detailed', 'comprehensive'] } } });
    expect(await s.api.skills.validate.query({ skill: 'research-contact', params: { contactId: 'x' } })).toEqual({ ok: true, params: { contactId: 'x', depth: 'detailed', sources: ['web', 'social', 'emails'] } });
    expect(await s.api.skills.validate.query({ skill: 'research-contact', params: {} })).toMatchObject({ ok: false, issues: [{ path: ['contactId'] }] });
    expect(switchyardCode(await rejection(s.api.skills.get.query({ id: 'nope' })))).toBe('NOT_FOUND');
  });

  it('agents: create/get/update/delete with typed errors, scoped per user', async () => {
    const got = await s.api.agents.get.query({ id: agentId });
    expect(got).toMatchObject({ name: 'Test Agent', state: 'idle', active: true, personality: { formality: 0.5, empathy: 0.5 }, model: { name: 'offline', offline: true } });
    expect(got.systemPromptFull).toContain('personality traits');
    expect((await s.api.agents.list.query()).items.map((a) => a.id)).toEqual([agentId]);
    expect((await s.other.agents.list.query()).items).toEqual([]);
    expect(switchyardCode(await rejection(s.other.agents.get.query({ id: agentId })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.other.agents.remember.mutate({ id: agentId, key: 'k', value: 1 })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.api.agents.get.query({ id: 'not-a-uuid' })))).toBe('NOT_FOUND');
    const bad = await rejection(s.api.agents.create.mutate({ name: 'X', skills: ['no-such-skill'] }));
    expect(switchyardCode(bad)).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.api.agents.create.mutate({ name: '', personality: { formality: 2 } } as never)))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.api.agents.create.mutate({ name: 'X', tools: ['rm -rf'] } as never)))).toBe('BAD_INPUT');

    const temp = await s.api.agents.create.mutate({ name: 'Temp', personality: { formality: 0.8 }, caps: { maxSteps: 3 } });
    expect(temp.caps).toEqual({ maxSteps: 3, maxToolCalls: 100, maxTokens: 60_000 });
    // A partial update changes only what it names: other traits and caps keep their values.
    const updated = await s.api.agents.update.mutate({ id: temp.id, description: 'changed', personality: { brevity: 0.9 }, caps: { maxTokens: 5000 } });
    expect(updated).toMatchObject({ description: 'changed', personality: { brevity: 0.9, formality: 0.8 }, caps: { maxSteps: 3, maxToolCalls: 100, maxTokens: 5000 } });
    for (const caps of [{ maxSteps: 0 }, { maxToolCalls: 1.5 }, { maxTokens: 10 }, { maxSteps: 101 }]) {
      const e = await rejection(s.api.agents.update.mutate({ id: temp.id, caps } as never));
      expect(switchyardCode(e)).toBe('BAD_INPUT');
    }
    expect((await s.api.agents.get.query({ id: temp.id })).caps).toEqual({ maxSteps: 3, maxToolCalls: 100, maxTokens: 5000 });
    await s.api.agents.delete.mutate({ id: temp.id });
    expect(switchyardCode(await rejection(s.api.agents.get.query({ id: temp.id })))).toBe('NOT_FOUND');
  });

  it('research-contact returns profile and insights for a real contact, remembers them; unknown contact -> "Contact not found"', async () => {
    const res = await s.api.agents.runSkill.mutate({ id: agentId, skill: 'research-contact', params: { contactId, depth: 'basic' } });
    expect(res.success).toBe(true);
    const out = res.output as { profile: Record<string, unknown>; insights: string[]; recommendations: string[] };
    expect(out.profile).toMatchObject({ name: 'Ada Lovelace', company: 'Analytical Engines', emailCount: 1, inboundEmails: 1 });
    expect(out.insights).toEqual(expect.arrayContaining(['CTO at Analytical Engines', 'linkedin: Recently changed roles']));
    expect(res.sideEffects).toEqual([{ type: 'contact.updated', data: { contactId, enrichedData: out.profile } }]);
    expect(res.suggestedNextSteps).toContain('Reply to "Pricing"');
    expect((await s.api.agents.recall.query({ id: agentId, key: `research:${contactId}` })).value).toMatchObject({ contactId, findings: out.insights });

    const missing = await s.api.agents.runSkill.mutate({ id: agentId, skill: 'research-contact', params: { contactId: 'invalid-id' } });
    expect(missing).toMatchObject({ success: false, output: { error: 'Contact not found' } });
    expect(switchyardCode(await rejection(s.api.agents.runSkill.mutate({ id: agentId, skill: 'research-contact', params: {} })))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.api.agents.runSkill.mutate({ id: agentId, skill: 'propose-times', params: {} })))).toBe('FORBIDDEN');
  });

  it('the tool allow-list is enforced by the dispatcher: a source the agent may not use is refused, keyed by source', async () => {
    const limited = await s.api.agents.create.mutate({ name: 'Limited', skills: ['research-contact'], tools: ['getContact', 'searchEmails', 'memory'] });
    const res = await s.api.agents.runSkill.mutate({ id: limited.id, skill: 'research-contact', params: { contactId } });
    expect(res.success).toBe(true);
    expect(res.output).toMatchObject({ sources: ['emails'], sourceErrors: { web: expect.stringContaining('may not use the tool "searchWeb"'), social: expect.stringContaining('enrichContact') }, profile: { emailCount: 1 } });
    expect(res.toolCalls).toEqual(expect.arrayContaining([{ tool: 'searchWeb', status: 'refused', reason: 'not on the allow-list' }]));
    // A refused source is a source error; a refused tool the skill cannot do without fails the skill, as data.
    const noMemory = await s.api.agents.create.mutate({ name: 'No memory', skills: ['research-contact'], tools: ['getContact'] });
    expect(await s.api.agents.runSkill.mutate({ id: noMemory.id, skill: 'research-contact', params: { contactId, sources: ['emails'] } }))
      .toMatchObject({ success: false, error: 'Agent "No memory" may not use the tool "memory"', toolCalls: [{ tool: 'searchEmails', status: 'refused' }, { tool: 'memory', status: 'refused' }] });
  });

  it('memory persists across executions; a 1-second TTL expires on the controlled clock and the sweep removes it', async () => {
    await s.api.agents.remember.mutate({ id: agentId, key: 'test-key', value: { value: 'test-data' } });
    expect((await s.api.agents.recall.query({ id: agentId, key: 'test-key' })).value).toEqual({ value: 'test-data' });
    // The test clock moves with real time from where it was set: the expiry lies one second after the call.
    const before = s.clock.now();
    await s.api.agents.remember.mutate({ id: agentId, key: 'temp-key', value: { value: 'temp-data' }, ttlSeconds: 1 });
    const after = s.clock.now();
    const entry = (await s.api.agents.memory.query({ id: agentId, prefix: 'temp' })).entries[0]!;
    expect(entry.key).toBe('temp-key');
    expect(Date.parse(entry.expiresAt!)).toBeGreaterThanOrEqual(before + 1000);
    expect(Date.parse(entry.expiresAt!)).toBeLessThanOrEqual(after + 1000);
    expect((await s.api.agents.recall.query({ id: agentId, key: 'temp-key' })).value).toEqual({ value: 'temp-data' });
    s.clock.set(s.clock.now() + 1100);
    expect((await s.api.agents.recall.query({ id: agentId, key: 'temp-key' })).value).toBeNull();
    // The scheduler's bree sweep job deletes the expired row (it runs every second in this test).
    const deadline = Date.now() + 10_000;
    while ((await s.query('select key from agent_memory where key = ?', ['temp-key'])).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect((await s.query('select key from agent_memory where key = ?', ['temp-key']))).toHaveLength(0);
    expect((await s.api.agents.recall.query({ id: agentId, key: 'test-key' })).value).toEqual({ value: 'test-data' });
  });

  it('200 concurrent remember calls with distinct keys on one agent: all 200 recalled', async () => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.api.agents.remember.mutate({ id: agentId, key: `bulk:${i}`, value: { i } })));
    const { entries } = await s.api.agents.memory.query({ id: agentId, prefix: 'bulk:' });
    expect(entries).toHaveLength(200);
    const recalled = await Promise.all(Array.from({ length: 200 }, (_, i) => s.api.agents.recall.query({ id: agentId, key: `bulk:${i}` })));
    expect(recalled.map((r) => (r.value as { i: number }).i)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('feedback "too formal" x3 lowers formality by 0.3, clamps at 0, and changes the system prompt', async () => {
    const before = await s.api.agents.get.query({ id: agentId });
    expect(before.personalityPrompt).not.toContain('casual and friendly');
    for (let i = 0; i < 3; i++) await s.api.agents.feedback.mutate({ id: agentId, feedback: 'too-formal' });
    const after = await s.api.agents.get.query({ id: agentId });
    expect(after.personality.formality).toBeCloseTo(0.2, 10);
    expect(after.personalityPrompt).toContain('casual and friendly');
    expect(after.systemPromptFull).not.toBe(before.systemPromptFull);
    const r = await s.api.agents.feedback.mutate({ id: agentId, feedback: ['too-formal', 'too-formal', 'too-formal', 'too-long'] });
    expect(r.personality).toMatchObject({ formality: 0, brevity: 0.6 });
    expect(switchyardCode(await rejection(s.api.agents.feedback.mutate({ id: agentId, feedback: 'too-weird' as never })))).toBe('BAD_INPUT');
  });

  it("an agent's caps stop a request that needs more tool calls than allowed", async () => {
    const tight = await s.api.agents.create.mutate({
      name: 'Tight', skills: ['research-contact'], tools: ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'], caps: { maxToolCalls: 2 },
    });
    const e = await rejection(s.api.agents.runSkill.mutate({ id: tight.id, skill: 'research-contact', params: { contactId } }));
    expect(switchyardCode(e)).toBe('RATE_LIMITED');
    expect(e.message).toContain('cap of 2 tool calls');
    expect((await s.api.agents.get.query({ id: tight.id })).state).toBe('error');
    await s.api.agents.update.mutate({ id: tight.id, caps: { maxToolCalls: 100 } });
    expect((await s.api.agents.runSkill.mutate({ id: tight.id, skill: 'research-contact', params: { contactId } })).success).toBe(true);
    expect((await s.api.agents.get.query({ id: tight.id })).state).toBe('idle');
    const requests = await s.query<{ status: string; error: { code: string } | null }>('select status, error from agent_requests where agent_id = ? order by created_at', [tight.id]);
    expect(requests).toEqual([{ status: 'failed', error: expect.objectContaining({ code: 'RATE_LIMITED' }) }, { status: 'done', error: null }]);
  });

  it('chat uses the offline model, keeps history oldest first, and adjusts to the personality', async () => {
    const first = await s.api.agents.chat.mutate({ id: agentId, message: 'Hello there' });
    expect(first).toMatchObject({ model: 'offline', offline: true });
    expect(first.reply).toContain("Hi, I'm Test Agent");
    const second = await s.api.agents.chat.mutate({ id: agentId, message: 'What can you do?' });
    expect(second.messages.map((m) => [m.role, m.content.slice(0, 11)])).toEqual([
      ['user', 'Hello there'], ['assistant', first.reply.slice(0, 11)], ['user', 'What can yo'], ['assistant', second.reply.slice(0, 11)],
    ]);
    // Formality is 0 now: the casual rewrite applies ("I am" -> "I'm").
    expect(second.reply).toContain("I'm running on the offline model");
    const view = await s.api.agents.memory.query({ id: agentId });
    expect(view.conversation?.messages).toHaveLength(4);
    expect(view.interactions.map((i) => i.data.type)).toEqual(expect.arrayContaining(['research', 'skill', 'feedback', 'chat']));
    expect((await s.api.agents.get.query({ id: agentId })).state).toBe('idle');
    const calls = await s.query<{ purpose: string; model: string; status: string }>('select purpose, model, status from llm_calls where agent_id = ? order by id', [agentId]);
    expect(calls.filter((c) => c.purpose === 'chat')).toEqual([{ purpose: 'chat', model: 'offline', status: 'ok' }, { purpose: 'chat', model: 'offline', status: 'ok' }]);
  });

  it('feedback on one answer is recorded on that message; only answers of this agent to this user qualify', async () => {
    const chat = await s.api.agents.chat.mutate({ id: agentId, message: 'Draft me something short' });
    const answer = chat.messages.at(-1)!;
    expect(answer).toMatchObject({ id: chat.replyId, role: 'assistant', feedback: [] });
    const question = chat.messages.at(-2)!;
    expect(question).toMatchObject({ role: 'user', content: 'Draft me something short' });
    await s.api.agents.feedback.mutate({ id: agentId, feedback: ['too-long'], messageId: answer.id });
    await s.api.agents.feedback.mutate({ id: agentId, feedback: 'too-flat', messageId: answer.id, comment: 'more energy' });
    const view = await s.api.agents.memory.query({ id: agentId });
    expect(view.conversation!.messages.find((m) => m.id === answer.id)!.feedback).toEqual(['too-long', 'too-flat']);
    expect(view.interactions.at(-1)!.data).toMatchObject({ type: 'feedback', feedback: ['too-flat'], messageId: answer.id, comment: 'more energy' });
    const before = (await s.api.agents.get.query({ id: agentId })).personality;
    for (const messageId of [question.id, 999_999_999]) {
      expect(switchyardCode(await rejection(s.api.agents.feedback.mutate({ id: agentId, feedback: 'too-long', messageId })))).toBe('NOT_FOUND');
    }
    expect(switchyardCode(await rejection(s.other.agents.feedback.mutate({ id: agentId, feedback: 'too-long', messageId: answer.id })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.api.agents.feedback.mutate({ id: agentId, feedback: 'too-long', messageId: -1 })))).toBe('BAD_INPUT');
    // A refused feedback moves no trait.
    expect((await s.api.agents.get.query({ id: agentId })).personality).toEqual(before);
  });

  it('a workflow with agent.runSkill drafts a reply through the agent (offline text), exactly once', async () => {
    await s.api.flows.save.mutate({ document: agentReplyFlow(agentId) as never });
    await s.api.flows.deploy.mutate({ docId: 'agent-reply' });
    const res = await s.api.events.emit.mutate({ type: 'email.received', payload: { from: 'ada@analytical.test', to: ['me@example.test'], subject: 'Renewal', body: 'Can we talk about the renewal?' } });
    expect(res.runs).toHaveLength(1);
    const run = await waitForRun(s.api as never, res.runs[0]!.runId, (r) => r.status !== 'running');
    expect(run.status).toBe('completed');
    const drafts = await s.query<{ subject: string; body: string; source_run_id: string; contact_id: string }>('select subject, body, source_run_id, contact_id from drafts');
    expect(drafts).toHaveLength(1);
    expect(drafts[0]).toMatchObject({ subject: 'Re: Renewal', source_run_id: run.id, contact_id: contactId });
    expect(drafts[0]!.body).toMatch(/^Hi Ada!\n\nThank you for your email about "Renewal"/);
    // Replaying the step (a retry or a restored run: same effect key) finds the ledger row: still one draft.
    const userId = (await s.query<{ user_id: string }>('select user_id from runs where id = ?', [run.id]))[0]!.user_id;
    const effectKey = stableStringify([run.id, 'reply', { agentId, skill: 'draft-email', params: { tone: 'friendly' }, grantEffects: false }]);
    const replay = await s.agents.port.runSkill({ runId: run.id, userId, nodeId: 'reply', nodeType: 'agent.runSkill', effectKey },
      { agentId, skill: 'draft-email', params: { tone: 'friendly' }, grantEffects: false, trigger: { from: 'ada@analytical.test', subject: 'Renewal', body: 'Can we talk about the renewal?' } });
    expect(replay.success).toBe(true);
    expect(await s.query('select id from drafts')).toHaveLength(1);
    const draftId = (await s.query<{ id: string }>('select id from drafts'))[0]!.id;
    expect((replay.output as { draftId: string }).draftId).toBe(draftId);
    // The restored step (same attempt) got the stored result: the skill did not run again.
    const skillRuns = async () => (await s.query('select id from agent_interactions where agent_id = ? and entity_type = ?', [agentId, 'skill'])).length;
    const ran = await skillRuns();
    expect(await s.query('select status from agent_requests where agent_id = ? and request_key is not null', [agentId])).toEqual([{ status: 'done' }]);
    // A retry (next attempt) runs the skill again; the effect ledger still keeps one draft.
    const retry = await s.agents.port.runSkill({ runId: run.id, userId, nodeId: 'reply', nodeType: 'agent.runSkill', effectKey },
      { agentId, skill: 'draft-email', params: { tone: 'friendly' }, grantEffects: false, attempt: 2, trigger: { from: 'ada@analytical.test', subject: 'Renewal', body: 'Can we talk about the renewal?' } });
    expect((retry.output as { draftId: string }).draftId).toBe(draftId);
    expect(await skillRuns()).toBe(ran + 1);
    expect(await s.query('select id from drafts')).toHaveLength(1);
  });
});
