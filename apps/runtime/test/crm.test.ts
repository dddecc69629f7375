import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/postgresql';
import { UserEntity } from '../src/entities';
import { backends, rejection, startTestServer, trpcClient, type TestServer } from './support/test-db';

type Api = ReturnType<typeof trpcClient>;

const switchyard = (e: { data?: unknown }) => (e.data as { switchyard?: { code: string; issues: { path: (string | number)[] }[] } } | undefined)?.switchyard;
const iso = (ms: number) => new Date(ms).toISOString();
const DAY = 86_400_000;

describe.each(backends())('crm API over tRPC HTTP (%s)', (kind) => {
  let ts: TestServer;
  let api: Api;
  let other: Api;
  let em: () => EntityManager;
  let ownerId: string;

  beforeAll(async () => {
    ts = await startTestServer(kind);
    api = trpcClient(ts.url, ts.token);
    other = trpcClient(ts.url, ts.otherToken);
    em = () => ts.server.services.db.orm.em.fork();
    ownerId = (await em().findOneOrFail(UserEntity, { name: 'owner' })).id;
  });
  afterAll(async () => {
    await ts?.stop();
  });

  it('answers health without a token, and GET /health and / without tRPC', async () => {
    const h = await trpcClient(ts.url, null).health.query();
    expect(h).toMatchObject({ ok: true, db: kind });
    expect(await (await fetch(`${ts.url}/health`)).json()).toEqual({ ok: true });
    const root = await fetch(`${ts.url}/`, { headers: { accept: 'text/html' } });
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('seeds demo data only into the embedded database, only for the owner', async () => {
    const mine = await api.crm.contacts.list.query({ limit: 200 });
    const theirs = await other.crm.contacts.list.query();
    expect(theirs.items).toEqual([]);
    if (kind === 'postgres') {
      expect(mine.items).toEqual([]);
      return;
    }
    expect(mine.items.length).toBeGreaterThanOrEqual(8);
    const now = Date.now();
    const dormant = mine.items.filter((c) => c.relationshipStrength > 0.5 && c.lastInteractionAt && now - Date.parse(c.lastInteractionAt) > 30 * DAY);
    expect(dormant.length).toBeGreaterThanOrEqual(2);
    const threads = await api.crm.emails.list.query();
    expect(threads.items.some((t) => t.hasImportant && t.unreadCount > 0)).toBe(true);
    const due = await api.crm.followUps.list.query({ dueBefore: iso(now + DAY), status: 'pending' });
    expect(due.items.length).toBeGreaterThanOrEqual(1);
    expect((await api.crm.notifications.list.query()).items.length).toBeGreaterThanOrEqual(1);
  });

  it('creates, reads, updates and lists contacts; addresses are case-insensitive', async () => {
    const c = await api.crm.contacts.create.mutate({ name: 'Nina Simone', email: 'Nina@Example.COM', tags: ['music'] });
    expect(c).toMatchObject({ name: 'Nina Simone', email: 'nina@example.com', relationshipStrength: 0.5, tags: ['music'], lastInteractionAt: null });
    expect(c).not.toHaveProperty('userId');
    expect(await api.crm.contacts.get.query({ id: c.id })).toEqual(c);
    const u = await api.crm.contacts.update.mutate({ id: c.id, relationshipStrength: 0.9, company: 'Blue Note', lastInteractionAt: '2026-01-02T10:00:00Z' });
    expect(u).toMatchObject({ relationshipStrength: 0.9, company: 'Blue Note', name: 'Nina Simone', lastInteractionAt: '2026-01-02T10:00:00.000Z' });
    expect((await api.crm.contacts.list.query({ search: 'blue no' })).items.map((x) => x.id)).toEqual([c.id]);
    expect((await api.crm.contacts.list.query({ tag: 'music' })).items.map((x) => x.id)).toEqual([c.id]);
    const dup = await rejection(api.crm.contacts.create.mutate({ name: 'Other Nina', email: 'NINA@example.com' }));
    expect(dup.data?.code).toBe('CONFLICT');
    expect(switchyard(dup)).toMatchObject({ code: 'CONFLICT', issues: [{ path: ['email'] }] });
  });

  it('pages with cursors and offsets', async () => {
    for (let i = 0; i < 5; i++) await api.crm.contacts.create.mutate({ name: `Pager ${i}`, email: `pager${i}@example.com` });
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await api.crm.contacts.list.query({ search: 'pager', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((c) => c.name));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['Pager 0', 'Pager 1', 'Pager 2', 'Pager 3', 'Pager 4']);
    const byOffset = await api.crm.contacts.list.query({ search: 'pager', limit: 2, offset: 4 });
    expect(byOffset).toMatchObject({ items: [{ name: 'Pager 4' }], nextOffset: null });
    const bad = await rejection(api.crm.contacts.list.query({ cursor: 'garbage' }));
    expect(switchyard(bad)).toMatchObject({ code: 'BAD_INPUT', issues: [{ path: ['cursor'] }] });
  });

  it('rejects bad input with BAD_REQUEST, zod paths, and stores nothing', async () => {
    const before = (await api.crm.contacts.list.query({ limit: 200 })).items.length;
    const e = await rejection(api.crm.contacts.create.mutate({ name: 'Bad', email: 'not-an-email', relationshipStrength: 1.5 }));
    expect(e.data?.code).toBe('BAD_REQUEST');
    expect(e.data?.httpStatus).toBe(400);
    const sy = switchyard(e);
    expect(sy?.code).toBe('BAD_INPUT');
    expect(sy?.issues.map((i) => i.path)).toEqual(expect.arrayContaining([['email'], ['relationshipStrength']]));
    const nested = await rejection(api.crm.emails.create.mutate({ from: 'a@example.com', to: ['ok@example.com', 'nope'], subject: 'x' }));
    expect(switchyard(nested)?.issues.map((i) => i.path)).toEqual([['to', 1]]);
    const raw = await fetch(`${ts.url}/trpc/crm.contacts.create`, {
      method: 'POST', headers: { authorization: `Bearer ${ts.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: '' }),
    });
    expect(raw.status).toBe(400);
    const body = (await raw.json()) as { error: { message: string; data: Record<string, unknown> } };
    expect(body.error.data).not.toHaveProperty('stack');
    expect((await api.crm.contacts.list.query({ limit: 200 })).items.length).toBe(before);
  });

  it("hides another user's rows: NOT_FOUND on get/update, absent from lists, unchanged", async () => {
    const c = await api.crm.contacts.create.mutate({ name: 'Private Person', email: 'private@example.com' });
    const get = await rejection(other.crm.contacts.get.query({ id: c.id }));
    expect(get.data?.code).toBe('NOT_FOUND');
    expect(switchyard(get)?.code).toBe('NOT_FOUND');
    expect((await rejection(other.crm.contacts.update.mutate({ id: c.id, name: 'Hijacked' }))).data?.code).toBe('NOT_FOUND');
    expect((await other.crm.contacts.list.query({ search: 'private' })).items).toEqual([]);
    expect((await api.crm.contacts.get.query({ id: c.id })).name).toBe('Private Person');
    // The same address is free for the other user: uniqueness is per user.
    await other.crm.contacts.create.mutate({ name: 'Their Private Person', email: 'private@example.com' });
    const task = await rejection(other.crm.tasks.create.mutate({ title: 'Spy', contactId: c.id }));
    expect(switchyard(task)).toMatchObject({ code: 'NOT_FOUND', issues: [{ path: ['contactId'] }] });
  });

  it('threads emails: starts a thread, links the contact, appends replies', async () => {
    const c = await api.crm.contacts.create.mutate({ name: 'Mail Person', email: 'mail@example.com' });
    const at = '2026-02-01T09:00:00.000Z';
    const first = await api.crm.emails.create.mutate({ from: 'MAIL@example.com', to: ['me@example.com'], subject: 'Hello', body: 'Hi!', isImportant: true, at });
    expect(first.thread).toMatchObject({ subject: 'Hello', contactId: c.id, messageCount: 1, unreadCount: 1, hasImportant: true });
    expect(first.email).toMatchObject({ direction: 'inbound', fromAddr: 'mail@example.com', isUnread: true });
    const reply = await api.crm.emails.create.mutate({ threadId: first.thread.id, direction: 'outbound', from: 'me@example.com', to: ['mail@example.com'], subject: 'Re: Hello', at: '2026-02-01T10:00:00.000Z' });
    expect(reply.thread).toMatchObject({ id: first.thread.id, messageCount: 2, unreadCount: 1, lastMessageAt: '2026-02-01T10:00:00.000Z' });
    const full = await api.crm.emails.get.query({ id: first.thread.id });
    expect(full.messages.map((m) => m.subject)).toEqual(['Hello', 'Re: Hello']);
    expect((await api.crm.contacts.get.query({ id: c.id })).lastInteractionAt).toBe('2026-02-01T10:00:00.000Z');
    expect((await api.crm.emails.list.query({ contactId: c.id })).items.map((t) => t.id)).toEqual([first.thread.id]);
    expect((await rejection(other.crm.emails.get.query({ id: first.thread.id }))).data?.code).toBe('NOT_FOUND');
  });

  it('tasks and follow-ups: create, complete, snooze', async () => {
    const c = await api.crm.contacts.create.mutate({ name: 'Task Person', email: 'task@example.com' });
    const t = await api.crm.tasks.create.mutate({ title: 'Call back', priority: 'high', contactId: c.id, dueAt: '2026-03-01T12:00:00Z' });
    expect(t).toMatchObject({ status: 'open', priority: 'high', completedAt: null, dueAt: '2026-03-01T12:00:00.000Z' });
    const done = await api.crm.tasks.update.mutate({ id: t.id, status: 'completed' });
    expect(done.completedAt).not.toBeNull();
    expect((await api.crm.tasks.list.query({ status: 'completed', contactId: c.id })).items.map((x) => x.id)).toEqual([t.id]);
    expect(switchyard(await rejection(api.crm.tasks.create.mutate({ title: 'x', priority: 'urgent' as never })))?.issues[0]?.path).toEqual(['priority']);

    const f = await api.crm.followUps.create.mutate({ contactId: c.id, dueAt: iso(Date.now() + DAY), note: 'ping' });
    expect(f).toMatchObject({ status: 'pending', note: 'ping' });
    expect(switchyard(await rejection(api.crm.followUps.update.mutate({ id: f.id, status: 'snoozed' })))?.issues[0]?.path).toEqual(['snoozedUntil']);
    const snoozed = await api.crm.followUps.update.mutate({ id: f.id, status: 'snoozed', snoozedUntil: iso(Date.now() + 2 * DAY) });
    expect(snoozed.status).toBe('snoozed');
    expect((await api.crm.followUps.get.query({ id: f.id })).snoozedUntil).toBe(snoozed.snoozedUntil);
    expect((await rejection(other.crm.followUps.get.query({ id: f.id }))).data?.code).toBe('NOT_FOUND');
  });

  it('notifications: act, mark read, snooze, dismiss', async () => {
    const n = await ts.server.services.crm.createNotification(em(), ownerId, {
      type: 'test', title: 'Approve the reply?', body: 'b', priority: 'high', sourceRunId: null,
      actions: [{ id: 'approve', label: 'Approve', action: 'run.approve' }, { id: 'reject', label: 'Reject', action: 'run.reject' }],
    });
    expect((await api.crm.notifications.list.query({ unreadOnly: true })).items.map((x) => x.id)).toContain(n.id);
    expect(switchyard(await rejection(api.crm.notifications.act.mutate({ id: n.id, actionId: 'nope' })))).toMatchObject({ code: 'BAD_INPUT', issues: [{ path: ['actionId'] }] });
    const acted = await api.crm.notifications.act.mutate({ id: n.id, actionId: 'approve' });
    expect(acted.action).toMatchObject({ id: 'approve', action: 'run.approve' });
    expect(acted.notification).toMatchObject({ actedAction: 'approve' });
    expect(acted.notification.readAt).not.toBeNull();
    expect((await api.crm.notifications.act.mutate({ id: n.id, actionId: 'approve' })).notification.actedAt).toBe(acted.notification.actedAt);
    const conflict = await rejection(api.crm.notifications.act.mutate({ id: n.id, actionId: 'reject' }));
    expect(conflict.data?.code).toBe('PRECONDITION_FAILED');
    expect(switchyard(conflict)?.code).toBe('INVALID_STATE');
    expect((await rejection(other.crm.notifications.markRead.mutate({ id: n.id }))).data?.code).toBe('NOT_FOUND');

    expect(switchyard(await rejection(api.crm.notifications.snooze.mutate({ id: n.id, until: iso(Date.now() - DAY) })))?.code).toBe('BAD_INPUT');
    await api.crm.notifications.snooze.mutate({ id: n.id, until: iso(Date.now() + DAY) });
    expect((await api.crm.notifications.list.query()).items.map((x) => x.id)).not.toContain(n.id);
    expect((await api.crm.notifications.list.query({ includeHidden: true })).items.map((x) => x.id)).toContain(n.id);
    const dismissed = await api.crm.notifications.dismiss.mutate({ id: n.id });
    expect(dismissed.dismissedAt).not.toBeNull();
    expect((await api.crm.notifications.get.query({ id: n.id })).dismissedAt).toBe(dismissed.dismissedAt);
  });

  it('drafts: edit while a draft, then frozen once sent', async () => {
    const d = await api.crm.drafts.create.mutate({ to: ['someone@example.com'], subject: 'Draft', body: 'v1' });
    expect(d).toMatchObject({ status: 'draft', toAddrs: ['someone@example.com'] });
    const v2 = await api.crm.drafts.update.mutate({ id: d.id, body: 'v2' });
    expect(v2.body).toBe('v2');
    await api.crm.drafts.update.mutate({ id: d.id, status: 'sent' });
    const frozen = await rejection(api.crm.drafts.update.mutate({ id: d.id, body: 'v3' }));
    expect(switchyard(frozen)?.code).toBe('INVALID_STATE');
    expect((await api.crm.drafts.get.query({ id: d.id })).body).toBe('v2');
    expect((await api.crm.drafts.list.query({ status: 'sent' })).items.map((x) => x.id)).toContain(d.id);
    expect((await rejection(other.crm.drafts.get.query({ id: d.id }))).data?.code).toBe('NOT_FOUND');
  });

  it('finds contacts by email case-insensitively, scoped to the user (service level)', async () => {
    const crm = ts.server.services.crm;
    const c = await api.crm.contacts.create.mutate({ name: 'Case Person', email: 'case@example.com' });
    expect((await crm.findContactByEmail(em(), ownerId, '  CASE@Example.com '))?.id).toBe(c.id);
    const otherId = (await em().findOneOrFail(UserEntity, { name: 'other' })).id;
    expect(await crm.findContactByEmail(em(), otherId, 'case@example.com')).toBeNull();
  });
});

describe('unexpected errors', () => {
  it('reach the client as INTERNAL with a generic message and are logged server-side', async () => {
    const lines: string[] = [];
    const ts = await startTestServer('pglite', {}, {
      logger: { level: 'error', stream: { write: (l: string) => lines.push(l) } },
      services: async (base) => ({
        crm: Object.assign(Object.create(base.crm) as typeof base.crm, { listContacts: () => Promise.reject(new Error('secret connection string postgres://u:p@h')) }),
      }),
    });
    try {
      const res = await fetch(`${ts.url}/trpc/crm.contacts.list`, { headers: { authorization: `Bearer ${ts.token}` } });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).not.toContain('secret');
      expect(JSON.parse(text)).toMatchObject({ error: { message: 'Internal server error', data: { code: 'INTERNAL_SERVER_ERROR', switchyard: { code: 'INTERNAL', issues: [] } } } });
      expect(lines.join('\n')).toContain('secret connection string');
    } finally {
      await ts.stop();
    }
  });
});
