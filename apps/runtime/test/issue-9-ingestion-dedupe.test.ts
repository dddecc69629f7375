import { describe, expect, it } from 'vitest';
import { backendsUnderTest, useRuntime, waitForRun, type Client } from './host-support';

/**
 * Issue 9, ingestion: events were deduped only on the caller's `dedupeKey`, so the same `emailId`
 * sent twice without one created a second draft, task and notification. Domain events now carry
 * their natural identity as the default dedupe key.
 */
const taskOn = (id: string, trigger: string, title: string) => ({
  schemaVersion: 1, id, kind: 'workflow', name: `Task on ${trigger}`,
  nodes: [
    { id: 'start', type: trigger, position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'task' }],
});

const tasksTitled = async (api: Client, title: string) =>
  (await api.crm.tasks.list.query({ limit: 100, search: title })).items.filter((x: { title: string }) => x.title === title).length;

describe.each(backendsUnderTest())('issue 9: ingestion dedupes on natural identity (%s)', (backend) => {
  const t = useRuntime(backend);

  it('the same emailId sent twice without a dedupeKey starts its flows once', async () => {
    await t.api.flows.save.mutate({ document: taskOn('dedupe-received', 'trigger.emailReceived', 'Answer {{ trigger.subject }}') as never });
    await t.api.flows.deploy.mutate({ docId: 'dedupe-received' });
    const email = { type: 'email.received' as const, payload: { emailId: 'msg-42', from: 'ada@analytical.example', subject: 'Renewal 42' } };
    const first = await t.api.events.emit.mutate(email);
    const again = await t.api.events.emit.mutate(email);
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, eventId: first.eventId });
    expect(again.runs.map((r) => r.runId)).toEqual(first.runs.map((r) => r.runId));
    await waitForRun(t.api, first.runs[0]!.runId, (r) => r.status === 'completed');
    expect(await tasksTitled(t.api, 'Answer Renewal 42')).toBe(1);

    // Another email id is another email; no id at all means no identity, so each emit counts.
    expect((await t.api.events.emit.mutate({ ...email, payload: { ...email.payload, emailId: 'msg-43' } })).duplicate).toBe(false);
    const anonymous = { type: 'email.received' as const, payload: { from: 'ada@analytical.example', subject: 'No id' } };
    expect((await t.api.events.emit.mutate(anonymous)).duplicate).toBe(false);
    expect((await t.api.events.emit.mutate(anonymous)).duplicate).toBe(false);
    // The caller's dedupeKey wins over the natural one.
    expect((await t.api.events.emit.mutate({ ...email, dedupeKey: 'reprocess-msg-42' })).duplicate).toBe(false);
    expect((await t.api.events.emit.mutate({ ...email, dedupeKey: 'reprocess-msg-42' })).duplicate).toBe(true);
  });

  it('email.sent, contact.created and user.login dedupe on their identity, namespaced by type', async () => {
    const sent = { type: 'email.sent' as const, payload: { emailId: 'msg-42', to: ['ada@analytical.example'], subject: 'Re: Renewal' } };
    // Same id as the received email above, but a different event type: not a duplicate.
    expect((await t.api.events.emit.mutate(sent)).duplicate).toBe(false);
    expect((await t.api.events.emit.mutate(sent)).duplicate).toBe(true);

    await t.api.flows.save.mutate({ document: taskOn('dedupe-contact', 'trigger.contactCreated', 'Welcome {{ trigger.name }}') as never });
    await t.api.flows.deploy.mutate({ docId: 'dedupe-contact' });
    const contact = { type: 'contact.created' as const, payload: { contactId: 'c-77', name: 'Dee Dupe', email: 'dee@example.test' } };
    const c1 = await t.api.events.emit.mutate(contact);
    const c2 = await t.api.events.emit.mutate(contact);
    expect([c1.duplicate, c2.duplicate]).toEqual([false, true]);
    await waitForRun(t.api, c1.runs[0]!.runId, (r) => r.status === 'completed');
    expect(await tasksTitled(t.api, 'Welcome Dee Dupe')).toBe(1);
    // Without a contact id, the address is the contact's identity (unique per user in the CRM).
    const byEmail = { type: 'contact.created' as const, payload: { name: 'No Id', email: 'Noid@Example.test' } };
    expect((await t.api.events.emit.mutate(byEmail)).duplicate).toBe(false);
    expect((await t.api.events.emit.mutate({ ...byEmail, payload: { ...byEmail.payload, email: 'noid@example.test' } })).duplicate).toBe(true);

    // A login is identified by its instant, whatever the offset it is written in.
    const l1 = await t.api.events.emit.mutate({ type: 'user.login', payload: { at: '2026-01-07T15:00:00Z' } });
    const l2 = await t.api.events.emit.mutate({ type: 'user.login', payload: { at: '2026-01-07T10:00:00-05:00' } });
    expect([l1.duplicate, l2.duplicate]).toEqual([false, true]);
    expect((await t.api.events.emit.mutate({ type: 'user.login', payload: {} })).duplicate).toBe(false);
    expect((await t.api.events.emit.mutate({ type: 'user.login', payload: {} })).duplicate).toBe(false);
  });
});
