import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, client, freshStorage, spawnRuntime, waitForRun, type Backend, type Client, type RuntimeProcess } from './host-support';

/** On each login: a check-in task that names the activation; a filter skips logins flagged as bots. */
const behavior = (title = 'Check-in #{{ run.activation }}') => ({
  schemaVersion: 1, id: 'login-check-in', kind: 'behavior', name: 'Check in on login',
  nodes: [
    { id: 'login', type: 'trigger.userLogin', position: { x: 0, y: 0 }, params: {} },
    { id: 'human', type: 'condition.expression', position: { x: 200, y: 0 }, params: { expression: "trigger.at != '2026-01-07T15:00:00.000Z'" } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title } },
  ],
  edges: [{ id: 'e1', source: 'login', target: 'human' }, { id: 'e2', source: 'human', target: 'task' }],
});

async function tasksOf(api: Client, runId: string) {
  const page = (await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { sourceRunId: string; title: string }[] };
  return page.items.filter((t) => t.sourceRunId === runId).map((t) => t.title).sort();
}
const login = (at: string, dedupeKey?: string) => ({ type: 'user.login' as const, payload: { at }, ...(dedupeKey ? { dedupeKey } : {}) });
type Ctx = { activation?: number; lastActivation?: { n: number; status: string } };

describe.each(backendsUnderTest())('behaviors: one long-lived machine that idles, activates and idles again (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('each activation runs the drawing afresh with its own effect keys; a duplicate event does not activate; parked between activations, across a SIGKILL; a new version replaces the old machine', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_PARK_AFTER_MS: '200' };
    let rt: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGKILL'));
    let api = client(rt.url);
    await api.flows.save.mutate({ document: behavior() as never });
    await api.flows.deploy.mutate({ docId: 'login-check-in' });

    const first = await api.events.emit.mutate(login('2026-01-07T15:01:00.000Z', 'login-1'));
    const runId = first.runs[0]!.runId;
    const ctxOf = async () => ((await api.runs.get.query({ runId })) as unknown as { context?: Ctx }).context;
    await expect.poll(async () => tasksOf(api, runId), { timeout: 20_000 }).toEqual(['Check-in #1']);
    const idle = await waitForRun(api, runId, (r) => r.status === 'waiting');
    expect(idle.nodes.task?.state).toBe('succeeded');

    // The same event again (same dedupe key): no second activation.
    await api.events.emit.mutate(login('2026-01-07T15:01:00.000Z', 'login-1'));
    // A login the filter stops: the activation is skipped, nothing is created, the behavior goes on.
    const skipped = await api.events.emit.mutate(login('2026-01-07T15:00:00.000Z', 'login-bot'));
    expect(skipped.runs[0]!.runId).toBe(runId);
    await expect.poll(async () => (await api.runs.get.query({ runId })).nodes.human?.state, { timeout: 20_000 }).toBe('succeeded');
    await expect.poll(async () => (await api.runs.get.query({ runId })).nodes.task?.state, { timeout: 20_000 }).toBe('skipped');
    // Another login: activation 3 acts anew (its own effect key, although the params render alike but for the number).
    await api.events.emit.mutate(login('2026-01-07T16:00:00.000Z', 'login-2'));
    await expect.poll(async () => tasksOf(api, runId), { timeout: 20_000 }).toEqual(['Check-in #1', 'Check-in #3']);

    // Parked between activations; killed; the next login wakes it in the new process.
    await new Promise((r) => setTimeout(r, 800));
    await rt.kill('SIGKILL');
    rt = await spawnRuntime(env);
    api = client(rt.url);
    await api.events.emit.mutate(login('2026-01-08T09:00:00.000Z', 'login-3'));
    await expect.poll(async () => tasksOf(api, runId), { timeout: 20_000 }).toEqual(['Check-in #1', 'Check-in #3', 'Check-in #4']);
    const journal = await api.runs.journal.query({ runId });
    expect(journal.items.filter((j) => j.eventType === 'behavior.activate')).toHaveLength(4);
    // The filter is decided in each activation's step (machine format 4): the timeline has it once
    // per activation, also when it ends as it did the time before (activations 3 and 4) and across the restart.
    const timeline = await api.monitor.run.query({ runId });
    const human = timeline.spans.filter((x) => x.nodeId === 'human').sort((x, y) => x.activation - y.activation);
    expect(human.map((x) => [x.activation, x.status, x.decided, (x.output as { value?: unknown } | null)?.value])).toEqual([
      [1, 'succeeded', true, true], [2, 'succeeded', true, false], [3, 'succeeded', true, true], [4, 'succeeded', true, true],
    ]);
    expect(timeline.spans.filter((x) => x.nodeId === 'task').map((x) => x.activation).sort()).toEqual([1, 2, 3]);
    expect((await api.runs.list.query({ docId: 'login-check-in' })).items).toHaveLength(1);

    // A new version: its first activation starts its own machine and cancels the old one.
    await api.flows.save.mutate({ document: behavior('Hello again #{{ run.activation }}') as never });
    await api.flows.deploy.mutate({ docId: 'login-check-in' });
    const next = await api.events.emit.mutate(login('2026-01-08T10:00:00.000Z', 'login-4'));
    const v2 = next.runs[0]!.runId;
    expect(v2).not.toBe(runId);
    await expect.poll(async () => tasksOf(api, v2), { timeout: 20_000 }).toEqual(['Hello again #1']);
    await waitForRun(api, runId, (r) => r.status === 'cancelled');
    void ctxOf;
  }, 240_000);

  it('notification.acted is a domain event: a trigger filtered by action starts on a dismiss, not on a compose', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url);
    await api.flows.save.mutate({
      document: {
        schemaVersion: 1, id: 'on-dismiss', kind: 'workflow', name: 'On dismiss',
        nodes: [
          { id: 'acted', type: 'trigger.notificationActed', position: { x: 0, y: 0 }, params: { action: 'dismiss' } },
          { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Dismissed {{ trigger.notificationId }}' } },
        ],
        edges: [{ id: 'e1', source: 'acted', target: 'task' }],
      } as never,
    });
    await api.flows.deploy.mutate({ docId: 'on-dismiss' });
    const composed = await api.events.emit.mutate({ type: 'notification.acted', payload: { notificationId: 'n-1', action: 'compose' } });
    expect(composed.runs).toHaveLength(0);
    const dismissed = await api.events.emit.mutate({ type: 'notification.acted', payload: { notificationId: 'n-2', action: 'dismiss' } });
    expect(dismissed.runs).toHaveLength(1);
    const run = await waitForRun(api, dismissed.runs[0]!.runId, (r) => r.status === 'completed');
    expect((run.nodes.task?.output as { title?: string }).title).toBe('Dismissed n-2');
    // Bad input: an acted event without its notification id is refused with a typed error.
    await expect(api.events.emit.mutate({ type: 'notification.acted', payload: { action: 'dismiss' } } as never)).rejects.toThrow();
  }, 120_000);
});
