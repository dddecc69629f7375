import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, client, freshStorage, spawnRuntime, waitForRun, type Backend, type Client } from './host-support';

const forEachFlow = (mode: 'parallel' | 'sequential', withParams: Record<string, unknown> = { title: 'Call {{ item.name }} (#{{ index }})' }) => ({
  schemaVersion: 1, id: `each-${mode}`, kind: 'workflow', name: `Each ${mode}`,
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'each', type: 'flow.forEach', position: { x: 200, y: 0 }, params: { items: '{{ trigger.people }}', action: 'action.createTask', with: withParams, mode } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'each' }],
});
const people = [{ name: 'Ada' }, { name: 'Grace' }, { name: 'Linus' }];

async function titles(api: Client, runId: string) {
  const page = (await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { sourceRunId: string; title: string }[] };
  return page.items.filter((t) => t.sourceRunId === runId).map((t) => t.title).sort();
}

describe.each(backendsUnderTest())('for each: one action per item, each with its own effect key (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('parallel and in order; killed after the second item, the restart does only the third; bad lists and settings are typed failures', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_EFFECT: 'each[1]' });
    let api = client(rt.url);
    for (const mode of ['parallel', 'sequential'] as const) {
      await api.flows.save.mutate({ document: forEachFlow(mode) as never });
      await api.flows.deploy.mutate({ docId: `each-${mode}` });
    }
    // In order, the process dies right after the second item's task committed.
    await api.runs.start.mutate({ docId: 'each-sequential', payload: { people } } as never).catch(() => undefined);
    expect(await rt.exited).toBe(-1);
    rt = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    const crashed = (await api.runs.list.query({ docId: 'each-sequential' })).items[0]!.id;
    const done = await waitForRun(api, crashed, (r) => r.status === 'completed');
    expect(await titles(api, crashed)).toEqual(['Call Ada (#0)', 'Call Grace (#1)', 'Call Linus (#2)']);
    expect((done.nodes.each?.output as { count: number }).count).toBe(3);

    const { runId } = await api.runs.start.mutate({ docId: 'each-parallel', payload: { people } } as never);
    await waitForRun(api, runId, (r) => r.status === 'completed');
    expect(await titles(api, runId)).toEqual(['Call Ada (#0)', 'Call Grace (#1)', 'Call Linus (#2)']);

    // Not a list: a typed failure naming the param.
    const notList = (await api.runs.start.mutate({ docId: 'each-parallel', payload: { people: 'Ada' } } as never)).runId;
    const failed = await waitForRun(api, notList, (r) => r.status === 'failed');
    expect(failed.error).toMatchObject({ nodeId: 'each', code: 'BAD_INPUT' });
    expect(String((failed.error as { message: string }).message)).toContain('"items" must be a list');
    // Settings the action refuses (a task without a title): the item is named, nothing is created.
    await api.flows.save.mutate({ document: forEachFlow('parallel', { title: '' }) as never });
    await api.flows.deploy.mutate({ docId: 'each-parallel' });
    const bad = (await api.runs.start.mutate({ docId: 'each-parallel', payload: { people } } as never)).runId;
    const refused = await waitForRun(api, bad, (r) => r.status === 'failed');
    expect(String((refused.error as { message: string }).message)).toMatch(/^Item 1: title/);
    expect(await titles(api, bad)).toEqual([]);
  }, 240_000);

  it('compile diagnostics: a for-each without a list, with an unknown action or too many items', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url);
    const doc = forEachFlow('parallel');
    doc.nodes[1]!.params = { items: ' ', action: 'action.launchRocket', with: {}, mode: 'parallel', maxItems: 1000 } as never;
    const res = (await api.flows.validate.mutate({ document: doc as never } as never)) as unknown as { diagnostics: { nodeId?: string; path: (string | number)[] }[] };
    expect(res.diagnostics.filter((d) => d.nodeId === 'each').map((d) => d.path.at(-1))).toEqual(expect.arrayContaining(['items', 'action', 'maxItems']));
  }, 120_000);
});
