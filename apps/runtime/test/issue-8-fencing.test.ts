import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, client, freshStorage, setClock, spawnRuntime, waitForRun } from './host-support';
import { startWebhookReceiver } from './support/webhook-receiver';

const HOUR = 3_600_000;

// A stale owner needs two processes on one server: PostgreSQL only.
describe.runIf(Boolean(process.env.DATABASE_URL))('fencing: a process paused past its lease acts no more (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('SIGSTOP A past its lease, B adopts and completes; after SIGCONT A sends nothing and writes nothing', async () => {
    const receiver = await startWebhookReceiver();
    cleanup.push(receiver.close);
    const { port, keys } = receiver;
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    // The runs stay live in A (no parking): the test is about in-memory timers of a paused process.
    const env = {
      SWITCHYARD_PARK_AFTER_MS: 'off',
      ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '1500',
      SWITCHYARD_OUTBOUND_ALLOW: `127.0.0.1:${port}`,
    };
    const a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'stale-a' });
    cleanup.push(async () => {
      a.child.kill('SIGCONT');
      await a.kill('SIGKILL');
    });
    const b = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'stale-b' });
    cleanup.push(() => b.kill('SIGTERM'));
    const apiA = client(a.url);
    const apiB = client(b.url);
    await apiA.flows.save.mutate({
      document: {
        schemaVersion: 1, id: 'stale', kind: 'workflow', name: 'Delay then webhook',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
          { id: 'wait', type: 'flow.delay', position: { x: 200, y: 0 }, params: { duration: '1 hour' } },
          { id: 'hook', type: 'action.webhook', position: { x: 400, y: 0 }, params: { url: `http://127.0.0.1:${port}/hook`, body: '{"run":"{{ run.id }}"}' } },
          { id: 'task', type: 'action.createTask', position: { x: 600, y: 0 }, params: { title: 'After the webhook' } },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'hook' }, { id: 'e3', source: 'hook', target: 'task' }],
      } as never,
    });
    await apiA.flows.deploy.mutate({ docId: 'stale' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await apiA.runs.start.mutate({ docId: 'stale' })).runId);
    for (const id of ids) await waitForRun(apiA, id, (r) => r.status === 'waiting');
    const journalBefore = await Promise.all(ids.map(async (id) => (await apiA.runs.journal.query({ runId: id })).items.length));

    // A freezes with its in-memory timers armed; its clock jump is queued for when it wakes up.
    a.child.kill('SIGSTOP');
    const wakeA = setClock(a.url, BUSINESS_HOURS + 2 * HOUR).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000));
    await setClock(b.url, BUSINESS_HOURS + 2 * HOUR);
    for (const id of ids) await waitForRun(apiB, id, (r) => r.status === 'completed', 30_000);
    expect(keys).toHaveLength(3);
    const journalAfterB = await Promise.all(ids.map(async (id) => (await apiB.runs.journal.query({ runId: id })).items));

    // A wakes: its timers fire at once (its clock is past the delay), but it lost every run.
    a.child.kill('SIGCONT');
    await wakeA;
    await new Promise((r) => setTimeout(r, 4000));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    const journalEnd = await Promise.all(ids.map(async (id) => (await apiB.runs.journal.query({ runId: id })).items));
    expect(journalEnd).toEqual(journalAfterB);
    for (const [i, items] of journalAfterB.entries()) {
      expect(items.length).toBeGreaterThan(journalBefore[i]!);
      expect(items.filter((j) => j.eventType === 'xstate.done.actor.wait')).toHaveLength(1);
    }
    const tasks = (await apiB.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { sourceRunId: string }[] };
    expect(tasks.items.filter((t) => ids.includes(t.sourceRunId))).toHaveLength(3);
    expect(a.output()).toMatch(/lost the lease on a run|another process owns this run now/);
  }, 240_000);
});

describe.runIf(Boolean(process.env.DATABASE_URL))('a forwarded command is consumed with the transition it causes (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('SIGKILL between taking an approval forwarded through B and storing its transition: applied exactly once after restart', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_LEASE_MS: '1500' };
    let a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'cmd-a', SWITCHYARD_CRASH_AFTER_COMMAND: '1' });
    const b = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'cmd-b' });
    cleanup.push(() => b.kill('SIGTERM'));
    const apiA = client(a.url);
    const apiB = client(b.url);
    await apiA.flows.save.mutate({
      document: {
        schemaVersion: 1, id: 'cmd', kind: 'workflow', name: 'Approve through B',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
          { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go?' } },
          { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Approved through B' } },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'task' }],
      } as never,
    });
    await apiA.flows.deploy.mutate({ docId: 'cmd' });
    const { runId } = await apiA.runs.start.mutate({ docId: 'cmd' });
    await waitForRun(apiA, runId, (r) => r.status === 'waiting');

    expect(await apiB.runs.approve.mutate({ runId, comment: 'through B' })).toMatchObject({ forwarded: true });
    expect(await a.exited).toBe(-1); // A took the command and died before storing its transition

    a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'cmd-a' });
    cleanup.push(() => a.kill('SIGTERM'));
    const done = await waitForRun(apiB, runId, (r) => r.status === 'completed', 30_000);
    expect(done.nodes.task?.state).toBe('succeeded');
    const journal = await apiB.runs.journal.query({ runId });
    expect(journal.items.filter((j) => j.eventType === 'approval.decide')).toHaveLength(1);
    const tasks = (await apiB.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { sourceRunId: string }[] };
    expect(tasks.items.filter((t) => t.sourceRunId === runId)).toHaveLength(1);
  }, 240_000);
});
