import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, OTHER_TOKEN, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, switchyardCode, type Backend, type Client } from './host-support';

const HOUR = 3_600_000;
/** Wednesday 2026-01-07 15:00 UTC, on an hour: the hourly intervals start at 15:00, 16:00, ... */
const T0 = BUSINESS_HOURS;

/** Checked every hour: when follow-ups are due, a task that says how many. */
const behavior = (everyMinutes: unknown = 60) => ({
  schemaVersion: 1, id: 'due-watch', kind: 'behavior', name: 'Watch due follow-ups',
  nodes: [
    { id: 'check', type: 'trigger.condition', position: { x: 0, y: 0 }, params: { everyMinutes, condition: 'trigger.followUpsDue > 0' } },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: '{{ trigger.followUpsDue }} due at {{ trigger.checkedAt }}' } },
  ],
  edges: [{ id: 'e1', source: 'check', target: 'task' }],
});
/** Every hour without a condition: its task for an interval proves the checks of that interval ran (triggers are checked in deploy order). */
const heartbeat = {
  schemaVersion: 1, id: 'heartbeat', kind: 'workflow', name: 'Heartbeat',
  nodes: [
    { id: 'check', type: 'trigger.condition', position: { x: 0, y: 0 }, params: { everyMinutes: 60 } },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'beat {{ trigger.checkedAt }}' } },
  ],
  edges: [{ id: 'e1', source: 'check', target: 'task' }],
};

const titles = async (api: Client) => ((await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { title: string }[] }).items.map((t) => t.title).sort();
const at = (ms: number) => new Date(ms).toISOString();

describe.each(backendsUnderTest())('condition triggers: checked every N minutes, once per interval (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('activates the behavior at the first check where the condition holds, once per interval, never while it does not; an invalid interval is a compile diagnostic and deploy refuses it', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(T0 + 5 * 60_000) });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url, OTHER_TOKEN);

    // Bad input: an interval of 0 or more than a day is invalid-interval on the param; deploy refuses it.
    for (const bad of [0, 1441, 7.5]) {
      const v = (await api.flows.validate.mutate({ document: behavior(bad) as never } as never)) as unknown as { diagnostics: { code: string; nodeId?: string; path: (string | number)[] }[] };
      expect(v.diagnostics).toEqual([expect.objectContaining({ code: 'invalid-interval', nodeId: 'check', path: ['nodes', 0, 'params', 'everyMinutes'] })]);
    }
    await api.flows.save.mutate({ document: behavior(0) as never });
    expect(switchyardCode(await api.flows.deploy.mutate({ docId: 'due-watch' }).catch((e: unknown) => e))).toBe('INVALID_DOCUMENT');

    await api.flows.save.mutate({ document: behavior() as never });
    await api.flows.deploy.mutate({ docId: 'due-watch' });
    await api.flows.save.mutate({ document: heartbeat as never });
    await api.flows.deploy.mutate({ docId: 'heartbeat' });
    const contact = await api.crm.contacts.create.mutate({ name: 'Ada Lovelace', email: 'ada@engines.test' } as never) as unknown as { id: string };
    const beat = async (ms: number) => {
      await setClock(rt.url, ms);
      await expect.poll(() => titles(api), { timeout: 20_000 }).toContain(`beat ${at(Math.floor(ms / HOUR) * HOUR)}`);
    };
    const activations = async () => {
      const runs = (await api.runs.list.query({ docId: 'due-watch' })).items;
      if (!runs.length) return 0;
      const journal = await api.runs.journal.query({ runId: runs[0]!.id, limit: 500 } as never);
      return journal.items.filter((j) => j.eventType === 'behavior.activate').length;
    };

    // 16:01, nothing due: checked, nothing starts.
    await beat(T0 + HOUR + 60_000);
    expect(await activations()).toBe(0);
    // A follow-up due at 16:30. At 17:01 the condition holds: one activation for the 17:00 interval.
    await api.crm.followUps.create.mutate({ contactId: contact.id, dueAt: at(T0 + 90 * 60_000), note: 'Pricing' } as never);
    await beat(T0 + 2 * HOUR + 60_000);
    await expect.poll(() => titles(api), { timeout: 20_000 }).toContain(`1 due at ${at(T0 + 2 * HOUR)}`);
    // 17:40, the same interval: not checked again.
    await setClock(rt.url, T0 + 2 * HOUR + 40 * 60_000);
    // 18:01, still due: the next interval activates again (activation 2), with its own task.
    await beat(T0 + 3 * HOUR + 60_000);
    await expect.poll(() => titles(api), { timeout: 20_000 }).toContain(`1 due at ${at(T0 + 3 * HOUR)}`);
    expect(await activations()).toBe(2);
    // Completed: the 19:00 check does not hold.
    const due = (await api.crm.followUps.list.query({} as never)) as unknown as { items: { id: string }[] };
    await api.crm.followUps.update.mutate({ id: due.items[0]!.id, status: 'completed' } as never);
    await beat(T0 + 4 * HOUR + 60_000);
    const runId = (await api.runs.list.query({ docId: 'due-watch' })).items[0]!.id;
    await expect.poll(async () => (await api.runs.get.query({ runId })).status, { timeout: 20_000 }).toBe('waiting');
    expect(await activations()).toBe(2);
    expect((await titles(api)).filter((t) => t.includes(' due at '))).toEqual([`1 due at ${at(T0 + 2 * HOUR)}`, `1 due at ${at(T0 + 3 * HOUR)}`]);
    // One behavior machine, one run per heartbeat interval checked.
    expect((await api.runs.list.query({ docId: 'due-watch' })).items).toHaveLength(1);
    const beats = (await titles(api)).filter((t) => t.startsWith('beat '));
    expect(new Set(beats).size).toBe(beats.length);
  }, 180_000);
});
