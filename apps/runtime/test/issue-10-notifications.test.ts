import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSINESS_HOURS, OTHER_TOKEN, TOKEN, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, switchyardCode, waitForRun,
  type Backend, type Client, type RuntimeProcess,
} from './host-support';
import { sse } from './support/sse';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** A manual flow raising one suggestion with every typed button; the trigger payload fills the templates. */
const suggestFlow = {
  schemaVersion: 1, id: 'suggest', kind: 'workflow', name: 'Suggest a check-in',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    {
      id: 'notify', type: 'action.sendNotification', position: { x: 200, y: 0 },
      params: {
        title: 'Reach out to {{ trigger.name }}', body: 'It has been a while.', priority: 'high', notificationType: 'reactivation',
        contactId: '{{ trigger.contactId }}', suggestionKey: '{{ trigger.key }}', dedupeWindow: '7 days',
        actions: [
          { id: 'compose', label: 'Compose email', kind: 'compose-email', draftSubject: 'Catching up, {{ trigger.name }}', draftBody: 'Hi {{ trigger.name }}, how are you?' },
          { id: 'complete', label: 'Mark complete', kind: 'complete-follow-up', followUpId: '{{ trigger.followUpId }}' },
          { id: 'later', label: 'Snooze', kind: 'snooze', snoozeFor: '1 hour' },
          { id: 'dismiss', label: 'Dismiss', kind: 'dismiss' },
          { id: 'open', label: 'Open contact', kind: 'open-contact' },
        ],
      },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'notify' }],
};

type Api = Client;

async function raise(api: Api, payload: Record<string, unknown>) {
  const { runId } = await api.runs.start.mutate({ docId: 'suggest', payload });
  const run = await waitForRun(api, runId, (r) => r.status === 'completed' || r.status === 'failed');
  expect(run.status).toBe('completed');
  return { runId, output: run.nodes.notify?.output as { notificationId: string; deduped: boolean } };
}

