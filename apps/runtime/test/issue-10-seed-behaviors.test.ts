import { afterAll, describe, expect, it } from 'vitest';
import { OTHER_TOKEN, backendsUnderTest, client, freshStorage, spawnRuntime, waitForRun, type Backend } from './host-support';

const DAY = 86_400_000;
/** Monday 2026-01-12 09:00 UTC. */
const MONDAY = Date.UTC(2026, 0, 12, 9, 0);

describe.each(backendsUnderTest())("the seed's dormant-contact behavior, installed from the gallery (%s)", (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('one suggestion per top-5 dormant contact with a prepared email; a second sign-in raises nothing new; Compose creates the draft and counts as engagement', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(MONDAY) });
    cleanup.push(() => rt.kill('SIGTERM'));
    // A user of their own (no demo data): six strong and quiet contacts, one recent, one weak.
    const api = client(rt.url, OTHER_TOKEN);
    const quiet = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7].map((s, i) => ({ name: `Quiet ${i + 1}`, email: `quiet${i + 1}@old.test`, relationshipStrength: s, lastInteractionAt: new Date(MONDAY - (40 + i) * DAY).toISOString() }));
    const others = [
      { name: 'Recent Rita', email: 'rita@new.test', relationshipStrength: 0.99, lastInteractionAt: new Date(MONDAY - 3 * DAY).toISOString() },
      { name: 'Weak Walt', email: 'walt@old.test', relationshipStrength: 0.3, lastInteractionAt: new Date(MONDAY - 90 * DAY).toISOString() },
    ];
    for (const c of [...quiet, ...others]) await api.crm.contacts.create.mutate(c as never);
    const t = await api.templates.get.query({ id: 'dormant-contact-reactivation' });
    const { install } = await api.templates.install.mutate({ id: 'dormant-contact-reactivation', variables: { days: 30, timezone: 'UTC' }, acceptPermissions: t.permissions, deploy: true });
    const docId = install.flows[0]!.docId;

    const listed = async () => (await api.notifications.list.query({ view: 'all', limit: 100 } as never)).items.filter((n) => n.type === 'reactivation-suggestion');
    const first = await api.events.emit.mutate({ type: 'user.login', payload: { at: new Date(MONDAY + 60_000).toISOString() } });
    const runId = first.runs[0]!.runId;
    await waitForRun(api, runId, (r) => r.nodes.suggest?.state === 'succeeded' || r.status === 'failed');
    const raised = await listed();
    expect(raised.map((n) => n.title).sort()).toEqual(['Reconnect with Quiet 1', 'Reconnect with Quiet 2', 'Reconnect with Quiet 3', 'Reconnect with Quiet 4', 'Reconnect with Quiet 5']);

    // The same morning, another sign-in: the behavior activates, finds the same five, raises nothing new.
    await api.events.emit.mutate({ type: 'user.login', payload: { at: new Date(MONDAY + 30 * 60_000).toISOString() } });
    await expect.poll(async () => {
      const journal = await api.runs.journal.query({ runId });
      return journal.items.filter((j) => j.eventType === 'behavior.activate').length;
    }, { timeout: 20_000 }).toBe(2);
    await waitForRun(api, runId, (r) => r.status === 'waiting' && r.nodes.suggest?.state === 'succeeded');
    expect(await listed()).toHaveLength(5);
    expect((await api.runs.list.query({ docId })).items).toHaveLength(1);

    // Compose on the strongest: its prepared email becomes a draft to the contact; engagement counts it.
    const top = raised.find((n) => n.title === 'Reconnect with Quiet 1')!;
    const acted = await api.notifications.act.mutate({ id: top.id, actionId: 'compose' });
    const draftId = (acted.result as { draftId?: string } | null)?.draftId;
    expect(draftId).toEqual(expect.any(String));
    const drafts = (await api.crm.drafts.list.query({} as never)) as unknown as { items: { id: string; toAddrs: string[]; subject: string; body: string }[] };
    const draft = drafts.items.find((d) => d.id === draftId)!;
    expect(draft.toAddrs).toEqual(['quiet1@old.test']);
    expect(draft.body).toContain('Hi Quiet,');
    const engagement = await api.notifications.engagement.query({});
    expect(engagement).toMatchObject({ shown: 5, acted: 1 });
  }, 180_000);
});
