import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUSINESS_HOURS, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, switchyardCode, waitForRun,
  type Backend, type Client, type RuntimeProcess,
} from './host-support';
import { rejection } from './support/test-db';

const HOUR = 3_600_000;

const delayFlow = {
  schemaVersion: 1, id: 'v2-delay', kind: 'workflow', name: 'Delay then task',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'wait', type: 'flow.delay', position: { x: 200, y: 0 }, params: { duration: '1 hour' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'After the delay' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }],
};

const approvalFlow = {
  schemaVersion: 1, id: 'v2-approval', kind: 'workflow', name: 'Approval then task',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go?' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Approved task' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'task' }],
};

/** Rows of one query on a test's PostgreSQL database (read while no runtime holds it). */
async function queryPostgres(url: string, query: string) {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return (await db.query(query)).rows;
  } finally {
    await db.end();
  }
}

async function deploy(api: Client, ...docs: { id: string }[]) {
  for (const doc of docs) {
    await api.flows.save.mutate({ document: doc as never });
    await api.flows.deploy.mutate({ docId: doc.id });
  }
}

async function tasksOf(api: Client, runIds: string[]) {
  const all: { sourceRunId: string }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = (await api.crm.tasks.list.query({ limit: 200, ...(cursor ? { cursor } : {}) } as never)) as unknown as { items: { sourceRunId: string }[]; nextCursor?: string | null };
    all.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const wanted = new Set(runIds);
  return all.filter((t) => wanted.has(t.sourceRunId));
}