describe.each(backendsUnderTest())('issue 10: smart notifications (%s)', (backend: Backend) => {
  let rt: RuntimeProcess;
  let api: Api;
  let other: Api;
  let storage: Awaited<ReturnType<typeof freshStorage>>;
  let ada: { id: string; email: string };
  let now = BUSINESS_HOURS;

  beforeAll(async () => {
    storage = await freshStorage(backend);
    rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(now) });
    api = client(rt.url);
    other = client(rt.url, OTHER_TOKEN);
    await api.flows.save.mutate({ document: suggestFlow as never });
    await api.flows.deploy.mutate({ docId: 'suggest' });
    ada = await api.crm.contacts.create.mutate({ name: 'Ada Quill', email: 'ada@quill.test' } as never);
  });
  afterAll(async () => {
    await rt?.kill('SIGTERM');
    await storage?.drop();
  });

  it('a run raises a notification with priority, typed buttons, its contact and behavior; the inbox counts it', async () => {
    const { output } = await raise(api, { name: 'Ada', contactId: ada.id, key: 'raise-test' });
    expect(output.deduped).toBe(false);
    const n = await api.notifications.get.query({ id: output.notificationId });
    expect(n).toMatchObject({
      title: 'Reach out to Ada', priority: 'high', state: 'unread', type: 'reactivation', behaviorId: 'suggest', behaviorName: 'Suggest a check-in',
      contact: { id: ada.id, name: 'Ada Quill', email: 'ada@quill.test' }, suggestionKey: 'raise-test',
    });
    expect(n.actions.map((a) => a.kind)).toEqual(['compose-email', 'complete-follow-up', 'snooze', 'dismiss', 'open-contact']);
    // An empty "to" in the prepared draft falls back to the contact's address.
    expect(n.actions[0]).toMatchObject({ draft: { to: ['ada@quill.test'], subject: 'Catching up, Ada', contactId: ada.id } });
    const list = await api.notifications.list.query({});
    expect(list.items.map((i) => i.id)).toContain(n.id);
    expect(list.counts.unread).toBeGreaterThanOrEqual(1);
    expect(await rejection(other.notifications.get.query({ id: n.id }))).toBe('NOT_FOUND');
  });

  it('compose creates the draft from the prepared one and returns it; acting twice, then anything else, is refused with nothing changed', async () => {
    const { output } = await raise(api, { name: 'Ada', contactId: ada.id, key: 'compose-test' });
    const acted = await api.notifications.act.mutate({ id: output.notificationId, actionId: 'compose' });
    expect(acted.result.kind).toBe('compose-email');
    const draftId = (acted.result as { draftId: string }).draftId;
    const draft = await api.crm.drafts.get.query({ id: draftId });
    expect(draft).toMatchObject({ status: 'draft', subject: 'Catching up, Ada', body: 'Hi Ada, how are you?', toAddrs: ['ada@quill.test'], contactId: ada.id });
    expect(acted.notification).toMatchObject({ state: 'acted', actedAction: 'compose' });
    if (backend === 'postgres') {
      // The notification.acted event is in the durable event inbox, already routed by the host.
      const db = new pg.Client({ connectionString: storage.env.DATABASE_URL });
      await db.connect();
      const { rows } = await db.query(`select type, processed_at, payload from inbox where payload->>'notificationId' = $1`, [output.notificationId]);
      await db.end();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ type: 'notification.acted', payload: { action: 'compose-email', actionId: 'compose', contactId: ada.id, behaviorId: 'suggest' } });
      expect(rows[0].processed_at).not.toBeNull();
    }
    const drafts = (await api.crm.drafts.list.query({})).items.length;
    expect(await rejection(api.notifications.act.mutate({ id: output.notificationId, actionId: 'compose' }))).toBe('INVALID_STATE');
    expect(await rejection(api.notifications.dismiss.mutate({ id: output.notificationId }))).toBe('INVALID_STATE');
    expect(await rejection(api.notifications.snooze.mutate({ id: output.notificationId, until: iso(now + DAY) }))).toBe('INVALID_STATE');
    expect((await api.crm.drafts.list.query({})).items.length).toBe(drafts);
    expect(await api.notifications.get.query({ id: output.notificationId })).toEqual(acted.notification);
  });

  it('mark complete completes the follow-up', async () => {
    const fu = await api.crm.followUps.create.mutate({ contactId: ada.id, dueAt: iso(now + 6 * HOUR), note: 'Send the deck' } as never);
    const { output } = await raise(api, { name: 'Ada', contactId: ada.id, key: 'complete-test', followUpId: fu.id });
    const acted = await api.notifications.act.mutate({ id: output.notificationId, actionId: 'complete' });
    expect(acted.result).toEqual({ kind: 'complete-follow-up', followUpId: fu.id, alreadyCompleted: false });
    expect(await api.crm.followUps.get.query({ id: fu.id })).toMatchObject({ status: 'completed' });
  });

  it('bad input: unknown action, snoozing into the past or too far, another user\'s notification: typed errors, nothing changed', async () => {
    const { output } = await raise(api, { name: 'Ada', contactId: ada.id, key: 'bad-input' });
    const id = output.notificationId;
    const before = await api.notifications.get.query({ id });
    expect(await rejection(api.notifications.act.mutate({ id, actionId: 'nope' }))).toBe('BAD_INPUT');
    expect(await rejection(api.notifications.snooze.mutate({ id, until: iso(now - HOUR) }))).toBe('BAD_INPUT');
    expect(await rejection(api.notifications.act.mutate({ id, actionId: 'later', until: iso(now - 1000) }))).toBe('BAD_INPUT');
    expect(await rejection(api.notifications.snooze.mutate({ id, until: iso(now + 400 * DAY) }))).toBe('BAD_INPUT');
    expect(await rejection(api.notifications.snooze.mutate({ id, until: 'tomorrow' }))).toBe('BAD_INPUT');
    expect(await rejection(api.notifications.act.mutate({ id: 'not-a-uuid', actionId: 'compose' }))).toBe('BAD_INPUT');
    // A follow-up button whose follow-up does not exist: NOT_FOUND, the notification untouched.
    expect(await rejection(api.notifications.act.mutate({ id, actionId: 'complete' }))).toBe('NOT_FOUND');
    // One call at a time: a rejection made before its turn to be awaited would be unhandled.
    for (const call of [
      () => other.notifications.act.mutate({ id, actionId: 'compose' }), () => other.notifications.dismiss.mutate({ id }),
      () => other.notifications.snooze.mutate({ id, until: iso(now + HOUR) }),
    ]) expect(await rejection(call())).toBe('NOT_FOUND');
    expect((await other.notifications.list.query({ view: 'all' })).items.map((i) => i.id)).not.toContain(id);
    expect(await api.notifications.get.query({ id })).toEqual(before);
  });

  it('snooze hides it; it comes back unread when the clock reaches the time; dismiss removes it; open contact only marks it read', async () => {
    const { output } = await raise(api, { name: 'Ada', contactId: ada.id, key: 'snooze-test' });
    const id = output.notificationId;
    const snoozed = await api.notifications.act.mutate({ id, actionId: 'later' });
    // The runtime clock runs on from the time the test set: "1 hour" is an hour from the press.
    const until = Date.parse((snoozed.result as { until: string }).until);
    expect(until - now).toBeGreaterThanOrEqual(HOUR);
    expect(until - now).toBeLessThan(HOUR + 5 * 60_000);
    expect(snoozed.notification).toMatchObject({ state: 'snoozed', snoozedUntil: iso(until) });
    expect((await api.notifications.list.query({})).items.map((i) => i.id)).not.toContain(id);
    expect((await api.notifications.list.query({ view: 'snoozed' })).items.map((i) => i.id)).toContain(id);
    now = until + 1000;
    await setClock(rt.url, now);
    const back = await api.notifications.list.query({});
    expect(back.items[0]?.id).toBe(id); // a returned notification sorts as new
    expect(back.items[0]).toMatchObject({ state: 'unread' });
    expect(Date.parse(back.items[0]!.returnedAt!)).toBeGreaterThanOrEqual(now);
    const opened = await api.notifications.act.mutate({ id, actionId: 'open' });
    expect(opened.result).toEqual({ kind: 'open-contact', contactId: ada.id });
    expect(opened.notification.state).toBe('read');
    expect((await api.notifications.act.mutate({ id, actionId: 'open' })).notification.state).toBe('read');
    const dismissed = await api.notifications.dismiss.mutate({ id });
    expect(dismissed.notification.state).toBe('dismissed');
    expect((await api.notifications.list.query({})).items.map((i) => i.id)).not.toContain(id);
    expect((await api.notifications.list.query({ view: 'done' })).items.map((i) => i.id)).toContain(id);
  });

  it('dedupe: the same suggestion for the same contact is not raised again within the window; another contact, or after the window, is', async () => {
    const grace = await api.crm.contacts.create.mutate({ name: 'Grace', email: 'grace@dedupe.test' } as never);
    const first = await raise(api, { name: 'Ada', contactId: ada.id, key: 'reactivate' });
    const again = await raise(api, { name: 'Ada', contactId: ada.id, key: 'reactivate' });
    expect(again.output).toMatchObject({ notificationId: first.output.notificationId, deduped: true });
    // Dismissed inside the window still counts: the person said no.
    await api.notifications.dismiss.mutate({ id: first.output.notificationId });
    expect((await raise(api, { name: 'Ada', contactId: ada.id, key: 'reactivate' })).output.deduped).toBe(true);
    const forGrace = await raise(api, { name: 'Grace', contactId: grace.id, key: 'reactivate' });
    expect(forGrace.output.deduped).toBe(false);
    now += 7 * DAY + HOUR;
    await setClock(rt.url, now);
    const later = await raise(api, { name: 'Ada', contactId: ada.id, key: 'reactivate' });
    expect(later.output.deduped).toBe(false);
    expect(later.output.notificationId).not.toBe(first.output.notificationId);
  });

  it('engagement: shown vs acted per behavior and per action', async () => {
    const e = await api.notifications.engagement.query({});
    const suggest = e.byBehavior.find((b) => b.behaviorId === 'suggest')!;
    // Raised so far: raise, compose, complete, bad-input, snooze, reactivate(Ada), reactivate(Grace), reactivate(Ada, later).
    expect(suggest).toMatchObject({ behaviorName: 'Suggest a check-in', shown: 8, acted: 2, opened: 1 });
    expect(suggest.actedRate).toBeCloseTo(2 / 8);
    const kinds = Object.fromEntries(e.byAction.map((a) => [`${a.kind}:${a.actionId ?? ''}`, a.count]));
    expect(kinds).toMatchObject({ 'compose-email:compose': 1, 'complete-follow-up:complete': 1, 'snooze:later': 1, 'open-contact:open': 2, 'dismiss:': 2 });
  });

  it('watch streams the unread count live and other users see nothing of it', async () => {
    const ac = new AbortController();
    const input = encodeURIComponent(JSON.stringify({}));
    const stream = sse(`${rt.url}/trpc/notifications.watch?input=${input}`, TOKEN, ac.signal);
    const counts: number[] = [];
    const next = async () => {
      for (;;) {
        const { value } = await stream.next();
        const data = (value as { data?: { unread?: number } } | undefined)?.data;
        if (data && typeof data.unread === 'number') return data.unread;
      }
    };
    counts.push(await next());
    const { output } = await raise(api, { name: 'Ada', contactId: ada.id, key: 'watch-test' });
    counts.push(await next());
    expect(counts[1]).toBe(counts[0]! + 1);
    await api.notifications.dismiss.mutate({ id: output.notificationId });
    expect(await next()).toBe(counts[0]);
    ac.abort();
    expect((await other.notifications.counts.query()).unread).toBe(0);
  });
});

