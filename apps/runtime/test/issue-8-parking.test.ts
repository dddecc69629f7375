import { afterAll, describe, expect, it } from 'vitest';
import {
  BUSINESS_HOURS, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, waitForRun,
  type Backend, type Client, type RuntimeProcess,
} from './host-support';

const HOUR = 3_600_000;

const delayFlow = {
  schemaVersion: 1, id: 'park-delay', kind: 'workflow', name: 'Delay then task',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'wait', type: 'flow.delay', position: { x: 200, y: 0 }, params: { duration: '1 hour' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'After the delay' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }],
};

const approvalFlow = {
  schemaVersion: 1, id: 'park-approval', kind: 'workflow', name: 'Approval then task',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go?' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Approved task' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'task' }],
};

type Parking = { live: number; parked: number; woken: number };
async function parking(url: string): Promise<Parking> {
  const res = await fetch(`${url}/__test/parking`);
  if (!res.ok) throw new Error(`parking hook failed: ${res.status}`);
  return (await res.json()) as Parking;
}
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deploy(api: Client, ...docs: { id: string }[]) {
  for (const doc of docs) {
    await api.flows.save.mutate({ document: doc as never });
    await api.flows.deploy.mutate({ docId: doc.id });
  }
}

async function taskCount(api: Client, runIds: string[]) {
  const wanted = new Set(runIds);
  let n = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = (await api.crm.tasks.list.query({ limit: 200, ...(cursor ? { cursor } : {}) } as never)) as unknown as { items: { sourceRunId: string }[]; nextCursor?: string | null };
    n += page.items.filter((t) => wanted.has(t.sourceRunId)).length;
    if (!page.nextCursor) return n;
    cursor = page.nextCursor;
  }
}

const PARK = { SWITCHYARD_PARK_AFTER_MS: '300' };

describe.each(backendsUnderTest())('parked runs hold no actor in memory (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('runs waiting on a delay or an approval are parked; a due timer and an approval wake them; after a SIGKILL they stay parked until due', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, ...PARK, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGKILL'));
    let api = client(rt.url);
    await deploy(api, delayFlow, approvalFlow);
    const delays: string[] = [];
    const approvals: string[] = [];
    for (let i = 0; i < 20; i++) delays.push((await api.runs.start.mutate({ docId: 'park-delay' })).runId);
    for (let i = 0; i < 5; i++) approvals.push((await api.runs.start.mutate({ docId: 'park-approval' })).runId);
    for (const id of [...delays, ...approvals]) await waitForRun(api, id, (r) => r.status === 'waiting');

    // Idle past the park delay: no actor is left in memory.
    const parked = await until('all runs parked', () => parking(rt.url), (p) => p.live === 0 && p.parked >= 25);
    expect(parked.woken).toBe(0);
    // A parked run still reads as waiting, with its approval.
    const view = await api.runs.get.query({ runId: approvals[0]! });
    expect(view.status).toBe('waiting');
    expect(view.waitingApprovals.map((w) => w.nodeId)).toEqual(['ok']);

    // An approval wakes its run, which goes on at once; the answer comes after the transition is stored.
    await api.runs.approve.mutate({ runId: approvals[0]! });
    await waitForRun(api, approvals[0]!, (r) => r.status === 'completed');
    expect(await taskCount(api, [approvals[0]!])).toBe(1);

    // SIGKILL with everything parked; the restart leaves runs with a stored timer parked.
    await rt.kill('SIGKILL');
    rt = await spawnRuntime(env);
    api = client(rt.url);
    // Nothing is relaunched: runs with a stored timer stay parked, and so do runs that only wait
    // for a person (their approval wakes them), instead of an actor each until parked again.
    const afterRestart = await parking(rt.url);
    expect(afterRestart).toMatchObject({ live: 0, parked: 4, woken: 0 });
    expect(await taskCount(api, delays)).toBe(0);
    const stillWaiting = await api.runs.get.query({ runId: approvals[1]! });
    expect(stillWaiting.status).toBe('waiting');
    expect(stillWaiting.waitingApprovals.map((w) => w.nodeId)).toEqual(['ok']);

    // The clock moves past the delay: every timer wakes its run, each run acts once.
    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR);
    for (const id of delays) await waitForRun(api, id, (r) => r.status === 'completed');
    for (const id of approvals.slice(1)) await api.runs.approve.mutate({ runId: id });
    for (const id of approvals) await waitForRun(api, id, (r) => r.status === 'completed');
    expect(await taskCount(api, [...delays, ...approvals])).toBe(25);
    const after = await parking(rt.url);
    expect(after.woken).toBeGreaterThanOrEqual(24);
    // Each delay run was woken once and acted once: one task, and one wake row in its journal.
    const journal = await api.runs.journal.query({ runId: delays[0]! });
    expect(journal.items.filter((j) => j.kind === 'woken')).toHaveLength(1);
  }, 240_000);
});

describe.runIf(Boolean(process.env.DATABASE_URL))('parked runs across processes (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('an approval sent through another process wakes the run parked on its owner; a parked run of a killed process is adopted and completes', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, ...PARK, SWITCHYARD_LEASE_MS: '1500', SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    const a = await spawnRuntime(env);
    cleanup.push(() => a.kill('SIGKILL'));
    const apiA = client(a.url);
    await deploy(apiA, delayFlow, approvalFlow);
    const approval = (await apiA.runs.start.mutate({ docId: 'park-approval' })).runId;
    const delay = (await apiA.runs.start.mutate({ docId: 'park-delay' })).runId;
    await waitForRun(apiA, approval, (r) => r.status === 'waiting');
    await waitForRun(apiA, delay, (r) => r.status === 'waiting');
    await until('A parked both', () => parking(a.url), (p) => p.live === 0 && p.parked >= 2);

    const b = await spawnRuntime(env);
    cleanup.push(() => b.kill('SIGKILL'));
    const apiB = client(b.url);
    const answer = await apiB.runs.approve.mutate({ runId: approval });
    expect(answer.forwarded).toBe(true);
    await waitForRun(apiB, approval, (r) => r.status === 'completed');
    expect((await parking(a.url)).woken).toBeGreaterThanOrEqual(1);
    expect(await taskCount(apiB, [approval])).toBe(1);

    // A dies with the delay run parked: B adopts it without launching it, and wakes it when due.
    await a.kill('SIGKILL');
    await setClock(b.url, BUSINESS_HOURS + 2 * HOUR);
    await waitForRun(apiB, delay, (r) => r.status === 'completed', 30_000);
    expect(await taskCount(apiB, [delay])).toBe(1);
  }, 180_000);
});
