import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, waitForRun, type Backend, type Client } from './host-support';

/** A for-each whose branch, per contact, creates a task and then a notification naming it. */
const branchFlow = (mode: 'parallel' | 'sequential') => ({
  schemaVersion: 1, id: `branch-${mode}`, kind: 'workflow', name: `Branch ${mode}`,
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'each', type: 'flow.forEach', position: { x: 200, y: 0 }, params: { items: '{{ trigger.people }}', mode } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 100 }, params: { title: 'Call {{ item.name }} (#{{ index }})' } },
    { id: 'notify', type: 'action.sendNotification', position: { x: 600, y: 100 }, params: { title: 'Branch: call {{ item.name }}', body: 'Task {{ nodes.task.taskId }}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'each' },
    { id: 'e2', source: 'each', sourceHandle: 'each', target: 'task' },
    { id: 'e3', source: 'task', target: 'notify' },
  ],
});
const people = [{ name: 'Ada' }, { name: 'Grace' }, { name: 'Linus' }];

/** Per contact: wait an hour, then a task (the items only wait, so the run may be parked). */
const waitingBranch = {
  schemaVersion: 1, id: 'branch-wait', kind: 'workflow', name: 'Branch that waits',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'each', type: 'flow.forEach', position: { x: 200, y: 0 }, params: { items: '{{ trigger.people }}', mode: 'parallel' } },
    { id: 'wait', type: 'flow.delay', position: { x: 400, y: 100 }, params: { duration: '1 hour' } },
    { id: 'task', type: 'action.createTask', position: { x: 600, y: 100 }, params: { title: 'Later: {{ item.name }}' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'each' },
    { id: 'e2', source: 'each', sourceHandle: 'each', target: 'wait' },
    { id: 'e3', source: 'wait', target: 'task' },
  ],
};
const HOUR = 3_600_000;
async function parking(url: string) {
  return (await (await fetch(`${url}/__test/parking`)).json()) as { live: number; parked: number; woken: number };
}

async function effectsOf(api: Client, runId: string) {
  const tasks = ((await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { id: string; sourceRunId: string; title: string }[] }).items
    .filter((t) => t.sourceRunId === runId);
  const ids = new Set(tasks.map((t) => t.id));
  const notes = ((await api.crm.notifications.list.query({ limit: 200 } as never)) as unknown as { items: { title: string; body: string }[] }).items
    .filter((n) => n.title.startsWith('Branch: ') && ids.has(n.body.replace('Task ', '')));
  return { tasks: tasks.map((t) => t.title).sort(), notes: notes.map((n) => n.title).sort() };
}

const ALL = {
  tasks: ['Call Ada (#0)', 'Call Grace (#1)', 'Call Linus (#2)'],
  notes: ['Branch: call Ada', 'Branch: call Grace', 'Branch: call Linus'],
};

