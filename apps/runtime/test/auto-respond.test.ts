import { beforeAll, describe, expect, it } from 'vitest';
import { AFTER_HOURS, BUSINESS_HOURS, backendsUnderTest, loadTemplate, setClock, useRuntime, waitForRun, type Client } from './host-support';

const email = (from: string, extra: Record<string, unknown> = {}) => ({
  type: 'email.received' as const,
  payload: { from, to: ['me@example.test'], subject: 'Renewal terms', body: 'Can we talk about the renewal?', isImportant: true, isUnread: true, ...extra },
});

describe.each(backendsUnderTest())('auto-respond template end to end (%s)', (backend) => {
  const t = useRuntime(backend);
  beforeAll(async () => {
    const tpl = await loadTemplate('auto-respond-important');
    await t.api.flows.save.mutate({ document: tpl.documents[0] as never });
    await t.api.flows.deploy.mutate({ docId: 'auto-respond-important' });
    await t.api.crm.contacts.create.mutate({ name: 'Dana Whitfield', email: 'dana@northwind.test', company: 'Northwind' } as never);
  });

  const counts = async (c: Client) => {
    const [drafts, tasks, notifications] = await Promise.all([c.crm.drafts.list.query({} as never), c.crm.tasks.list.query({} as never), c.crm.notifications.list.query({} as never)]);
    const items = (x: unknown) => ((x as { items?: unknown[] }).items ?? (x as unknown[])) as Record<string, unknown>[];
    return { drafts: items(drafts), tasks: items(tasks), notifications: items(notifications) };
  };

  it('an important unread email from a known contact in business hours: one draft, one task, one notification, journaled', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const before = await counts(t.api);
    const res = await t.api.events.emit.mutate(email('dana@northwind.test'));
    expect(res.runs).toHaveLength(1);
    const run = await waitForRun(t.api, res.runs[0]!.runId, (r) => r.status !== 'running');
    expect(run.status).toBe('completed');
    const after = await counts(t.api);
    const newDrafts = after.drafts.filter((d) => !before.drafts.some((b) => b.id === d.id));
    const newTasks = after.tasks.filter((d) => !before.tasks.some((b) => b.id === d.id));
    const newNotes = after.notifications.filter((d) => !before.notifications.some((b) => b.id === d.id));
    expect(newDrafts).toHaveLength(1);
    expect(String(newDrafts[0]!.subject)).toMatch(/^Re: Renewal terms/);
    expect(newTasks).toHaveLength(1);
    expect(newTasks[0]).toMatchObject({ title: 'Review auto-drafted response', priority: 'high' });
    expect(Date.parse(String(newTasks[0]!.dueAt)) - BUSINESS_HOURS).toBeGreaterThanOrEqual(3_600_000);
    expect(Date.parse(String(newTasks[0]!.dueAt)) - BUSINESS_HOURS).toBeLessThan(3_600_000 + 60_000);
    expect(newNotes).toHaveLength(1);

    const journal = await t.api.runs.journal.query({ runId: run.id });
    const finished = journal.items.flatMap((j) => Object.entries((j.data as { changed?: Record<string, { state: string }> })?.changed ?? {}).filter(([, c]) => c.state === 'succeeded').map(([id]) => id));
    expect(finished).toEqual(['trigger', 'known_contact', 'business_hours', 'draft', 'review_task', 'notify']);
    expect(journal.items.at(-1)!.data).toMatchObject({ status: 'completed' });
  });

  it('outside business hours the run is skipped with its reason, and nothing is written', async () => {
    await setClock(t.rt.url, AFTER_HOURS);
    const before = await counts(t.api);
    const res = await t.api.events.emit.mutate(email('dana@northwind.test', { subject: 'Late one' }));
    const run = await waitForRun(t.api, res.runs[0]!.runId, (r) => r.status !== 'running');
    expect(run.status).toBe('skipped');
    expect(run.reason).toMatch(/Outside business hours/);
    const after = await counts(t.api);
    expect([after.drafts.length, after.tasks.length, after.notifications.length]).toEqual([before.drafts.length, before.tasks.length, before.notifications.length]);
  });

  it('from an unknown sender the run is skipped', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const res = await t.api.events.emit.mutate(email('stranger@nowhere.test'));
    const run = await waitForRun(t.api, res.runs[0]!.runId, (r) => r.status !== 'running');
    expect(run.status).toBe('skipped');
    expect(run.reason).toMatch(/not a known contact/);
  });

  it('an email that does not match the trigger filters starts no run; a duplicate dedupeKey starts nothing new', async () => {
    expect((await t.api.events.emit.mutate(email('dana@northwind.test', { isImportant: false }))).runs).toEqual([]);
    const first = await t.api.events.emit.mutate({ ...email('dana@northwind.test', { subject: 'Once' }), dedupeKey: 'msg-1' });
    const again = await t.api.events.emit.mutate({ ...email('dana@northwind.test', { subject: 'Once' }), dedupeKey: 'msg-1' });
    expect(again.duplicate).toBe(true);
    expect(again.eventId).toBe(first.eventId);
    expect(again.runs.map((r) => r.runId)).toEqual(first.runs.map((r) => r.runId));
  });
});
