import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, waitForRun } from './host-support';

const HOUR = 3_600_000;

const delayFlow = {
  schemaVersion: 1, id: 'two-hour-wait', kind: 'workflow', name: 'Two hour wait',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'wait', type: 'flow.delay', position: { x: 200, y: 0 }, params: { duration: '2 hours' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'After the wait', dueIn: '1 day' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }],
};

const approvalFlow = {
  schemaVersion: 1, id: 'needs-approval', kind: 'workflow', name: 'Needs approval',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Send it?' } },
    { id: 'yes', type: 'action.sendNotification', position: { x: 400, y: -50 }, params: { title: 'Approved' } },
    { id: 'no', type: 'action.sendNotification', position: { x: 400, y: 50 }, params: { title: 'Rejected' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'yes' }, { id: 'e3', source: 'ok', sourceHandle: 'rejected', target: 'no' }],
};

describe.each(backendsUnderTest())('durable waits survive a killed process (%s)', (backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('a 2-hour delay and a pending approval continue after SIGKILL + restart, at the right time', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt = await spawnRuntime(env);
    let api = client(rt.url);
    for (const doc of [delayFlow, approvalFlow]) {
      await api.flows.save.mutate({ document: doc as never });
      await api.flows.deploy.mutate({ docId: doc.id });
    }
    const waiting = await api.runs.start.mutate({ docId: 'two-hour-wait' });
    const approving = await api.runs.start.mutate({ docId: 'needs-approval' });
    await waitForRun(api, waiting.runId, (r) => r.nodes.wait?.state === 'running' && r.status === 'waiting');
    await waitForRun(api, approving.runId, (r) => r.status === 'waiting' && r.waitingApprovals.length === 1);

    expect(await rt.kill('SIGKILL')).toBe(-1);

    // Restart one hour later: the delay still waits, the approval is still pending, never auto-decided.
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + HOUR) });
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    await new Promise((r) => setTimeout(r, 700));
    expect((await api.runs.get.query({ runId: waiting.runId })).status).toBe('waiting');
    const pending = await api.runs.get.query({ runId: approving.runId });
    expect(pending.status).toBe('waiting');
    expect(pending.waitingApprovals).toEqual([{ nodeId: 'ok', request: { title: 'Send it?', details: '' } }]);

    // 1h59m after the start: not yet.
    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR - 60_000);
    await new Promise((r) => setTimeout(r, 700));
    expect((await api.runs.get.query({ runId: waiting.runId })).status).toBe('waiting');

    // 2h after the start: the wait ends and the task is created.
    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR + 1000);
    const done = await waitForRun(api, waiting.runId, (r) => r.status === 'completed');
    expect(done.nodes.task?.state).toBe('succeeded');

    const approved = await api.runs.approve.mutate({ runId: approving.runId, comment: 'go' });
    expect(approved.nodeId).toBe('ok');
    const finished = await waitForRun(api, approving.runId, (r) => r.status === 'completed');
    expect(finished.nodes.yes?.state).toBe('succeeded');
    expect(finished.nodes.no?.state).toBe('skipped');

    const journal = await api.runs.journal.query({ runId: approving.runId });
    // The restart left the approval wait parked (no actor until needed); its decision woke it once.
    expect(journal.items.filter((j) => j.kind === 'woken')).toHaveLength(1);
    expect(journal.items.some((j) => j.kind === 'restored')).toBe(false);
    expect(journal.items.find((j) => j.eventType === 'approval.decide')?.data).toMatchObject({ decision: 'approve', by: 'owner', comment: 'go' });
  });
});
