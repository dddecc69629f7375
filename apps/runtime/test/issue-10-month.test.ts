import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { OTHER_TOKEN, TOKEN, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, waitForRun, type Backend, type Client, type RuntimeProcess } from './host-support';

const DAY = 86_400_000;
/** Monday 2026-01-12 09:00 UTC and the three Mondays after it. */
const MONDAYS = [0, 7, 14, 21].map((d) => Date.UTC(2026, 0, 12, 9, 0) + d * DAY);
const SUNDAY_NOON = MONDAYS[0]! - 21 * 3_600_000;

/**
 * 40 contacts, every strength and every last-interaction date different: strengths 0.10..0.96,
 * last spoken 3..120 days before the first Monday (permutations, so strength and quiet are not correlated).
 */
const contacts = Array.from({ length: 40 }, (_, i) => ({
  name: `Person${String(i + 1).padStart(2, '0')} Test`,
  email: `p${i + 1}@month.test`,
  relationshipStrength: Math.round((0.1 + ((i * 17) % 40) * 0.022) * 1000) / 1000,
  lastInteractionAt: new Date(MONDAYS[0]! - (3 + ((i * 11) % 40) * 3) * DAY).toISOString(),
}));

type Contact = { id: string; name: string; email: string; relationshipStrength: number; lastInteractionAt: string | null };
type Note = { id: string; type: string; title: string; createdAt: string; contact: { id: string } | null; actions: { id: string; kind: string; draft?: { to: string[]; subject: string; body: string } }[] };

/** What the behavior should raise at `now`: no interaction for more than 30 days, strength above 0.5, the 5 strongest. */
const expectedAt = (all: Contact[], now: number) => all
  .filter((c) => (c.lastInteractionAt === null || Date.parse(c.lastInteractionAt) < now - 30 * DAY) && c.relationshipStrength > 0.5)
  .sort((a, b) => b.relationshipStrength - a.relationshipStrength)
  .slice(0, 5)
  .map((c) => `Reconnect with ${c.name}`)
  .sort();

async function allContacts(api: Client): Promise<Contact[]> {
  return ((await api.crm.contacts.list.query({ limit: 200 } as never)) as unknown as { items: Contact[] }).items;
}
async function suggestions(api: Client): Promise<Note[]> {
  return ((await api.notifications.list.query({ view: 'all', limit: 100 } as never)) as unknown as { items: Note[] }).items
    .filter((n) => n.type === 'reactivation-suggestion');
}
async function installDormant(api: Client) {
  const t = await api.templates.get.query({ id: 'dormant-contact-reactivation' });
  const { install } = await api.templates.install.mutate({ id: 'dormant-contact-reactivation', variables: { days: 30, timezone: 'UTC' }, acceptPermissions: t.permissions, deploy: true });
  return install.flows[0]!.docId;
}
/** The behavior's one run, once its n-th activation is over (idle again). */
async function afterActivation(api: Client, docId: string, n: number) {
  await expect.poll(async () => (await api.runs.list.query({ docId })).items.length, { timeout: 30_000 }).toBe(1);
  const runId = (await api.runs.list.query({ docId })).items[0]!.id;
  const run = await waitForRun(api, runId, (r) => r.status === 'failed' || (r.behavior?.idle === true && (r.behavior.lastActivation as { n?: number } | null)?.n === n), 60_000);
  expect(run.behavior?.lastActivation, JSON.stringify(run.behavior?.lastActivation)).toMatchObject({ n, status: 'completed' });
  const journal = await api.runs.journal.query({ runId, limit: 1000 } as never);
  expect(journal.items.filter((j) => j.eventType === 'behavior.activate')).toHaveLength(n);
  return run;
}
const raisedSince = (all: Note[], since: number) => all.filter((n) => Date.parse(n.createdAt) >= since).map((n) => n.title).sort();

