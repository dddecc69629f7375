import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, waitForRun, type Backend, type RuntimeProcess } from './host-support';

const HOUR = 3_600_000;

/** Open every day, all day: a check that reads the clock (so it stays a step of its own) and always passes. */
const ALWAYS_OPEN = { timezone: 'UTC', days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '23:59' };

/**
 * trigger -> 30 checks -> delay -> 12 checks -> task: 45 nodes in one chain, parked in the middle.
 * The checks read the clock (business hours), so each is a step; filters (`filters`) are decided
 * in the step that reaches them (machine format 4), so a chain of them is one step.
 */
function longFlow(check: 'clock' | 'filters' = 'clock') {
  const nodes: Record<string, unknown>[] = [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} }];
  const ids: string[] = ['start'];
  const add = (id: string, type: string, params: Record<string, unknown>) => {
    nodes.push({ id, type, position: { x: nodes.length * 120, y: 0 }, params });
    ids.push(id);
  };
  const addCheck = (id: string, i: number) =>
    (check === 'clock' ? add(id, 'condition.businessHours', ALWAYS_OPEN) : add(id, 'condition.expression', { expression: `trigger.n >= ${i}` }));
  for (let i = 0; i < 30; i++) addCheck(`a${i}`, i);
  add('wait', 'flow.delay', { duration: '1 hour' });
  for (let i = 0; i < 12; i++) addCheck(`b${i}`, i);
  add('task', 'action.createTask', { title: 'Journal {{ trigger.n }}' });
  const edges = ids.slice(1).map((id, i) => ({ id: `e${i}`, source: ids[i]!, target: id }));
  return { schemaVersion: 1, id: `journal-long-${check}`, kind: 'workflow', name: 'Long chain', nodes, edges };
}

describe.each(backendsUnderTest())('the journal as deltas plus checkpoints (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('a 45-node run writes a checkpoint every 20 steps and deltas between; killed while parked, it restores from checkpoint + deltas and completes', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_PARK_AFTER_MS: '200' };
    let rt: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGKILL'));
    let api = client(rt.url);
    await api.flows.save.mutate({ document: longFlow() as never });
    await api.flows.deploy.mutate({ docId: 'journal-long-clock' });
    const { runId } = await api.runs.start.mutate({ docId: 'journal-long-clock', payload: { n: 50 } } as never);
    const waiting = await waitForRun(api, runId, (r) => r.status === 'waiting');
    for (let i = 0; i < 30; i++) expect(waiting.nodes[`a${i}`]?.state).toBe('succeeded');

    const before = (await api.runs.journal.query({ runId })).items.filter((j) => j.kind === 'state');
    const deltas = before.filter((j) => !j.checkpoint);
    expect(deltas.length).toBeGreaterThan(before.length / 2);
    // Checkpoints: the first step, the status change to waiting, and one every 20 steps.
    expect(before.filter((j) => j.checkpoint).length).toBeLessThanOrEqual(2 + Math.ceil(before.length / 20));
    // Every step row still says which nodes were in which state.
    for (const j of before) expect(j.state).not.toBeNull();

    await new Promise((r) => setTimeout(r, 800)); // parked
    await rt.kill('SIGKILL');
    rt = await spawnRuntime(env);
    api = client(rt.url);
    // Read back while parked: the view is the checkpoint with its deltas applied.
    const parked = await api.runs.get.query({ runId });
    expect(parked.nodes.a29?.state).toBe('succeeded');
    expect(parked.nodes.wait?.state).toBe('running');

    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR);
    const done = await waitForRun(api, runId, (r) => r.status === 'completed');
    for (let i = 0; i < 12; i++) expect(done.nodes[`b${i}`]?.state).toBe('succeeded');
    expect((done.nodes.task?.output as { title?: string } | null)?.title).toBe('Journal 50');
    const tasks = (await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { sourceRunId: string }[] };
    expect(tasks.items.filter((t) => t.sourceRunId === runId)).toHaveLength(1);
    // The last step is a checkpoint (the run row holds the final state in full).
    const after = (await api.runs.journal.query({ runId })).items.filter((j) => j.kind === 'state');
    expect(after.at(-1)!.checkpoint).toBe(true);
  }, 180_000);

  it('the same chain of filters (decided in the step that reaches them) is a step to the delay and a step after it; every filter\'s outcome is in the run', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    const rt: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGKILL'));
    const api = client(rt.url);
    await api.flows.save.mutate({ document: longFlow('filters') as never });
    await api.flows.deploy.mutate({ docId: 'journal-long-filters' });
    const { runId } = await api.runs.start.mutate({ docId: 'journal-long-filters', payload: { n: 50 } } as never);
    const waiting = await waitForRun(api, runId, (r) => r.status === 'waiting');
    for (let i = 0; i < 30; i++) expect(waiting.nodes[`a${i}`]?.state).toBe('succeeded');
    expect((waiting.nodes.a29?.output as { value?: unknown } | null)?.value).toBe(true);
    expect(waiting.nodes.wait?.state).toBe('running');
    // The start decided all 30 filters: one step, then the delay's timer.
    const steps = (await api.runs.journal.query({ runId })).items.filter((j) => j.kind === 'state');
    expect(steps.length).toBeLessThanOrEqual(2);
    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR);
    const done = await waitForRun(api, runId, (r) => r.status === 'completed');
    for (let i = 0; i < 12; i++) expect(done.nodes[`b${i}`]?.state).toBe('succeeded');
    const tasks = (await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { sourceRunId: string }[] };
    expect(tasks.items.filter((t) => t.sourceRunId === runId)).toHaveLength(1);
    // The wake decided the 12 filters and started the task: the steps after the delay are the
    // wake, its decision and the task's end, not one per filter.
    const all = (await api.runs.journal.query({ runId })).items.filter((j) => j.kind === 'state');
    expect(all.length).toBeLessThanOrEqual(steps.length + 3);
  }, 120_000);
});
