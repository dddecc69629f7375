import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, OTHER_TOKEN, backendsUnderTest, switchyardCode, client, freshStorage, spawnRuntime, waitForRun, type Backend, type Client, type RuntimeProcess } from './host-support';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const NOW = BUSINESS_HOURS;

const flowOf = (id: string, node: Record<string, unknown>, extra: Record<string, unknown>[] = [], edges: Record<string, unknown>[] = []) => ({
  schemaVersion: 1, id, kind: 'workflow', name: id,
  nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} }, { id: 'q', position: { x: 200, y: 0 }, ...node }, ...extra],
  edges: [{ id: 'e1', source: 'start', target: 'q' }, ...edges],
});

async function runOnce(api: Client, doc: { id: string }, payload: Record<string, unknown> = {}) {
  await api.flows.save.mutate({ document: doc as never });
  await api.flows.deploy.mutate({ docId: doc.id });
  const { runId } = await api.runs.start.mutate({ docId: doc.id, payload });
  return waitForRun(api, runId, (r) => ['completed', 'failed', 'skipped'].includes(r.status));
}

describe.each(backendsUnderTest())('issue 10: CRM query nodes (%s)', (backend: Backend) => {
  let rt: RuntimeProcess;
  let api: Client;
  let storage: Awaited<ReturnType<typeof freshStorage>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    storage = await freshStorage(backend);
    rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(NOW) });
    // The second user: no demo data, so the contacts below are all there is.
    api = client(rt.url, OTHER_TOKEN);
    // 12 contacts, days since the last interaction and strength spread out; c0..c11.
    for (let i = 0; i < 12; i++) {
      const c = await api.crm.contacts.create.mutate({
        name: `Contact ${String(i).padStart(2, '0')}`, email: `c${i}@crm.test`, relationshipStrength: Math.round((0.3 + i * 0.06) * 100) / 100,
        lastInteractionAt: i % 4 === 3 ? null : iso(NOW - (10 + i * 5) * DAY), tags: i % 2 ? ['odd'] : [],
      } as never);
      ids[`c${i}`] = c.id;
    }
  });
  afterAll(async () => {
    await rt?.kill('SIGTERM');
    await storage?.drop();
  });

  it('find contacts: no interaction for more than N days, strength above x, top N by strength', async () => {
    const run = await runOnce(api, flowOf('dormant', { type: 'crm.findContacts', params: { dormantDays: 30, minStrength: 0.5, limit: 5 } }));
    expect(run.status).toBe('completed');
    const out = run.nodes.q?.output as { contacts: { id: string; email: string; relationshipStrength: number; daysSinceInteraction: number | null }[]; count: number };
    // Dormant > 30 days: i >= 5 (35+ days) or never (i = 3, 7, 11); strength > 0.5: i >= 4.
    const expected = [11, 10, 9, 8, 7].map((i) => `c${i}@crm.test`);
    expect(out.contacts.map((c) => c.email)).toEqual(expected);
    expect(out.count).toBe(5);
    expect(out.contacts.find((c) => c.email === 'c10@crm.test')?.daysSinceInteraction).toBe(60);
    expect(out.contacts.find((c) => c.email === 'c11@crm.test')?.daysSinceInteraction).toBeNull();
    const byName = await runOnce(api, flowOf('by-tag', { type: 'crm.findContacts', params: { tag: 'odd', orderBy: 'name', order: 'asc', limit: 3 } }));
    expect((byName.nodes.q?.output as { contacts: { email: string }[] }).contacts.map((c) => c.email)).toEqual(['c1@crm.test', 'c3@crm.test', 'c5@crm.test']);
  });

  it('find follow-ups: due within N hours and not completed, with contact and original email; snoozed ones wait', async () => {
    const { thread } = await api.crm.emails.create.mutate({ direction: 'outbound', from: 'me@crm.test', to: ['c1@crm.test'], subject: 'Proposal', body: 'Here it is', at: iso(NOW - 3 * DAY) } as never);
    const due = await api.crm.followUps.create.mutate({ contactId: ids.c1!, threadId: thread.id, dueAt: iso(NOW + 6 * HOUR), note: 'Chase the proposal' } as never);
    const overdue = await api.crm.followUps.create.mutate({ contactId: ids.c2!, dueAt: iso(NOW - HOUR), note: 'Overdue' } as never);
    await api.crm.followUps.create.mutate({ contactId: ids.c3!, dueAt: iso(NOW + 3 * DAY), note: 'Later' } as never);
    const done = await api.crm.followUps.create.mutate({ contactId: ids.c4!, dueAt: iso(NOW + HOUR), note: 'Done' } as never);
    await api.crm.followUps.update.mutate({ id: done.id, status: 'completed' } as never);
    const snoozed = await api.crm.followUps.create.mutate({ contactId: ids.c5!, dueAt: iso(NOW + HOUR), note: 'Snoozed' } as never);
    await api.crm.followUps.update.mutate({ id: snoozed.id, status: 'snoozed', snoozedUntil: iso(NOW + 12 * HOUR) } as never);

    const run = await runOnce(api, flowOf('followups', { type: 'crm.findFollowUps', params: { dueWithinHours: 24 } }));
    const out = run.nodes.q?.output as { followUps: { id: string; contact: { email: string }; originalEmail: { subject: string; direction: string } | null }[] };
    expect(out.followUps.map((f) => f.id)).toEqual([overdue.id, due.id]);
    expect(out.followUps[1]).toMatchObject({ contact: { email: 'c1@crm.test' }, originalEmail: { subject: 'Proposal', direction: 'outbound' } });
    expect(out.followUps[0]?.originalEmail).toBeNull();
    const withSnoozed = await runOnce(api, flowOf('followups-all', { type: 'crm.findFollowUps', params: { dueWithinHours: 24, includeSnoozed: true } }));
    expect((withSnoozed.nodes.q?.output as { followUps: { id: string }[] }).followUps.map((f) => f.id)).toContain(snoozed.id);
  });

  it('has recent email: branches yes on an answer in the thread, no otherwise', async () => {
    const { thread } = await api.crm.emails.create.mutate({ direction: 'outbound', from: 'me@crm.test', to: ['c6@crm.test'], subject: 'Checking in', at: iso(NOW - 5 * DAY) } as never);
    const doc = flowOf('recent', { type: 'crm.hasRecentEmail', params: { threadId: '{{ trigger.threadId }}', withinHours: 72, direction: 'inbound' } }, [
      { id: 'yes', type: 'action.createTask', position: { x: 400, y: -50 }, params: { title: 'answered' } },
      { id: 'no', type: 'action.createTask', position: { x: 400, y: 50 }, params: { title: 'not answered' } },
    ], [{ id: 'e2', source: 'q', sourceHandle: 'yes', target: 'yes' }, { id: 'e3', source: 'q', sourceHandle: 'no', target: 'no' }]);
    const before = await runOnce(api, doc, { threadId: thread.id });
    expect(before.nodes.q?.output).toMatchObject({ hasRecent: false, count: 0 });
    expect(before.nodes.no?.state).toBe('succeeded');
    expect(before.nodes.yes?.state).not.toBe('succeeded');
    await api.crm.emails.create.mutate({ threadId: thread.id, direction: 'inbound', from: 'c6@crm.test', to: ['me@crm.test'], subject: 'Re: Checking in', at: iso(NOW - DAY) } as never);
    const { runId } = await api.runs.start.mutate({ docId: 'recent', payload: { threadId: thread.id } });
    const after = await waitForRun(api, runId, (r) => ['completed', 'failed'].includes(r.status));
    expect(after.nodes.q?.output).toMatchObject({ hasRecent: true, count: 1, lastEmailAt: iso(NOW - DAY) });
    expect(after.nodes.yes?.state).toBe('succeeded');
    // Not an id: the "no" branch, not an error.
    const { runId: bad } = await api.runs.start.mutate({ docId: 'recent', payload: { threadId: 'nope' } });
    const badRun = await waitForRun(api, bad, (r) => ['completed', 'failed'].includes(r.status));
    expect(badRun.status).toBe('completed');
    expect(badRun.nodes.q?.output).toMatchObject({ hasRecent: false });
  });

  it('contact page: threads with messages, drafts, follow-ups of the contact; drafts.send sends once, after that INVALID_STATE; another user gets NOT_FOUND', async () => {
    const draft = await api.crm.drafts.create.mutate({ contactId: ids.c8!, to: ['c8@crm.test'], subject: 'Hello again', body: 'How are things?' } as never);
    const detail = await api.crm.contacts.detail.query({ id: ids.c8! });
    expect(detail.contact.email).toBe('c8@crm.test');
    expect(detail.drafts.map((d) => d.id)).toEqual([draft.id]);
    expect(detail.threads).toEqual([]);
    const sent = await api.crm.drafts.send.mutate({ id: draft.id });
    expect(sent.draft.status).toBe('sent');
    const after = await api.crm.contacts.detail.query({ id: ids.c8! });
    expect(after.threads).toHaveLength(1);
    expect(after.threads[0]!.messages).toMatchObject([{ direction: 'outbound', subject: 'Hello again', body: 'How are things?', to: ['c8@crm.test'] }]);
    expect(after.contact.lastInteractionAt).not.toBe(detail.contact.lastInteractionAt);
    expect(await code(api.crm.drafts.send.mutate({ id: draft.id }))).toBe('INVALID_STATE');
    const owner = client(rt.url);
    expect(await code(owner.crm.contacts.detail.query({ id: ids.c8! }))).toBe('NOT_FOUND');
    const other = await owner.crm.drafts.create.mutate({ to: ['x@crm.test'], subject: 'Mine' } as never);
    expect(await code(api.crm.drafts.send.mutate({ id: other.id }))).toBe('NOT_FOUND');
    expect((await owner.crm.drafts.get.query({ id: other.id })).status).toBe('draft');
  });
});

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return switchyardCode(e);
  }
  throw new Error('expected a rejection');
}
