import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { OTHER_TOKEN, TOKEN, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, switchyardCode, waitForRun, type Backend, type Client, type RuntimeProcess } from './host-support';

/** Sunday 2026-01-11 12:00 UTC; the Monday tick is 21 hours later. */
const SUNDAY = Date.UTC(2026, 0, 11, 12, 0);
const MONDAY = Date.UTC(2026, 0, 12, 9, 0);

/** For everyone: on sign-in and Mondays 09:00, a task per contact of the user it runs for. */
const forEveryone = (audience: 'everyone' | 'owner' = 'everyone', extra: Record<string, unknown>[] = []) => ({
  schemaVersion: 1, id: 'for-everyone', kind: 'behavior', name: 'Call your people', settings: { audience },
  nodes: [
    { id: 'login', type: 'trigger.userLogin', position: { x: 0, y: 0 }, params: {} },
    { id: 'monday', type: 'trigger.schedule', position: { x: 0, y: 160 }, params: { cron: '0 9 * * 1', timezone: 'UTC' } },
    { id: 'find', type: 'crm.findContacts', position: { x: 200, y: 0 }, params: { orderBy: 'name', order: 'asc', limit: 50 } },
    { id: 'each', type: 'flow.forEach', position: { x: 400, y: 0 }, params: { items: '{{ nodes.find.contacts }}', action: 'action.createTask', with: { title: 'Call {{ item.name }} (#{{ run.activation }})' }, maxItems: 50 } },
    ...extra,
  ],
  edges: [{ id: 'e1', source: 'login', target: 'find' }, { id: 'e2', source: 'monday', target: 'find' }, { id: 'e3', source: 'find', target: 'each' }],
});
const taskTitles = async (api: Client) => ((await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { title: string }[] }).items.map((t) => t.title).filter((t) => t.startsWith('Call ')).sort();
const contactNames = async (api: Client) => ((await api.crm.contacts.list.query({ limit: 200 } as never)) as unknown as { items: { name: string }[] }).items.map((c) => c.name).sort();
const activationsDone = (n: number) => (r: Awaited<ReturnType<Client['runs']['get']['query']>>) => r.status === 'failed' || (r.behavior?.idle === true && (r.behavior.lastActivation as { n?: number } | null)?.n === n);