describe.each(backendsUnderTest())('a simulated month of the dormant-contact behavior (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('each Monday 09:00 exactly the top 5 still-dormant contacts get a suggestion with an email the agent wrote; a sign-in the same day raises nothing new; Compose drafts it and counts; a contact written to drops out', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(SUNDAY_NOON) });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url, OTHER_TOKEN); // a user of their own: no demo data
    for (const c of contacts) await api.crm.contacts.create.mutate(c as never);
    const docId = await installDormant(api);
    expect((await api.agents.list.query({} as never) as unknown as { items: { name: string }[] }).items.map((a) => a.name)).toContain('Relationship assistant');

    // Monday 09:00: the cron tick fires (the clock moved past it), once.
    await setClock(rt.url, MONDAYS[0]!);
    const week1 = await afterActivation(api, docId, 1);
    let everyone = await allContacts(api);
    const first = await suggestions(api);
    expect(first.map((n) => n.title).sort()).toEqual(expectedAt(everyone, MONDAYS[0]!));
    expect(first).toHaveLength(5);
    // Each suggestion carries the email the agent skill wrote to that contact.
    const written = (week1.nodes.write?.output as { results: { output: { output: { contactId: string; to: string; body: string } } }[] }).results;
    expect(written).toHaveLength(5);
    for (const n of first) {
      const c = everyone.find((x) => x.id === n.contact!.id)!;
      const compose = n.actions.find((a) => a.kind === 'compose-email')!;
      const days = Math.floor((MONDAYS[0]! - Date.parse(c.lastInteractionAt!)) / DAY);
      expect(compose.draft).toMatchObject({ to: [c.email], subject: 'Catching up' });
      expect(compose.draft!.body).toMatch(new RegExp(`^Hi ${c.name.split(' ')[0]},\\n\\nIt has been ${days >= 60 ? `about ${Math.round(days / 30)} months` : `${days} days`} since we last spoke\\.`));
      expect(written.some((w) => w.output.output.contactId === c.id && w.output.output.body === compose.draft!.body)).toBe(true);
    }
    expect(await api.notifications.engagement.query({})).toMatchObject({ shown: 5, acted: 0 });

    // A sign-in the same morning: the behavior activates, finds the same five, raises nothing new.
    await setClock(rt.url, MONDAYS[0]! + 30 * 60_000);
    await api.events.emit.mutate({ type: 'user.login', payload: { at: new Date(MONDAYS[0]! + 30 * 60_000).toISOString() } });
    await afterActivation(api, docId, 2);
    expect((await suggestions(api)).map((n) => n.id).sort()).toEqual(first.map((n) => n.id).sort());

    // Compose on the strongest: its draft is created (the agent's email, to the contact) and engagement rises.
    const strongest = first.map((n) => ({ n, c: everyone.find((x) => x.id === n.contact!.id)! })).sort((a, b) => b.c.relationshipStrength - a.c.relationshipStrength)[0]!;
    const acted = await api.notifications.act.mutate({ id: strongest.n.id, actionId: 'compose' });
    const draftId = (acted.result as { draftId: string }).draftId;
    const draft = ((await api.crm.drafts.list.query({} as never)) as unknown as { items: { id: string; toAddrs: string[]; body: string }[] }).items.find((d) => d.id === draftId)!;
    expect(draft.toAddrs).toEqual([strongest.c.email]);
    expect(draft.body).toBe(strongest.n.actions.find((a) => a.kind === 'compose-email')!.draft!.body);
    const engagement = await api.notifications.engagement.query({});
    expect(engagement).toMatchObject({ shown: 5, acted: 1 });
    expect(engagement.actedRate).toBeCloseTo(0.2);
    // Tuesday the person sends it: that contact is no longer dormant.
    await setClock(rt.url, MONDAYS[0]! + DAY);
    await api.crm.drafts.send.mutate({ id: draftId });

    // The next three Mondays: each raises exactly the top 5 of the contacts still dormant then
    // (the one written to drops out; others cross the 30-day line), one activation per Monday.
    for (const [w, monday] of MONDAYS.slice(1).entries()) {
      await setClock(rt.url, monday);
      await afterActivation(api, docId, 3 + w);
      everyone = await allContacts(api);
      const raised = raisedSince(await suggestions(api), monday);
      expect(raised).toEqual(expectedAt(everyone, monday));
      expect(raised).not.toContain(`Reconnect with ${strongest.c.name}`);
    }
    expect((await api.runs.list.query({ docId })).items).toHaveLength(1);
    expect(await api.notifications.engagement.query({})).toMatchObject({ shown: 20, acted: 1 });
  }, 300_000);
});

describe.runIf(backendsUnderTest().includes('postgres'))('two processes on one PostgreSQL database', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('each Monday tick fires once per user, not once per process', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(SUNDAY_NOON) };
    const a: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => a.kill('SIGTERM'));
    const users = [client(a.url, TOKEN), client(a.url, OTHER_TOKEN)];
    for (const c of contacts.slice(0, 12)) await users[1]!.crm.contacts.create.mutate(c as never);
    const docIds = [];
    for (const api of users) docIds.push(await installDormant(api));
    const b: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => b.kill('SIGTERM'));

    const db = new pg.Client({ connectionString: storage.env.DATABASE_URL });
    await db.connect();
    cleanup.push(() => db.end());
    /** Activations stored per user (a second one for the same tick would be a second command, applied or not). */
    const activationsPerUser = async () => (await db.query<{ n: string }>(
      `select count(*) as n from run_commands c join runs r on r.id = c.run_id where c.payload->>'type' = 'behavior.activate' group by r.user_id order by r.user_id`)).rows.map((r) => Number(r.n));

    for (const [w, monday] of MONDAYS.slice(0, 2).entries()) {
      // Both processes see the clock reach Monday 09:00 at the same moment; each tries the tick
      // (the clock hook answers once the ticks its move passed are claimed).
      await Promise.all([setClock(a.url, monday), setClock(b.url, monday)]);
      expect(await activationsPerUser()).toEqual([w + 1, w + 1]);
      for (const [u, api] of users.entries()) {
        await afterActivation(api, docIds[u]!, w + 1);
        const raised = raisedSince(await suggestions(api), monday);
        expect(raised).toEqual(expectedAt(await allContacts(api), monday));
        expect(new Set(raised).size).toBe(raised.length);
      }
    }
    // One machine per user's behavior, whichever process started it.
    for (const [u, api] of users.entries()) expect((await api.runs.list.query({ docId: docIds[u]! })).items).toHaveLength(1);
  }, 300_000);
});
