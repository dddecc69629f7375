import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { client, freshStorage, spawnRuntime, TOKEN, type RuntimeProcess } from './host-support';
import { startFakeOpenAi } from './support/agents-support';
import { sse } from './support/sse';

// Agents are owned like runs (apps/runtime/src/agents/ownership.ts): one process holds an agent and
// runs its whole mailbox, whoever the request came through. Two processes need one shared server:
// PostgreSQL only (the embedded database has one process by construction).
describe.runIf(Boolean(process.env.DATABASE_URL))('agent ownership across processes (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  async function setup(ids: [string, string] | null) {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const fake = await startFakeOpenAi();
    cleanup.push(() => fake.stop());
    const env = { ...storage.env, OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'sk-test', SWITCHYARD_MODEL: 'test-model', SWITCHYARD_LEASE_MS: '1500' };
    const procs: RuntimeProcess[] = [];
    for (const id of ids ?? [null, null]) {
      const p = await spawnRuntime(id ? { ...env, SWITCHYARD_INSTANCE_ID: id } : env);
      procs.push(p);
      cleanup.push(() => p.kill('SIGTERM'));
    }
    const db = new pg.Client({ connectionString: storage.env.DATABASE_URL });
    await db.connect();
    cleanup.push(() => db.end());
    const q = async <T>(text: string, values: unknown[] = []) => (await db.query(text, values)).rows as T[];
    return { a: procs[0]!, b: procs[1]!, fake, q };
  }

  it('one process runs an agent\'s whole mailbox, one request at a time, whichever process the requests came through', async () => {
    // No instance ids set: each process gets its own, so they cannot both own the agent.
    const { a, b, fake, q } = await setup(null);
    const apiA = client(a.url);
    const apiB = client(b.url);
    const agent = await apiA.agents.create.mutate({ name: 'Shared mailbox' });
    const asks = [
      apiB.agents.chat.mutate({ id: agent.id, message: 'first SLOW question' }),
      apiA.agents.chat.mutate({ id: agent.id, message: 'second question' }),
      apiB.agents.chat.mutate({ id: agent.id, message: 'third question' }),
    ];
    const replies = await Promise.all(asks);
    // Every caller got its own answer, from the model, wherever it asked.
    expect(replies[0]!.reply).toContain('too late'); // the fake model's slow answer (3 s)
    expect(replies[1]!.reply).toContain('MODEL REPLY to: second question');
    expect(replies[2]!.reply).toContain('MODEL REPLY to: third question');
    expect(fake.requests).toHaveLength(3);

    const [owner] = await q<{ owner: string; lease_epoch: string }>('select owner, lease_epoch from agents where id = $1', [agent.id]);
    const rows = await q<{ owner: string; submitted_by: string; started_at: Date; finished_at: Date; status: string }>(
      `select owner, submitted_by, started_at, finished_at, status from agent_requests where agent_id = $1 order by started_at`, [agent.id]);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.status === 'done')).toBe(true);
    // Submitted through both processes, run by the one owner.
    expect(new Set(rows.map((r) => r.submitted_by)).size).toBe(2);
    expect(new Set(rows.map((r) => r.owner))).toEqual(new Set([owner!.owner]));
    // One at a time: each request started after the one before it finished.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.started_at.getTime()).toBeGreaterThanOrEqual(rows[i - 1]!.finished_at.getTime());
  });

  it('agents.watch on the other process follows the agent; the owner killed, the other adopts the agent and answers the waiting caller', async () => {
    const { a, b, fake, q } = await setup(['node-a', 'node-b']);
    const apiA = client(a.url);
    const apiB = client(b.url);
    const agent = await apiA.agents.create.mutate({ name: 'Adopted' });
    expect((await q<{ owner: string }>('select owner from agents where id = $1', [agent.id]))[0]!.owner).toBe('node-a');

    // B's watchers see the states A's actor goes through.
    const controller = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      const url = `${b.url}/trpc/agents.watch?input=${encodeURIComponent(JSON.stringify({ id: agent.id }))}`;
      try {
        for await (const { data } of sse(url, TOKEN, controller.signal)) {
          const live = data as { state?: string };
          if (live.state) seen.push(live.state);
        }
      } catch (e) {
        if (!controller.signal.aborted) throw e;
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    const quick = await apiB.agents.chat.mutate({ id: agent.id, message: 'hello there' });
    expect(quick.reply).toContain('MODEL REPLY to: hello there');
    const deadline = Date.now() + 5000;
    while (!(seen.includes('working') && seen.at(-1) === 'idle') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen[0]).toBe('idle');
    expect(seen).toContain('working');
    expect(seen.at(-1)).toBe('idle');
    controller.abort();
    await watching;

    // A request through B that A is running when A dies: B adopts the agent after A's lease runs
    // out, runs the request again and the caller waiting on B gets the answer.
    const slow = apiB.agents.chat.mutate({ id: agent.id, message: 'a SLOW one' });
    const asked = () => fake.requests.filter((r) => r.messages.at(-1)?.content === 'a SLOW one').length;
    const started = Date.now() + 5000;
    while (asked() === 0 && Date.now() < started) await new Promise((r) => setTimeout(r, 20));
    expect(asked()).toBe(1);
    expect((await q<{ owner: string }>(`select owner from agent_requests where agent_id = $1 and status = 'running'`, [agent.id]))).toEqual([{ owner: 'node-a' }]);
    expect(await a.kill('SIGKILL')).toBe(-1);
    const answer = await slow;
    expect(answer.reply).toContain('too late'); // the fake model's slow answer
    const [after] = await q<{ owner: string; lease_epoch: string }>('select owner, lease_epoch from agents where id = $1', [agent.id]);
    expect(after!.owner).toBe('node-b');
    const rows = await q<{ owner: string; status: string }>(`select owner, status from agent_requests where agent_id = $1 and payload->>'message' = 'a SLOW one'`, [agent.id]);
    expect(rows).toEqual([{ owner: 'node-b', status: 'done' }]);
    // The model was asked twice for it (A died mid-call), and the conversation holds one answer.
    expect(asked()).toBe(2);
    const memory = await apiB.agents.memory.query({ id: agent.id });
    expect(memory.conversation!.messages.filter((m) => m.role === 'assistant' && m.content.includes('too late'))).toHaveLength(1);
  });
});
