import { afterAll, describe, expect, it } from 'vitest';
import { OTHER_TOKEN, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, waitForRun, type Backend, type Client, type RuntimeProcess } from './host-support';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** Wednesday 2026-01-07 10:00 UTC: a slot of the template's "0 *\/2 * * *". */
const T0 = Date.UTC(2026, 0, 7, 10, 0);
const iso = (ms: number) => new Date(ms).toISOString();

type Note = { id: string; type: string; title: string; state: string; snoozedUntil: string | null; returnedAt: string | null };
const reminders = async (api: Client) => ((await api.notifications.list.query({ view: 'all', limit: 100 } as never)) as unknown as { items: Note[] }).items
  .filter((n) => n.type === 'follow-up-due');

/** The behavior's one run once its n-th activation is over. */
async function afterActivation(api: Client, docId: string, n: number) {
  await expect.poll(async () => (await api.runs.list.query({ docId })).items.length, { timeout: 30_000 }).toBe(1);
  const runId = (await api.runs.list.query({ docId })).items[0]!.id;
  const run = await waitForRun(api, runId, (r) => r.status === 'failed' || (r.behavior?.idle === true && (r.behavior.lastActivation as { n?: number } | null)?.n === n), 60_000);
  expect(run.behavior?.lastActivation, JSON.stringify(run.behavior?.lastActivation)).toMatchObject({ n, status: 'completed' });
  return run;
}

describe.each(backendsUnderTest())("the seed's follow-up reminders, installed from the gallery (%s)", (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('due, completed, answered and later follow-ups are told apart; Snooze 1 h survives a SIGKILL and returns at its time; Mark complete completes it and no reminder follows', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(T0 - 10 * MIN) };
    let rt: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGKILL'));
    let api = client(rt.url, OTHER_TOKEN);

    const people: Record<string, string> = {};
    for (const name of ['Ada', 'Grace', 'Linus', 'Barbara']) {
      people[name] = ((await api.crm.contacts.create.mutate({ name: `${name} Test`, email: `${name.toLowerCase()}@follow.test` } as never)) as unknown as { id: string }).id;
    }
    /** An email I sent (a thread of its own) and a follow-up on it. */
    const followUp = async (name: string, dueAt: number) => {
      const sent = (await api.crm.emails.create.mutate({ direction: 'outbound', from: 'me@follow.test', to: [`${name.toLowerCase()}@follow.test`], subject: `Proposal for ${name}`, body: 'Here it is.', at: iso(T0 - 2 * HOUR) } as never)) as unknown as { thread: { id: string } };
      const f = (await api.crm.followUps.create.mutate({ contactId: people[name]!, threadId: sent.thread.id, dueAt: iso(dueAt), note: `Proposal for ${name}` } as never)) as unknown as { id: string };
      return { threadId: sent.thread.id, id: f.id };
    };
    const ada = await followUp('Ada', T0 + 3 * HOUR); // due within a day, not answered: reminded
    const grace = await followUp('Grace', T0 + 5 * HOUR); // done already
    await api.crm.followUps.update.mutate({ id: grace.id, status: 'completed' } as never);
    const linus = await followUp('Linus', T0 + 2 * HOUR); // answered after the follow-up was made
    await api.crm.emails.create.mutate({ threadId: linus.threadId, direction: 'inbound', from: 'linus@follow.test', to: ['me@follow.test'], subject: 'Re: Proposal for Linus', body: 'Looks good.', at: iso(T0 - 5 * MIN) } as never);
    await followUp('Barbara', T0 + 3 * 24 * HOUR); // not due within 24 hours

    const t = await api.templates.get.query({ id: 'follow-up-reminders' });
    const { install } = await api.templates.install.mutate({ id: 'follow-up-reminders', acceptPermissions: t.permissions, deploy: true });
    const docId = install.flows[0]!.docId;

    // 10:00, the tick: one reminder, for Ada only.
    await setClock(rt.url, T0);
    const first = await afterActivation(api, docId, 1);
    expect((first.nodes.due?.output as { count: number }).count).toBe(2); // Ada and Linus are due and open...
    const raised = await reminders(api);
    expect(raised.map((n) => n.title)).toEqual(['Follow up with Ada Test']); // ...Linus already answered.

    // Snooze 1 hour, then the process is killed and restarted half an hour later.
    const snoozed = await api.notifications.act.mutate({ id: raised[0]!.id, actionId: 'snooze' });
    const until = Date.parse((snoozed.result as { until: string }).until);
    expect(until - T0).toBeGreaterThanOrEqual(HOUR);
    expect(until - T0).toBeLessThan(HOUR + MIN);
    expect(await rt.kill('SIGKILL')).toBe(-1);
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(T0 + 30 * MIN) });
    api = client(rt.url, OTHER_TOKEN);
    expect((await api.notifications.list.query({ view: 'inbox' } as never)).items.map((n) => n.id)).not.toContain(raised[0]!.id);
    await setClock(rt.url, until - MIN);
    expect(await api.notifications.get.query({ id: raised[0]!.id })).toMatchObject({ state: 'snoozed', snoozedUntil: iso(until) });
    // The clock reaches its time: back in the inbox, unread, once.
    await setClock(rt.url, until + 1000);
    const back = await api.notifications.get.query({ id: raised[0]!.id });
    expect(back).toMatchObject({ state: 'unread', returnedAt: expect.any(String) });
    expect((await api.notifications.list.query({ view: 'inbox' } as never)).items.filter((n) => n.id === raised[0]!.id)).toHaveLength(1);

    // Mark complete: the follow-up is done; the 12:00 tick reminds nobody.
    const completed = await api.notifications.act.mutate({ id: raised[0]!.id, actionId: 'complete' });
    expect(completed.result).toMatchObject({ kind: 'complete-follow-up', followUpId: ada.id, alreadyCompleted: false });
    expect(await api.crm.followUps.get.query({ id: ada.id })).toMatchObject({ status: 'completed' });
    await setClock(rt.url, T0 + 2 * HOUR);
    const second = await afterActivation(api, docId, 2);
    expect((second.nodes.due?.output as { count: number }).count).toBe(1); // Linus, answered
    expect((second.nodes.remind?.output as { count: number }).count).toBe(0);
    expect((await reminders(api)).map((n) => n.id)).toEqual([raised[0]!.id]);
  }, 240_000);
});