describe.each(backendsUnderTest())('for each running a branch per item, killed mid-way (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('SIGKILLed after an item\'s effects, the restarted runtime does the rest: one task and one notification per item', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };

    // In order: the process dies right after the first item's notification committed.
    let rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_EFFECT: 'each[0].notify' });
    let api = client(rt.url);
    for (const mode of ['parallel', 'sequential'] as const) {
      await api.flows.save.mutate({ document: branchFlow(mode) as never });
      await api.flows.deploy.mutate({ docId: `branch-${mode}` });
    }
    await api.runs.start.mutate({ docId: 'branch-sequential', payload: { people } } as never).catch(() => undefined);
    expect(await rt.exited).toBe(-1);
    rt = await spawnRuntime(env);
    api = client(rt.url);
    const sequential = (await api.runs.list.query({ docId: 'branch-sequential' })).items[0]!.id;
    const done = await waitForRun(api, sequential, (r) => r.status === 'completed' || r.status === 'failed');
    expect(done.status).toBe('completed');
    expect(await effectsOf(api, sequential)).toEqual(ALL);
    const out = done.nodes.each?.output as { count: number; total: number; results: { index: number; status: string; nodes: Record<string, unknown> }[] };
    expect(out.count).toBe(3);
    expect(out.results.map((r) => [r.index, r.status])).toEqual([[0, 'succeeded'], [1, 'succeeded'], [2, 'succeeded']]);
    // The run view shows the branch's nodes as the last item left them (the canvas badges read it).
    expect(done.nodes.task).toMatchObject({ state: 'succeeded', item: { forEach: 'each', index: 2 } });
    expect(done.nodes.notify).toMatchObject({ state: 'succeeded', item: { forEach: 'each', index: 2 }, output: expect.objectContaining({ notificationId: expect.any(String) }) });
    // The run was restored from its journal, whose steps hold each item's steps.
    const journal = await api.runs.journal.query({ runId: sequential });
    expect(journal.items.some((j) => j.kind === 'restored')).toBe(true);
    for (const i of [0, 1, 2]) expect(journal.items.some((j) => j.eventType === `xstate.snapshot.each.item.${i}`)).toBe(true);
    await rt.kill('SIGTERM');

    // All at once: the process dies right after the second item's task committed.
    rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_EFFECT: 'each[1].task' });
    api = client(rt.url);
    await api.runs.start.mutate({ docId: 'branch-parallel', payload: { people } } as never).catch(() => undefined);
    expect(await rt.exited).toBe(-1);
    rt = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    const parallel = (await api.runs.list.query({ docId: 'branch-parallel' })).items[0]!.id;
    const ended = await waitForRun(api, parallel, (r) => r.status === 'completed' || r.status === 'failed');
    expect(ended.status).toBe('completed');
    expect(await effectsOf(api, parallel)).toEqual(ALL);

    // Not a list: a typed failure of the for-each; no item runs.
    const bad = (await api.runs.start.mutate({ docId: 'branch-parallel', payload: { people: 'Ada' } } as never)).runId;
    const failed = await waitForRun(api, bad, (r) => r.status === 'failed');
    expect(failed.error).toMatchObject({ nodeId: 'each', code: 'BAD_INPUT' });
    expect(String((failed.error as { message: string }).message)).toContain('"items" must be a list');
    expect(await effectsOf(api, bad)).toEqual({ tasks: [], notes: [] });

    // A branch node fed from outside the branch does not deploy: the diagnostic names it.
    const shared = branchFlow('parallel');
    shared.edges.push({ id: 'x', source: 'start', target: 'notify' });
    const res = (await api.flows.validate.mutate({ document: shared as never } as never)) as unknown as { diagnostics: { code: string; nodeId?: string }[] };
    expect(res.diagnostics).toEqual([expect.objectContaining({ code: 'foreach-body-entry', nodeId: 'notify' })]);
  }, 240_000);

  it('a run whose items only wait on a delay reads as waiting and is parked (no actor in memory); killed while parked, it wakes when due and acts once per item', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_PARK_AFTER_MS: '300', SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGKILL'));
    let api = client(rt.url);
    await api.flows.save.mutate({ document: waitingBranch as never });
    await api.flows.deploy.mutate({ docId: 'branch-wait' });
    const runId = (await api.runs.start.mutate({ docId: 'branch-wait', payload: { people } } as never)).runId;
    const waiting = await waitForRun(api, runId, (r) => r.status === 'waiting');
    expect(waiting.nodes.each?.state).toBe('running');
    for (const end = Date.now() + 20_000; ;) {
      const p = await parking(rt.url);
      if (p.live === 0 && p.parked >= 1) break;
      if (Date.now() > end) throw new Error(`the run was not parked: ${JSON.stringify(p)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await api.runs.get.query({ runId })).status).toBe('waiting');

    // SIGKILL while parked; the restarted process leaves it parked until its timers are due.
    await rt.kill('SIGKILL');
    rt = await spawnRuntime(env);
    api = client(rt.url);
    expect((await parking(rt.url)).live).toBe(0);
    expect((await effectsOf(api, runId)).tasks).toEqual([]);
    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR);
    const done = await waitForRun(api, runId, (r) => r.status === 'completed' || r.status === 'failed');
    expect(done.status).toBe('completed');
    expect((await effectsOf(api, runId)).tasks).toEqual(['Later: Ada', 'Later: Grace', 'Later: Linus']);
    expect((await parking(rt.url)).woken).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
