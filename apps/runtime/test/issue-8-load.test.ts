import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, client, freshStorage, spawnRuntime, type Client } from './host-support';

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

async function statuses(api: Client) {
  const counts: Record<string, number> = {};
  let before: string | undefined;
  for (;;) {
    const page = await api.runs.list.query({ docId: 'load', limit: 200, ...(before ? { before } : {}) } as never);
    for (const r of page.items) counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (page.items.length < 200) return counts;
    before = page.items.at(-1)!.startedAt;
  }
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
    let counts = await statuses(api);
    while ((counts.completed ?? 0) < N && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 1000));
      counts = await statuses(api);
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
