import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { BUSINESS_HOURS, client, freshStorage, spawnRuntime, type Client } from './host-support';
import { startWebhookReceiver } from './support/webhook-receiver';

const flow = {
  schemaVersion: 1, id: 'load', kind: 'workflow', name: 'Three internal effects per email',
  nodes: [
    { id: 'in', type: 'trigger.emailReceived', position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Answer {{ trigger.subject }}' } },
    { id: 'note', type: 'action.sendNotification', position: { x: 400, y: 0 }, params: { title: 'New: {{ trigger.subject }}' } },
    { id: 'mem', type: 'action.setMemory', position: { x: 600, y: 0 }, params: { key: 'last-{{ trigger.emailId }}', value: '{{ trigger.subject }}' } },
  ],
  edges: [{ id: 'e1', source: 'in', target: 'task' }, { id: 'e2', source: 'task', target: 'note' }, { id: 'e3', source: 'note', target: 'mem' }],
};

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>) {
  let next = 0;
  const out: T[] = [];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

// Lock-order deadlocks need real concurrent connections: PostgreSQL only.
describe.runIf(Boolean(process.env.DATABASE_URL))('1,500 event-started runs at concurrency 50 with a 1 s lease (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('no deadlock, every transition stored, every run completes with its three effects', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '1000' });
    cleanup.push(() => rt.kill('SIGTERM'));
    onTestFailed(() => console.log(`runtime output (exit ${rt.child.exitCode ?? rt.child.signalCode}):\n${rt.output().slice(-4000)}`));
    const api = client(rt.url);
    await api.flows.save.mutate({ document: flow as never });
    await api.flows.deploy.mutate({ docId: 'load' });

    const N = 1500;
    const started = Date.now();
    await pool(N, 50, (i) => api.events.emit.mutate({
      type: 'email.received', dedupeKey: `load-${i}`,
      payload: { emailId: `load-${i}`, from: `sender${i}@example.test`, subject: `Load ${i}`, isImportant: true },
    } as never));
    const until = Date.now() + 180_000;
    let counts = await statusesOf(api, 'load');
    while ((counts.completed ?? 0) < N && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 1000));
      counts = await statusesOf(api, 'load');
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`1,500 runs: ${JSON.stringify(counts)} in ${seconds.toFixed(1)} s (${(N / seconds).toFixed(0)} runs/s)`);
    expect(counts).toEqual({ completed: N });
    expect(rt.output()).not.toMatch(/deadlock|40P01|failed to persist|a run write failed/);
    // Every transition stored: each run's journal is contiguous and ends completed.
    const sample = (await api.runs.list.query({ docId: 'load', limit: 20 } as never)).items;
    for (const r of sample) {
      const j = (await api.runs.journal.query({ runId: r.id })).items;
      expect(j.map((x) => x.seq)).toEqual(j.map((_, k) => k + 1));
      expect(j.filter((x) => x.eventType?.startsWith('xstate.done.actor.'))).toHaveLength(3);
    }
  }, 400_000);
});

describe.runIf(Boolean(process.env.DATABASE_URL))('three processes, one killed and restarted every few seconds (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('every run completes with exactly one of each internal effect and one webhook key', async () => {
    const receiver = await startWebhookReceiver();
    cleanup.push(receiver.close);
    const { port, keys: deliveries } = receiver;
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '2000', SWITCHYARD_OUTBOUND_ALLOW: `127.0.0.1:${port}`, LOG_LEVEL: 'warn' };
    const names = ['chaos-a', 'chaos-b', 'chaos-c'];
    const procs = await Promise.all(names.map((n) => spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: n })));
    onTestFailed(() => procs.forEach((p, i) => console.log(`${names[i]} output:\n${p.output().slice(-3000)}`)));
    cleanup.push(() => Promise.all(procs.map((p) => p.kill('SIGTERM'))));
    const apis = procs.map((p) => client(p.url));
    await apis[0]!.flows.save.mutate({
      document: {
        schemaVersion: 1, id: 'chaos', kind: 'workflow', name: 'Delay, two effects, webhook',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
          { id: 'wait', type: 'flow.delay', position: { x: 200, y: 0 }, params: { duration: '1 minute' } },
          { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Chaos {{ run.id }}' } },
          { id: 'note', type: 'action.sendNotification', position: { x: 600, y: 0 }, params: { title: 'Chaos {{ run.id }}' } },
          { id: 'hook', type: 'action.webhook', position: { x: 800, y: 0 }, params: { url: `http://127.0.0.1:${port}/hook`, body: '{"run":"{{ run.id }}"}' } },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }, { id: 'e3', source: 'task', target: 'note' }, { id: 'e4', source: 'note', target: 'hook' }],
      } as never,
    });
    await apis[0]!.flows.deploy.mutate({ docId: 'chaos' });
    const N = Number(process.env.CHAOS_RUNS ?? 1000);
    const ids = await pool(N, 30, async (i) => (await apis[i % 3]!.runs.start.mutate({ docId: 'chaos' })).runId);
    const later = String(BUSINESS_HOURS + 3_600_000);
    await Promise.all(procs.map((p) => fetch(`${p.url}/__test/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ now: Number(later) }) })));

    let kills = 0;
    const until = Date.now() + 240_000;
    let counts = await statusesOf(apis[0]!, 'chaos');
    while ((counts.completed ?? 0) < N && Date.now() < until) {
      const k = kills % 3;
      await new Promise((r) => setTimeout(r, 2500));
      await procs[k]!.kill('SIGKILL');
      kills++;
      procs[k] = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: names[k]!, SWITCHYARD_TEST_NOW: later });
      apis[k] = client(procs[k]!.url);
      counts = await statusesOf(apis[(k + 1) % 3]!, 'chaos');
    }
    counts = await statusesOf(apis[0]!, 'chaos');
    const tasks = await countBySource(apis[0]!, 'tasks', ids);
    const notes = await countBySource(apis[0]!, 'notifications', ids);
    const distinct = new Set(deliveries).size;
    console.log(`chaos: ${N} runs, ${kills} kills, ${JSON.stringify(counts)}, tasks ${tasks.total}/${tasks.distinct}, notifications ${notes.total}/${notes.distinct}, webhook deliveries ${deliveries.length} (${distinct} keys)`);
    expect(counts).toEqual({ completed: N });
    expect(tasks).toEqual({ total: N, distinct: N });
    expect(notes).toEqual({ total: N, distinct: N });
    // Counted by Idempotency-Key, every webhook step was delivered once. A webhook is at least once on the
    // wire: a kill between its send and its ledger write re-sends it, with the same key (printed above).
    expect(distinct).toBe(N);
    expect(kills).toBeGreaterThan(0);
  }, 400_000);
});

async function statusesOf(api: Client, docId: string) {
  const counts: Record<string, number> = {};
  let cursor: string | undefined;
  for (;;) {
    const page = (await api.runs.list.query({ docId, limit: 200, ...(cursor ? { cursor } : {}) } as never)) as unknown as { items: { status: string }[]; nextCursor?: string | null };
    for (const r of page.items) counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (!page.nextCursor) return counts;
    cursor = page.nextCursor;
  }
}

async function countBySource(api: Client, list: 'tasks' | 'notifications', runIds: string[]) {
  const wanted = new Set(runIds);
  const seen: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = (await api.crm[list].list.query({ limit: 200, ...(cursor ? { cursor } : {}) } as never)) as unknown as { items: { sourceRunId: string }[]; nextCursor?: string | null };
    seen.push(...page.items.map((x) => x.sourceRunId).filter((id) => wanted.has(id)));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return { total: seen.length, distinct: new Set(seen).size };
}
