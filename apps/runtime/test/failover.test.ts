import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, client, freshStorage, setClock, spawnRuntime, switchyardCode, waitForRun, type RuntimeProcess } from './host-support';
import { rejection } from './support/test-db';

const HOUR = 3_600_000;
const waitFlow = {
  schemaVersion: 1, id: 'failover', kind: 'workflow', name: 'Failover',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'wait', type: 'flow.delay', position: { x: 200, y: 0 }, params: { duration: '1 hour' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'After failover' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }],
};

const approvalFlow = {
  schemaVersion: 1, id: 'remote-approval', kind: 'workflow', name: 'Approved elsewhere',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go?' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Approved elsewhere' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'task' }],
};

// Two processes need one shared server: PostgreSQL only (PGlite is single-process by construction).
describe.runIf(Boolean(process.env.DATABASE_URL))('run leases: another process adopts the runs of a dead one (postgres)', () => {
  const procs: RuntimeProcess[] = [];
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGTERM');
    await drop?.();
  });

  it('a waiting run owned by a killed process is adopted after its lease and completes once, elsewhere', async () => {
    const storage = await freshStorage('postgres');
    drop = storage.drop;
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '1500' };
    const a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'node-a' });
    procs.push(a);
    const b = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'node-b' });
    procs.push(b);
    const apiA = client(a.url);
    const apiB = client(b.url);
    await apiA.flows.save.mutate({ document: waitFlow as never });
    await apiA.flows.deploy.mutate({ docId: 'failover' });
    const { runId } = await apiA.runs.start.mutate({ docId: 'failover' });
    await waitForRun(apiA, runId, (r) => r.status === 'waiting');

    // While A heartbeats, B leaves the run alone: B's clock passing the due time changes nothing.
    await setClock(b.url, BUSINESS_HOURS + 2 * HOUR);
    await new Promise((r) => setTimeout(r, 2500));
    expect((await apiB.runs.get.query({ runId })).status).toBe('waiting');

    expect(await a.kill('SIGKILL')).toBe(-1);
    const done = await waitForRun(apiB, runId, (r) => r.status === 'completed', 20_000);
    expect(done.nodes.task?.state).toBe('succeeded');
    const tasks = (await apiB.crm.tasks.list.query({} as never)) as unknown as { items: { sourceRunId: string }[] };
    expect(tasks.items.filter((t) => t.sourceRunId === runId)).toHaveLength(1);
    const journal = await apiB.runs.journal.query({ runId });
    // B took it over: relaunched on adoption, or (parked on its timer) woken when the timer was due.
    expect(journal.items.some((j) => j.kind === 'restored' || j.kind === 'woken')).toBe(true);
  });

  it('approve, reject and cancel sent through a process that does not own the run reach the owner, once', async () => {
    const storage = await freshStorage('postgres');
    const dropSecond = storage.drop;
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '1500' };
    const a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'node-a' });
    const b = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'node-b' });
    try {
      const apiA = client(a.url);
      const apiB = client(b.url);
      await apiA.flows.save.mutate({ document: approvalFlow as never });
      await apiA.flows.deploy.mutate({ docId: 'remote-approval' });
      const start = async () => {
        const { runId } = await apiA.runs.start.mutate({ docId: 'remote-approval' });
        await waitForRun(apiA, runId, (r) => r.status === 'waiting');
        return runId;
      };
      const [approved, rejected, cancelled] = [await start(), await start(), await start()];

      expect(await apiB.runs.approve.mutate({ runId: approved, comment: 'from B' })).toMatchObject({ runId: approved, nodeId: 'ok', decision: 'approve', forwarded: true });
      expect(await apiB.runs.reject.mutate({ runId: rejected })).toMatchObject({ nodeId: 'ok', decision: 'reject', forwarded: true });
      expect(await apiB.runs.cancel.mutate({ runId: cancelled })).toEqual({ runId: cancelled, status: 'cancelling' });
      const done = await waitForRun(apiB, approved, (r) => r.status === 'completed', 10_000);
      expect(done.nodes.task?.state).toBe('succeeded');
      expect((await waitForRun(apiB, rejected, (r) => r.status === 'completed', 10_000)).nodes.task?.state).toBe('skipped');
      await waitForRun(apiB, cancelled, (r) => r.status === 'cancelled', 10_000);
      const journal = await apiA.runs.journal.query({ runId: approved });
      expect(journal.items.filter((j) => j.eventType === 'approval.decide').map((j) => j.data)).toEqual([expect.objectContaining({ decision: 'approve', by: 'owner', comment: 'from B' })]);
      const tasks = (await apiA.crm.tasks.list.query({} as never)) as unknown as { items: { sourceRunId: string }[] };
      expect(tasks.items.filter((t) => t.sourceRunId === approved)).toHaveLength(1);

      // Checked against the stored state: a run that is no longer waiting, or has ended, is refused at once.
      expect(switchyardCode(await rejection(apiB.runs.approve.mutate({ runId: approved })))).toBe('INVALID_STATE');
      expect(switchyardCode(await rejection(apiB.runs.cancel.mutate({ runId: cancelled })))).toBe('INVALID_STATE');
    } finally {
      await a.kill('SIGTERM');
      await b.kill('SIGTERM');
      await dropSecond();
    }
  });

  it('a graceful stop hands its runs over at once: the other process adopts them long before the lease would run out', async () => {
    const storage = await freshStorage('postgres');
    // A 30 s lease: adoption on expiry would take 30 s; B looks for free runs every 10 s.
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '30000' };
    const a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'node-a' });
    const b = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'node-b' });
    try {
      const apiA = client(a.url);
      const apiB = client(b.url);
      await apiA.flows.save.mutate({ document: waitFlow as never });
      await apiA.flows.deploy.mutate({ docId: 'failover' });
      await apiA.flows.save.mutate({ document: approvalFlow as never });
      await apiA.flows.deploy.mutate({ docId: 'remote-approval' });
      const delayed = (await apiA.runs.start.mutate({ docId: 'failover' })).runId;
      const approval = (await apiA.runs.start.mutate({ docId: 'remote-approval' })).runId;
      for (const id of [delayed, approval]) await waitForRun(apiA, id, (r) => r.status === 'waiting');
      const owners = async () => (await apiB.monitor.actors.query({ kind: 'run' } as never)) as unknown as { items: { id: string; owner: string | null; ownerAlive: boolean }[] };
      expect((await owners()).items.filter((i) => [delayed, approval].includes(i.id)).map((i) => [i.owner, i.ownerAlive])).toEqual([['node-a', true], ['node-a', true]]);

      const stopped = Date.now();
      expect(await a.kill('SIGTERM')).toBe(0);
      // A's lease row is gone, not its runs' owner column: B claims them at its next look, well within the lease.
      for (let until = Date.now() + 20_000; ;) {
        const mine = (await owners()).items.filter((i) => [delayed, approval].includes(i.id) && i.owner === 'node-b' && i.ownerAlive);
        if (mine.length === 2) break;
        expect(Date.now(), 'B did not adopt the runs of the stopped process').toBeLessThan(until);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(Date.now() - stopped).toBeLessThan(25_000);
      await setClock(b.url, BUSINESS_HOURS + 2 * HOUR);
      await apiB.runs.approve.mutate({ runId: approval });
      for (const id of [delayed, approval]) expect((await waitForRun(apiB, id, (r) => r.status === 'completed', 20_000)).nodes.task?.state).toBe('succeeded');
      const tasks = (await apiB.crm.tasks.list.query({} as never)) as unknown as { items: { sourceRunId: string }[] };
      expect(tasks.items.filter((t) => t.sourceRunId === delayed || t.sourceRunId === approval)).toHaveLength(2);
    } finally {
      await a.kill('SIGTERM');
      await b.kill('SIGTERM');
      await storage.drop();
    }
  }, 90_000);
});