describe.each(backendsUnderTest())('issue 10: a snooze survives SIGKILL (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('snoozed for 1 h, killed, restarted half an hour later: still hidden; the clock moves past the hour: back, once', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    let rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) });
    let api = client(rt.url);
    await api.flows.save.mutate({ document: suggestFlow as never });
    await api.flows.deploy.mutate({ docId: 'suggest' });
    const { output } = await raise(api, { name: 'Ada', key: 'crash' });
    await api.notifications.act.mutate({ id: output.notificationId, actionId: 'later', until: iso(BUSINESS_HOURS + HOUR) });
    expect(await rt.kill('SIGKILL')).toBe(-1);

    rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 30 * 60_000) });
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    expect(await api.notifications.get.query({ id: output.notificationId })).toMatchObject({ state: 'snoozed', snoozedUntil: iso(BUSINESS_HOURS + HOUR) });
    expect((await api.notifications.list.query({})).items.map((i) => i.id)).not.toContain(output.notificationId);
    await setClock(rt.url, BUSINESS_HOURS + 2 * HOUR);
    const inbox = await api.notifications.list.query({});
    expect(inbox.items.filter((i) => i.id === output.notificationId)).toHaveLength(1);
    const back = inbox.items.find((i) => i.id === output.notificationId)!;
    expect(back.state).toBe('unread');
    expect(Date.parse(back.returnedAt!)).toBeGreaterThanOrEqual(BUSINESS_HOURS + 2 * HOUR);
    const e = await api.notifications.engagement.query({});
    expect(e.byBehavior.find((b) => b.behaviorId === 'suggest')).toMatchObject({ shown: 1, snoozed: 1 });
  }, 240_000); // two runtime starts: PGlite boots slowly on a busy machine
});

async function rejection(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return switchyardCode(e);
  }
  throw new Error('expected a rejection');
}
