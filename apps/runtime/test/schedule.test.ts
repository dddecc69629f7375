import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, client, freshStorage, spawnRuntime, type RuntimeProcess } from './host-support';

const everySecond = {
  schemaVersion: 1, id: 'tick', kind: 'workflow', name: 'Every second',
  nodes: [
    { id: 'cron', type: 'trigger.schedule', position: { x: 0, y: 0 }, params: { cron: '* * * * * *', timezone: 'Europe/Paris' } },
    { id: 'note', type: 'action.sendNotification', position: { x: 200, y: 0 }, params: { title: 'Tick {{ trigger.firedAt }}' } },
  ],
  edges: [{ id: 'e1', source: 'cron', target: 'note' }],
};

describe.each(backendsUnderTest())('cron triggers through bree (%s)', (backend) => {
  const procs: RuntimeProcess[] = [];
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGTERM');
    for (const d of drops) await d();
  });

  it(backend === 'postgres' ? 'two processes on one database fire each tick exactly once' : 'fires each tick once and stops after undeploy', async () => {
    const storage = await freshStorage(backend);
    drops.push(storage.drop);
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    const a = await spawnRuntime(env);
    procs.push(a);
    const api = client(a.url);
    await api.flows.save.mutate({ document: everySecond as never });
    await api.flows.deploy.mutate({ docId: 'tick' });
    if (backend === 'postgres') procs.push(await spawnRuntime(env)); // picks the schedule up on start
    await new Promise((r) => setTimeout(r, 4500));
    await api.flows.undeploy.mutate({ docId: 'tick' });
    await new Promise((r) => setTimeout(r, 1200));
    const runs = (await api.runs.list.query({ docId: 'tick', limit: 200 })).items;
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const fired = await Promise.all(runs.map(async (r) => (await api.runs.get.query({ runId: r.id })).trigger.payload as { firedAt: string }));
    const slots = fired.map((f) => f.firedAt);
    expect(new Set(slots).size).toBe(slots.length); // no tick twice
    for (const s of slots) expect(new Date(s).getUTCMilliseconds()).toBe(0);
    // After undeploy no more ticks arrive.
    const count = runs.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api.runs.list.query({ docId: 'tick', limit: 200 })).items.length).toBe(count);
  });
});