async function refuseWrites(url: string, runId: string | null, on: boolean) {
  const res = await fetch(`${url}/__test/refuse-writes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runId, on }) });
  if (!res.ok) throw new Error(`refuse-writes hook failed: ${res.status} ${await res.text()}`);
}

describe.each(backendsUnderTest())('runtime v2: restarts, refused writes, pinned machines (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('graceful restarts (SIGTERM, three in a row) never freeze a run: 20 delays and 10 approvals all complete with their effects', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt: RuntimeProcess = await spawnRuntime(env);
    let api = client(rt.url);
    await deploy(api, delayFlow, approvalFlow);
    const delays: string[] = [];
    const approvals: string[] = [];
    for (let i = 0; i < 20; i++) delays.push((await api.runs.start.mutate({ docId: 'v2-delay' })).runId);
    for (let i = 0; i < 10; i++) approvals.push((await api.runs.start.mutate({ docId: 'v2-approval' })).runId);
    for (const id of [...delays, ...approvals]) await waitForRun(api, id, (r) => r.status === 'waiting');

    for (let restart = 0; restart < 3; restart++) {
      const code = await rt.kill('SIGTERM');
      expect(code, rt.output().slice(-3000)).toBe(0);
      rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + restart * 60_000) });
      api = client(rt.url);
    }
    cleanup.push(() => rt.kill('SIGTERM'));
    // The journal holds no stopped snapshot: a graceful stop is not a step of the run. An approval
    // wait, and a delay whose timer row is stored, stay parked at each start (no actor, no journal
    // row) until the decision or the timer wakes them.
    const journal = await api.runs.journal.query({ runId: approvals[0]! });
    expect(journal.items.filter((j) => j.kind === 'restored')).toHaveLength(0);
    expect(journal.items.some((j) => j.eventType === 'xstate.stop')).toBe(false);
    const delayJournal = await api.runs.journal.query({ runId: delays[0]! });
    expect(delayJournal.items.some((j) => j.eventType === 'xstate.stop')).toBe(false);

    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR);
    for (const id of approvals) await api.runs.approve.mutate({ runId: id });
    for (const id of [...delays, ...approvals]) await waitForRun(api, id, (r) => r.status === 'completed', 30_000);
    expect(await tasksOf(api, [...delays, ...approvals])).toHaveLength(30);
    // Its decision woke the approval run once.
    const decided = await api.runs.journal.query({ runId: approvals[0]! });
    expect(decided.items.filter((j) => j.kind === 'woken')).toHaveLength(1);
  }, 240_000);

  it('a write the database refuses: runs.approve answers a typed error, the run stays waiting, other runs go on, and the same call succeeds later', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url);
    await deploy(api, approvalFlow);
    const blocked = (await api.runs.start.mutate({ docId: 'v2-approval' })).runId;
    const other = (await api.runs.start.mutate({ docId: 'v2-approval' })).runId;
    await waitForRun(api, blocked, (r) => r.status === 'waiting');
    await waitForRun(api, other, (r) => r.status === 'waiting');

    await refuseWrites(rt.url, blocked, true);
    const err = await rejection(api.runs.approve.mutate({ runId: blocked }));
    expect(switchyardCode(err)).toBe('UNAVAILABLE');
    // Nothing was applied: the stored run still waits, and no task exists.
    await new Promise((r) => setTimeout(r, 600));
    const still = await api.runs.get.query({ runId: blocked });
    expect(still.status).toBe('waiting');
    expect(still.waitingApprovals.map((w) => w.nodeId)).toEqual(['ok']);
    expect(await tasksOf(api, [blocked])).toHaveLength(0);
    // Another run is not failed by it.
    await api.runs.approve.mutate({ runId: other });
    await waitForRun(api, other, (r) => r.status === 'completed');
    expect(await tasksOf(api, [other])).toHaveLength(1);
    expect(rt.output()).toContain('a run write failed');

    await refuseWrites(rt.url, blocked, false);
    // The run is resumed from what was stored (with backoff); then the same call succeeds.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await api.runs.approve.mutate({ runId: blocked }).then(() => 'ok', (e: unknown) => switchyardCode(e));
      if (res === 'ok') break;
      expect(['UNAVAILABLE', 'INVALID_STATE']).toContain(res);
      if (Date.now() > deadline) throw new Error('approve never succeeded after the database took writes again');
      await new Promise((r) => setTimeout(r, 300));
    }
    await waitForRun(api, blocked, (r) => r.status === 'completed');
    expect(await tasksOf(api, [blocked])).toHaveLength(1);
    const journal = await api.runs.journal.query({ runId: blocked });
    expect(journal.items.filter((j) => j.eventType === 'approval.decide')).toHaveLength(1);
  }, 240_000);

  it('every write of a restore refused: the process stays up, reports it, retries, and the runs complete once writes go through', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    // A stable instance id: the restarted process resumes its runs at once (not after the lease).
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_INSTANCE_ID: 'restore-node' };
    let rt = await spawnRuntime(env);
    let api = client(rt.url);
    await deploy(api, delayFlow);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.runs.start.mutate({ docId: 'v2-delay' })).runId);
    for (const id of ids) await waitForRun(api, id, (r) => r.status === 'waiting');
    await refuseWrites(rt.url, null, true);
    expect(await rt.kill('SIGKILL')).toBe(-1);

    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 2 * HOUR) });
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    await new Promise((r) => setTimeout(r, 2000));
    expect(rt.child.exitCode).toBeNull();
    expect((await api.health.query()) as unknown).toBeTruthy();
    expect(rt.output()).toContain('a run write failed');
    for (const id of ids) expect((await api.runs.get.query({ runId: id })).status).toBe('waiting');

    await refuseWrites(rt.url, null, false);
    for (const id of ids) await waitForRun(api, id, (r) => r.status === 'completed', 40_000);
    expect(await tasksOf(api, ids)).toHaveLength(5);
  }, 240_000);

  it('runs pinned to format 4 (an actor per node), killed while their delays run, finish on a runtime that compiles format 5: one task each', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    // The runtime before format 5: its delays are invoked actors, persisted in the runs' snapshots.
    let rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_COMPILER: 'invoked' });
    let api = client(rt.url);
    await deploy(api, delayFlow);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await api.runs.start.mutate({ docId: 'v2-delay' })).runId);
    for (const id of ids) await waitForRun(api, id, (r) => r.status === 'waiting');
    expect(await rt.kill('SIGKILL')).toBe(-1);
    if (backend === 'postgres') {
      const rows = await queryPostgres(storage.env.DATABASE_URL!, `select v.machine_format, count(*)::int as n, bool_and(coalesce(r.snapshot, j.snapshot)->'children' ? 'wait') as child
          from runs r join flow_versions v on v.flow_id = r.flow_id and v.version = r.flow_version
          left join lateral (select snapshot from run_journal where run_id = r.id and snapshot is not null order by seq desc limit 1) j on true
         group by v.machine_format`);
      expect(rows).toEqual([{ machine_format: 'switchyard.machine/4', n: 3, child: true }]);
    }

    // The current runtime, the clock past the delays: the pinned machines end them once each.
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 2 * HOUR) });
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    for (const id of ids) await waitForRun(api, id, (r) => r.status === 'completed', 40_000);
    expect(await tasksOf(api, ids)).toHaveLength(3);
    // A new version is format 5; its run waits out its delay across a SIGKILL too.
    await api.flows.save.mutate({ document: { ...delayFlow, name: 'Delay v2' } as never });
    await api.flows.deploy.mutate({ docId: 'v2-delay' });
    const fresh = (await api.runs.start.mutate({ docId: 'v2-delay' })).runId;
    await waitForRun(api, fresh, (r) => r.status === 'waiting');
    expect(await rt.kill('SIGKILL')).toBe(-1);
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 4 * HOUR) });
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    await waitForRun(api, fresh, (r) => r.status === 'completed', 40_000);
    expect(await tasksOf(api, [...ids, fresh])).toHaveLength(4);
    if (backend === 'postgres') {
      const formats = await queryPostgres(storage.env.DATABASE_URL!, 'select version, machine_format from flow_versions order by version');
      expect(formats).toEqual([{ version: 1, machine_format: 'switchyard.machine/4' }, { version: 2, machine_format: 'switchyard.machine/5' }]);
    }
  }, 240_000);

  it('a run keeps executing the machine it started with after the compiler changes; an unknown machine format is parked', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt = await spawnRuntime(env);
    let api = client(rt.url);
    await deploy(api, approvalFlow);
    const pinned = (await api.runs.start.mutate({ docId: 'v2-approval' })).runId;
    await waitForRun(api, pinned, (r) => r.status === 'waiting');
    await rt.kill('SIGTERM');

    // A compiler whose output for the same document differs (another shape): the old run's
    // snapshot does not fit the new machine, so only the pinned machine can run it.
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_COMPILER: 'reshaped' });
    api = client(rt.url);
    await api.runs.approve.mutate({ runId: pinned });
    const done = await waitForRun(api, pinned, (r) => r.status === 'completed');
    expect(done.nodes.task?.state).toBe('succeeded');
    expect(await tasksOf(api, [pinned])).toHaveLength(1);
    // A new version is compiled (and pinned) by the new compiler.
    await api.flows.save.mutate({ document: { ...approvalFlow, name: 'Approval v2' } as never });
    await api.flows.deploy.mutate({ docId: 'v2-approval' });
    const fresh = (await api.runs.start.mutate({ docId: 'v2-approval' })).runId;
    await waitForRun(api, fresh, (r) => r.status === 'waiting');
    const states = (await api.runs.journal.query({ runId: fresh })).items.map((j) => j.state as Record<string, string> | null);
    expect(states.at(-1)).toEqual({ start: 'succeeded', ok: 'running' });
    // The pinned run's steps have the shape it started with (format 3: no trigger region).
    const oldStates = (await api.runs.journal.query({ runId: pinned })).items.map((j) => j.state as Record<string, string> | null).filter(Boolean);
    expect(oldStates).toContainEqual({ ok: 'running' });
    expect(oldStates.every((st) => st?.start === undefined)).toBe(true);
    await rt.kill('SIGTERM');

    // A machine of a format this runtime does not know is parked with a clear status, never run.
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_COMPILER: 'future' });
    api = client(rt.url);
    await api.flows.save.mutate({ document: { ...approvalFlow, name: 'Approval v3' } as never });
    await api.flows.deploy.mutate({ docId: 'v2-approval' });
    const future = (await api.runs.start.mutate({ docId: 'v2-approval' })).runId;
    await waitForRun(api, future, (r) => r.status === 'waiting');
    await rt.kill('SIGTERM');
    rt = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    const parked = await waitForRun(api, future, (r) => r.status === 'parked');
    expect(parked.reason).toMatch(/machine format "switchyard\.machine\/999"/);
    expect(switchyardCode(await rejection(api.runs.approve.mutate({ runId: future })))).toBe('INVALID_STATE');
    expect(await tasksOf(api, [future])).toHaveLength(0);
  }, 240_000);
});

// Several processes need one shared server: PostgreSQL only (PGlite is single-process by construction).
describe.runIf(Boolean(process.env.DATABASE_URL))('runtime v2 across processes (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('two processes started with no instance id do not both own a run', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_INSTANCE_ID: '', SWITCHYARD_LEASE_MS: '1500' };
    const a = await spawnRuntime(env);
    cleanup.push(() => a.kill('SIGTERM'));
    const apiA = client(a.url);
    await deploy(apiA, delayFlow);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await apiA.runs.start.mutate({ docId: 'v2-delay' })).runId);
    for (const id of ids) await waitForRun(apiA, id, (r) => r.status === 'waiting');
    // B starts on the same host while A owns the runs: with a shared default id it would resume them as its own.
    const b = await spawnRuntime(env);
    cleanup.push(() => b.kill('SIGTERM'));
    const apiB = client(b.url);
    // Both clocks past the delay, then let a few heartbeats pass: each run completes once.
    await setClock(a.url, BUSINESS_HOURS + 2 * HOUR);
    await setClock(b.url, BUSINESS_HOURS + 2 * HOUR);
    for (const id of ids) await waitForRun(apiB, id, (r) => r.status === 'completed');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await tasksOf(apiA, ids)).toHaveLength(4);
    for (const id of ids) {
      const journal = await apiB.runs.journal.query({ runId: id });
      expect(journal.items.filter((j) => j.kind === 'restored')).toHaveLength(0);
    }
  }, 240_000);

  it('runs.watch on process B follows a run owned by A from waiting to completed', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '5000' };
    const a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'watch-a' });
    cleanup.push(() => a.kill('SIGTERM'));
    const b = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'watch-b' });
    cleanup.push(() => b.kill('SIGTERM'));
    const apiA = client(a.url);
    await deploy(apiA, approvalFlow);
    const { runId } = await apiA.runs.start.mutate({ docId: 'v2-approval' });
    await waitForRun(apiA, runId, (r) => r.status === 'waiting');

    const statuses: string[] = [];
    const res = await fetch(`${b.url}/trpc/runs.watch?input=${encodeURIComponent(JSON.stringify({ runId }))}`, {
      headers: { authorization: `Bearer test-token-owner-0123456789`, accept: 'text/event-stream' },
    });
    expect(res.ok).toBe(true);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const read = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (const m of buffer.matchAll(/"status":"(\w+)"/g)) if (statuses.at(-1) !== m[1]) statuses.push(m[1]!);
        buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
        if (statuses.includes('completed')) return;
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    expect(statuses).toEqual(['waiting']);
    // Decided through A, the owner: B hears of it through PostgreSQL, not by polling.
    await apiA.runs.approve.mutate({ runId });
    await Promise.race([read, new Promise((_, reject) => setTimeout(() => reject(new Error(`watch on B saw ${statuses.join(', ')}`)), 10_000))]);
    await reader.cancel().catch(() => undefined);
    expect(statuses[0]).toBe('waiting');
    expect(statuses.at(-1)).toBe('completed');
  }, 240_000);
});

describe.each(backendsUnderTest())('a cron tick whose process is killed between claim and start runs exactly once (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('claims and starts in one write; after the SIGKILL the restarted process runs the tick once', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt = await spawnRuntime({ ...env, SWITCHYARD_LEASE_MS: '2000' });
    const cronFlow = {
      schemaVersion: 1, id: 'v2-cron', kind: 'workflow', name: 'Every minute',
      nodes: [
        { id: 'tick', type: 'trigger.schedule', position: { x: 0, y: 0 }, params: { cron: '* * * * *', timezone: 'UTC' } },
        { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Ticked' } },
      ],
      edges: [{ id: 'e1', source: 'tick', target: 'task' }],
    };
    await deploy(client(rt.url), cronFlow);
    await rt.kill('SIGTERM');

    // This process dies right after its first tick's claim-and-start committed. Moving its clock past
    // a minute boundary fires that slot at once (bree's own cron would wait for the real minute).
    rt = await spawnRuntime({ ...env, SWITCHYARD_LEASE_MS: '2000', SWITCHYARD_CRASH_AFTER_CLAIM: '1' });
    await setClock(rt.url, BUSINESS_HOURS + 2 * 60_000 + 5_000).catch(() => undefined); // the process may die answering
    const code = await Promise.race([rt.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 75_000))]);
    expect(code).toBe(-1);

    // Restarted later on the test clock than the claimed tick, so a tick of its own sorts after it.
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 3 * 60_000), SWITCHYARD_LEASE_MS: '2000' });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url);
    const runs = await api.runs.list.query({ docId: 'v2-cron' } as never);
    expect(runs.items.length).toBeGreaterThanOrEqual(1);
    const first = runs.items.at(-1)!;
    await waitForRun(api, first.id, (r) => r.status === 'completed');
    expect(await tasksOf(api, [first.id])).toHaveLength(1);
    const journal = await api.runs.journal.query({ runId: first.id });
    expect(journal.items.filter((j) => j.nodeId === 'task' && j.eventType?.startsWith('xstate.done'))).toHaveLength(1);
  }, 240_000);
});

describe.each(backendsUnderTest())('ticks missed while no process ran (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it("'runOnce' fires the latest missed slot once on start, across restarts; 'skip' fires nothing", async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_INSTANCE_ID: 'catch-up' };
    let rt = await spawnRuntime(env);
    // Mondays 09:00 UTC: never due in real time while this test runs on a Wednesday clock or any other day's minute.
    const weekly = (id: string, missed: 'skip' | 'runOnce') => ({
      schemaVersion: 1, id, kind: 'workflow', name: `Weekly ${missed}`,
      nodes: [
        { id: 'tick', type: 'trigger.schedule', position: { x: 0, y: 0 }, params: { cron: '0 9 * * 1', timezone: 'UTC', missed } },
        { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: `Weekly ${missed}` } },
      ],
      edges: [{ id: 'e1', source: 'tick', target: 'task' }],
    });
    await deploy(client(rt.url), weekly('v2-catch-up', 'runOnce'), weekly('v2-skip', 'skip'));
    await rt.kill('SIGTERM');

    // Down over the weekend: restarted on Monday 2026-01-12 10:00, one hour after the missed slot.
    const monday = String(Date.UTC(2026, 0, 12, 10, 0));
    for (let restart = 0; restart < 2; restart++) {
      rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: monday });
      const api = client(rt.url);
      const runs = await api.runs.list.query({ docId: 'v2-catch-up' } as never);
      expect(runs.items).toHaveLength(1);
      const run = await waitForRun(api, runs.items[0]!.id, (r) => r.status === 'completed');
      expect((run.trigger.payload as { firedAt: string }).firedAt).toBe('2026-01-12T09:00:00.000Z');
      expect((await api.runs.list.query({ docId: 'v2-skip' } as never)).items).toHaveLength(0);
      await rt.kill('SIGTERM');
    }
  }, 240_000);
});