describe.each(backendsUnderTest())('a behavior for everyone runs for every active user, each in their own scope (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('only the instance owner deploys it; a sign-in activates the signed-in user\'s own machine over their own data; a Monday tick activates each user once; delete stops them all', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(SUNDAY) });
    cleanup.push(() => rt.kill('SIGTERM'));
    const owner = client(rt.url, TOKEN);
    const other = client(rt.url, OTHER_TOKEN);
    for (const name of ['Zed Other', 'Yan Other']) await other.crm.contacts.create.mutate({ name, email: `${name.split(' ')[0]!.toLowerCase()}@other.test` } as never);
    for (const name of ['Ada Owner', 'Bob Owner']) await owner.crm.contacts.create.mutate({ name, email: `${name.split(' ')[0]!.toLowerCase()}@owner.test` } as never);
    const ownerPeople = await contactNames(owner); // theirs, and the demo contacts on the embedded database
    expect(ownerPeople).toEqual(expect.arrayContaining(['Ada Owner', 'Bob Owner']));
    expect(ownerPeople).not.toContain('Zed Other');

    // Another user may not deploy a behavior that runs in everyone's data.
    await other.flows.save.mutate({ document: forEveryone() as never });
    expect(switchyardCode(await other.flows.deploy.mutate({ docId: 'for-everyone' }).catch((e: unknown) => e))).toBe('FORBIDDEN');
    await other.flows.delete.mutate({ docId: 'for-everyone' });
    // Nor may it hold what would act as the user elsewhere (a webhook out): a compile diagnostic.
    const hook = forEveryone('everyone', [{ id: 'out', type: 'action.webhook', position: { x: 600, y: 0 }, params: { url: 'https://collector.example.com/x' } }]);
    const v = (await owner.flows.validate.mutate({ document: hook as never } as never)) as unknown as { diagnostics: { code: string; nodeId?: string }[] };
    expect(v.diagnostics).toContainEqual(expect.objectContaining({ code: 'kind-not-allowed', nodeId: 'out' }));

    await owner.flows.save.mutate({ document: forEveryone() as never });
    await owner.flows.deploy.mutate({ docId: 'for-everyone' });

    // The other user signs in: their own machine, their own contacts, their own tasks.
    const login = await other.events.emit.mutate({ type: 'user.login', payload: { at: new Date(SUNDAY + 60_000).toISOString() } });
    expect(login.runs).toHaveLength(1);
    const otherRun = login.runs[0]!.runId;
    const run = await waitForRun(other, otherRun, activationsDone(1));
    expect((run.nodes.find?.output as { contacts: { name: string }[] }).contacts.map((c) => c.name)).toEqual(['Yan Other', 'Zed Other']);
    expect(await taskTitles(other)).toEqual(['Call Yan Other (#1)', 'Call Zed Other (#1)']);
    expect((await taskTitles(owner)).filter((t) => t.includes('Other'))).toEqual([]);
    // The owner does not see the other user's run, nor has a run of their own yet.
    expect(switchyardCode(await owner.runs.get.query({ runId: otherRun }).catch((e: unknown) => e))).toBe('NOT_FOUND');
    expect((await owner.runs.list.query({ docId: 'for-everyone' })).items).toHaveLength(0);

    // Monday 09:00: one activation per user, each over their own data.
    await setClock(rt.url, MONDAY);
    await waitForRun(other, otherRun, activationsDone(2));
    await expect.poll(async () => (await owner.runs.list.query({ docId: 'for-everyone' })).items.length, { timeout: 30_000 }).toBe(1);
    const ownerRun = (await owner.runs.list.query({ docId: 'for-everyone' })).items[0]!.id;
    expect(ownerRun).not.toBe(otherRun);
    await waitForRun(owner, ownerRun, activationsDone(1));
    expect(await taskTitles(other)).toEqual(['Call Yan Other (#1)', 'Call Yan Other (#2)', 'Call Zed Other (#1)', 'Call Zed Other (#2)']);
    expect(await taskTitles(owner)).toEqual(ownerPeople.map((n) => `Call ${n} (#1)`).sort());
    const journal = await other.runs.journal.query({ runId: otherRun });
    expect(journal.items.filter((j) => j.eventType === 'behavior.activate')).toHaveLength(2);

    // Deleting it stops every user's machine.
    await owner.flows.delete.mutate({ docId: 'for-everyone' });
    await waitForRun(other, otherRun, (r) => r.status === 'cancelled');
    await waitForRun(owner, ownerRun, (r) => r.status === 'cancelled');
  }, 240_000);
});

describe.runIf(backendsUnderTest().includes('postgres'))('a behavior for everyone on two processes sharing one PostgreSQL database', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('each Monday tick activates each user once, not once per process', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(SUNDAY) };
    const a: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => a.kill('SIGTERM'));
    const owner = client(a.url, TOKEN);
    const other = client(a.url, OTHER_TOKEN);
    await owner.crm.contacts.create.mutate({ name: 'Ada Owner', email: 'ada@owner.test' } as never);
    await other.crm.contacts.create.mutate({ name: 'Zed Other', email: 'zed@other.test' } as never);
    await owner.flows.save.mutate({ document: forEveryone() as never });
    await owner.flows.deploy.mutate({ docId: 'for-everyone' });
    const b: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => b.kill('SIGTERM'));
    const db = new pg.Client({ connectionString: storage.env.DATABASE_URL });
    await db.connect();
    cleanup.push(() => db.end());
    const activations = async () => (await db.query<{ name: string; n: string }>(
      `select u.name, count(*) as n from run_commands c join runs r on r.id = c.run_id join users u on u.id = r.user_id
        where c.payload->>'type' = 'behavior.activate' group by u.name order by u.name`)).rows.map((r) => `${r.name}:${r.n}`);

    for (const [w, monday] of [MONDAY, MONDAY + 7 * 86_400_000].entries()) {
      await Promise.all([setClock(a.url, monday), setClock(b.url, monday)]);
      expect(await activations()).toEqual([`other:${w + 1}`, `owner:${w + 1}`]);
    }
    await expect.poll(async () => (await taskTitles(other)), { timeout: 30_000 }).toEqual(['Call Zed Other (#1)', 'Call Zed Other (#2)']);
    await expect.poll(async () => (await taskTitles(owner)).filter((t) => t.includes('Ada Owner')), { timeout: 30_000 }).toEqual(['Call Ada Owner (#1)', 'Call Ada Owner (#2)']);
    expect((await taskTitles(owner)).filter((t) => t.includes('Zed'))).toEqual([]);
  }, 240_000);
});
