import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/host/db';
import { createInboxWriter, type InboxEvent } from '../src/host/inbox';
import { backends, openStoreFixture } from './support/test-db';

/**
 * The group commit of `events.emit` (host/inbox.ts): events emitted together share a statement,
 * and each is still stored once per dedupe key, matched to its own triggers, delivered once, and
 * failed alone.
 */
describe.each(backends())('inbox group commit (%s)', (kind) => {
  let fixture: Awaited<ReturnType<typeof openStoreFixture>>;
  let em: () => EntityManager;
  let userId: string;
  let flowId: string;
  beforeAll(async () => {
    fixture = await openStoreFixture(kind, 'inbox');
    ({ em, userId, flowId } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  const event = (type: string, payload: object, dedupeKey: string | null = null): InboxEvent =>
    ({ id: randomUUID(), userId, type, payload: JSON.stringify(payload), dedupeKey, at: new Date().toISOString() });
  const transactions = async (ids: string[]) =>
    (await sql<{ n: number }>(em(), 'select count(distinct xmin::text)::int as n from inbox where id = any(?::uuid[])', [`{${ids.join(',')}}`]))[0]!.n;

  it('40 events at once: a few statements; one row per dedupe key; the triggers of each; processed when nobody listens', async () => {
    const writer = createInboxWriter(em);
    const type = `test.heard.${randomUUID()}`;
    const triggerId = randomUUID();
    await sql(em(), `insert into flow_triggers (id, flow_id, user_id, version, node_id, kind, event_type) values (?, ?, ?, 1, 'start', 'event', ?)`, [triggerId, flowId, userId, type]);
    const key = `same-${randomUUID()}`;
    const events = [
      ...Array.from({ length: 20 }, (_, i) => event(type, { i, quote: 'it\'s "x" ✓' }, `k-${randomUUID()}`)),
      ...Array.from({ length: 10 }, (_, i) => event('test.unheard', { i })),
      ...Array.from({ length: 10 }, (_, i) => event(type, { i }, key)),
    ];
    const outcomes = await Promise.all(events.map((e) => writer.store(e)));
    // The same key ten times: stored once, the others told it was there.
    expect(outcomes.slice(30).filter((o) => o.stored)).toHaveLength(1);
    expect(outcomes.slice(0, 30).every((o) => o.stored)).toBe(true);
    for (const o of outcomes.slice(0, 20)) expect(o.triggers.map((t) => t.id)).toEqual([triggerId]);
    for (const o of outcomes.slice(20, 30)) expect(o.triggers).toEqual([]);
    for (const o of outcomes.slice(30)) expect(o.triggers.map((t) => t.id)).toEqual(o.stored ? [triggerId] : []);
    const stored = events.filter((_, i) => outcomes[i]!.stored);
    const rows = await sql<{ id: string; payload: unknown; processed: boolean }>(em(),
      'select id, payload, processed_at is not null as processed from inbox where id = any(?::uuid[])', [`{${stored.map((e) => e.id).join(',')}}`]);
    expect(rows).toHaveLength(31);
    for (const r of rows) {
      const e = events.find((x) => x.id === r.id)!;
      expect(r.payload).toEqual(JSON.parse(e.payload));
      // Stored processed only when no flow listens (the others are marked by their runs' start).
      expect(r.processed).toBe(e.type === 'test.unheard');
    }
    expect(await transactions(stored.map((e) => e.id))).toBeLessThan(10);
  });

  it('a wait two events of one statement match is delivered once, to the first', async () => {
    const writer = createInboxWriter(em);
    const runId = randomUUID();
    await sql(em(), `insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot_version, started_at, updated_at)
      values (?, ?, ?, 1, 'waiting', 'start', '{}', 0, now(), now())`, [runId, userId, flowId]);
    const thread = randomUUID();
    await sql(em(), `insert into run_waits (run_id, node_id, user_id, event_type, field, correlation_key, created_at) values (?, 'wait', ?, 'email.received', 'threadId', ?, now())`,
      [runId, userId, thread]);
    // A statement in flight first, so the next ones queue and share one.
    const first = writer.store(event('test.unheard', {}));
    const replies = [event('email.received', { threadId: thread, n: 1 }), event('email.received', { threadId: thread, n: 2 }), event('email.received', { threadId: 'other' })];
    const outcomes = await Promise.all(replies.map((e) => writer.store(e)));
    await first;
    expect(outcomes.map((o) => o.delivered)).toEqual([1, 0, 0]);
    expect(await transactions(replies.map((e) => e.id))).toBe(1);
    const commands = await sql<{ payload: { eventId: string; nodeId: string; payload: { n: number } } }>(em(), 'select payload from run_commands where run_id = ?', [runId]);
    expect(commands.map((c) => [c.payload.eventId, c.payload.nodeId, c.payload.payload.n])).toEqual([[replies[0]!.id, 'wait', 1]]);
    expect(await sql(em(), 'select event_id from run_waits where run_id = ?', [runId])).toEqual([{ event_id: replies[0]!.id }]);
  });

  it('a group carries at most maxChars of payload: big events are split over several statements, all stored', async () => {
    const writer = createInboxWriter(em, { maxChars: 2500 });
    const events = Array.from({ length: 10 }, (_, i) => event('test.unheard', { i, big: 'x'.repeat(1000) }));
    const outcomes = await Promise.all(events.map((e) => writer.store(e)));
    expect(outcomes.every((o) => o.stored)).toBe(true);
    expect(await transactions(events.map((e) => e.id))).toBeGreaterThanOrEqual(5);
  });

  it('an event the database refuses fails alone: the others of its statement are stored', async () => {
    const writer = createInboxWriter(em);
    const events = Array.from({ length: 12 }, (_, i) => event('test.unheard', { i }));
    events[4] = { ...events[4]!, userId: 'not-a-uuid' };
    const outcomes = await Promise.allSettled(events.map((e) => writer.store(e)));
    expect(outcomes.map((o) => o.status)).toEqual(events.map((_, i) => (i === 4 ? 'rejected' : 'fulfilled')));
    expect((await sql(em(), 'select id from inbox where id = any(?::uuid[])', [`{${events.map((e) => e.id).join(',')}}`])).length).toBe(11);
  });
});
