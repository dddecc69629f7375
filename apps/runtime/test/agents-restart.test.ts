import { afterAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from './host-support';
import { startAgentsServer, type AgentsServer, type Storage } from './support/agents-support';

const NOW = Date.UTC(2026, 0, 7, 15, 0);

describe.each(backendsUnderTest())('agents across a runtime restart (%s)', (backend) => {
  let storage: Storage | undefined;
  let s: AgentsServer | undefined;
  afterAll(async () => {
    await s?.stop();
    await storage?.drop();
  });

  it('memory, TTLs, evolved personality and the agent actor survive a restart', async () => {
    s = await startAgentsServer(backend);
    storage = s.storage;
    s.clock.set(NOW);
    const agent = await s.api.agents.create.mutate({ name: 'Durable', skills: ['research-contact'], tools: ['getContact', 'memory'] });
    await s.api.agents.remember.mutate({ id: agent.id, key: 'goal', value: 'close Q1' });
    // The test clock moves with real time: a TTL of a minute, not a second, so a slow machine
    // between these calls and the checks below cannot expire it early or keep it late (seen in CI).
    s.clock.set(NOW);
    await s.api.agents.remember.mutate({ id: agent.id, key: 'short', value: 1, ttlSeconds: 60 });
    await s.api.agents.remember.mutate({ id: agent.id, key: 'currentGoals', value: [{ description: 'Renew Analytical Engines' }] });
    for (let i = 0; i < 3; i++) await s.api.agents.feedback.mutate({ id: agent.id, feedback: 'too-formal' });
    const before = await s.api.agents.get.query({ id: agent.id });
    await s.stop();

    s = await startAgentsServer(backend, { storage });
    s.clock.set(NOW);
    // The embedded database has one process: it takes every agent on start. On PostgreSQL an agent
    // with nothing to do is taken by the first process that gets a request for it.
    expect(s.agents.stateOf(agent.id)).toBe(backend === 'pglite' ? 'idle' : null);
    expect((await s.api.agents.get.query({ id: agent.id })).state).toBe('idle');
    expect((await s.api.agents.recall.query({ id: agent.id, key: 'goal' })).value).toBe('close Q1');
    expect((await s.api.agents.recall.query({ id: agent.id, key: 'short' })).value).toBe(1);
    s.clock.set(NOW + 120_000);
    expect((await s.api.agents.recall.query({ id: agent.id, key: 'short' })).value).toBeNull();
    const after = await s.api.agents.get.query({ id: agent.id });
    expect(after.personality.formality).toBeCloseTo(0.2, 10);
    expect(after.personalityPrompt).toBe(before.personalityPrompt);
    expect(after.personalityPrompt).toContain('casual and friendly');
    expect(after.systemPromptFull).toContain('Current goals: Renew Analytical Engines');
  });

  it('on start the owner runs every open request of its agents, whoever queued them, oldest first', async () => {
    await s?.stop();
    await storage?.drop();
    const env = { SWITCHYARD_INSTANCE_ID: 'proc-a' };
    s = await startAgentsServer(backend, { env });
    storage = s.storage;
    const agent = await s.api.agents.create.mutate({ name: 'Shared' });
    const { conversationId, messages } = await s.api.agents.chat.mutate({ id: agent.id, message: 'hello' });
    // Requests left open as a crash leaves them (written behind the mailbox's back, so nothing runs
    // them yet): one queued through this process, one through another; the agent has one mailbox.
    const leave = (by: string, message: string, at: string) => s!.query(
      `insert into agent_requests (id, agent_id, user_id, kind, payload, status, submitted_by, created_at)
       select ?, a.id, a.user_id, 'chat', ?::jsonb, 'queued', ?, ?::timestamptz from agents a where a.id = ? returning id`,
      [crypto.randomUUID(), JSON.stringify({ kind: 'chat', message, conversationId, userMessageId: messages.at(-1)!.id + 1 }), by, at, agent.id]);
    const [theirs] = (await leave('proc-b', 'theirs', '2026-01-01T00:00:00Z')) as { id: string }[];
    const [mine] = (await leave('proc-a', 'mine', '2026-01-01T00:00:01Z')) as { id: string }[];
    await s.stop();

    s = await startAgentsServer(backend, { env, storage });
    const rows = async () => s!.query<{ id: string; status: string; owner: string | null; started_at: string | null }>(
      'select id, status, owner, started_at from agent_requests where id = any(?::uuid[])', [`{${mine!.id},${theirs!.id}}`]);
    const deadline = Date.now() + 10_000;
    while ((await rows()).some((r) => r.status !== 'done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const done = await rows();
    expect(done.map((r) => r.status)).toEqual(['done', 'done']);
    // Run by the agent's owner, the older first.
    expect(done.every((r) => r.owner === 'proc-a')).toBe(true);
    const started = new Map(done.map((r) => [r.id, new Date(r.started_at!).getTime()]));
    expect(started.get(theirs!.id)!).toBeLessThanOrEqual(started.get(mine!.id)!);
    const replies = (await s.api.agents.memory.query({ id: agent.id })).conversation!.messages.filter((m) => m.role === 'assistant');
    expect(replies).toHaveLength(3);
  });
});
