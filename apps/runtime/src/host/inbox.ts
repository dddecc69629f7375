import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './db';
import { createGroupCommit } from './group-commit';

/** A deployed event trigger an inbox event may start. */
export interface TriggerRow { id: string; flow_id: string; doc_id: string; version: number; node_id: string; created_at: unknown }

/** Which triggers `t` (joined with their flow `f`) an event of `user` and `type` (SQL expressions) starts: the user's own flows, and behaviors for everyone. */
const TRIGGER_MATCH = (user: string, type: string) =>
  `(t.user_id = ${user} or t.audience = 'everyone') and t.kind = 'event' and t.event_type = ${type} and t.active and f.deleted_at is null`;

/** The active event triggers for (user, event type), its two parameters. */
export const TRIGGERS_SQL = `select t.id, t.flow_id, f.doc_id, t.version, t.node_id, t.created_at from flow_triggers t join flows f on f.id = t.flow_id
   where ${TRIGGER_MATCH('?', '?')}`;

/**
 * Delivery of inbox events to the runs waiting for them (`flow.waitForEvent`, matched on a payload
 * field), as CTEs over the events of the CTE `events` (id, user_id, type, payload, at, _i), ending
 * in `delivered (run_id, node_id, event_id)`: each matching wait is consumed and an `event.deliver`
 * command stored for its run in the statement that holds the events, so a re-processed event
 * delivers nothing twice and a crash in between loses nothing. A wait two of the events match is
 * consumed by the first of them (`_i`). Waits another statement holds are skipped (SKIP LOCKED): it
 * is consuming them.
 */
export const DELIVER_CTES = (events: string) => `mw as (
         select w.run_id, w.node_id, w.user_id, w.event_type, w.field, w.correlation_key from run_waits w join runs r on r.id = w.run_id
          where w.consumed_at is null and r.status in ('running', 'waiting')
            and exists (select 1 from ${events} e where w.user_id = e.user_id and w.event_type = e.type and w.correlation_key = (e.payload #>> string_to_array(w.field, '.')))
          order by w.run_id, w.node_id for update of w skip locked),
       m as (
         select distinct on (mw.run_id, mw.node_id) mw.run_id, mw.node_id, e.id as event_id, e.type, e.payload, e.at
           from mw join ${events} e on mw.user_id = e.user_id and mw.event_type = e.type and mw.correlation_key = (e.payload #>> string_to_array(mw.field, '.'))
          order by mw.run_id, mw.node_id, e._i),
       c as (
         update run_waits w set consumed_at = m.at, event_id = m.event_id from m
          where w.run_id = m.run_id and w.node_id = m.node_id returning w.run_id, w.node_id),
       delivered as (
         insert into run_commands (run_id, payload, created_at)
         select m.run_id, jsonb_build_object('type', 'event.deliver', 'nodeId', m.node_id, 'eventId', m.event_id::text, 'eventType', m.type, 'payload', m.payload), m.at
           from m join c on c.run_id = m.run_id and c.node_id = m.node_id
         returning run_id, payload->>'nodeId' as node_id, payload->>'eventId' as event_id)`;

/**
 * An event `events.emit` stores: its id and time are made by the caller. With `starts`, the caller
 * knew the event's triggers (from an earlier event of the same user and type) and matched them:
 * the statement that stores the event inserts those runs too (`PredictedStarts`).
 */
export interface InboxEvent { id: string; userId: string; type: string; payload: string; dedupeKey: string | null; at: string; starts?: PredictedStarts }

/**
 * The triggers an event was matched against before it was stored, as `id:version` (`expected`),
 * and the runs those that matched start (`runs`: id, flow, version, trigger node and trigger id,
 * owner). The statement inserts a run only while its trigger is still active at that version, and
 * stores the event processed only when every active trigger was among `expected`; otherwise the
 * caller starts what is left (`InboxOutcome.complete` false).
 */
export interface PredictedStarts {
  expected: string[];
  runs: { id: string; flow_id: string; flow_version: number; trigger_node_id: string; trigger_id: string; owner: string | null }[];
}

/**
 * What storing an event came to: `stored` false when its dedupe key was stored before (nothing else
 * done); the active triggers it starts; the runs of `starts` the statement inserted; `complete`
 * when those are all the runs it starts (it was stored processed).
 */
export interface InboxOutcome { stored: boolean; delivered: number; triggers: TriggerRow[]; started: string[]; complete: boolean }

const EVENT_COLUMNS = '_i int, id uuid, user_id uuid, type text, payload jsonb, dedupe_key text, at timestamptz, expected jsonb, runs jsonb';

/**
 * One statement for a group of events: each is stored in the inbox (unless its dedupe key was
 * stored before), the triggers it starts are read, it is delivered to the runs waiting for it, the
 * runs its caller predicted are inserted (`starts`, each while its trigger is still active at that
 * version), and when no flow listens for it, or every active trigger was predicted, it is stored
 * processed: one commit from the event to its runs. The events travel as one jsonb parameter, so
 * the text does not grow with the group; they are inserted in dedupe-key order, so two statements
 * in flight wait on each other's keys in the same order and never deadlock.
 */
async function storeEvents(em: EntityManager, events: InboxEvent[]): Promise<InboxOutcome[]> {
  const rows = await sql<{ i: number; stored: boolean; delivered: number; complete: boolean; started: string[] | null } & (TriggerRow | { [K in keyof TriggerRow]: null })>(em,
    `with e as (select * from jsonb_to_recordset(?::jsonb) as x(${EVENT_COLUMNS})),
     tr as (
       select e._i, t.id, t.flow_id, f.doc_id, t.version, t.node_id, t.created_at
         from e join flow_triggers t on t.event_type = e.type join flows f on f.id = t.flow_id where ${TRIGGER_MATCH('e.user_id', 'e.type')}),
     -- Events whose every active trigger was matched by the caller: the runs below are all they start.
     complete as (
       select e._i from e where e.expected is not null
          and not exists (select 1 from tr where tr._i = e._i and not e.expected @> jsonb_build_array(tr.id::text || ':' || tr.version))),
     ins as (
       insert into inbox (id, user_id, type, payload, dedupe_key, received_at, processed_at)
       select e.id, e.user_id, e.type, e.payload, e.dedupe_key, e.at,
              case when not exists (select 1 from tr where tr._i = e._i) or e._i in (select _i from complete) then e.at end
         from e order by e.user_id, e.dedupe_key, e._i
       on conflict (user_id, dedupe_key) do nothing returning id),
     events as (select e.* from e where e.id in (select id from ins)),
     ${DELIVER_CTES('events')},
     started as (
       insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot, snapshot_version, started_at, updated_at, owner, lease_epoch)
       select x.id, e.user_id, x.flow_id, x.flow_version, 'running', x.trigger_node_id,
              jsonb_build_object('type', e.type, 'eventId', e.id, 'payload', e.payload), null, 0, e.at, e.at, x.owner, 1
         from events e cross join jsonb_to_recordset(e.runs) as x(id uuid, flow_id uuid, flow_version int, trigger_node_id text, trigger_id uuid, owner text)
        where exists (select 1 from tr where tr._i = e._i and tr.id = x.trigger_id and tr.version = x.flow_version)
       on conflict (id) do nothing returning id)
     select e._i as i, e.id in (select id from ins) as stored, (select count(*) from delivered d where d.event_id = e.id::text)::int as delivered,
            e._i in (select _i from complete) as complete, (select array_agg(id::text) from started) as started,
            tr.id, tr.flow_id, tr.doc_id, tr.version, tr.node_id, tr.created_at
       from e left join tr on tr._i = e._i order by e._i, tr.created_at`,
    // The payloads are JSON text already: spliced in, not parsed and serialized again.
    [`[${events.map((ev, i) => `${JSON.stringify({
      _i: i, id: ev.id, user_id: ev.userId, type: ev.type, dedupe_key: ev.dedupeKey, at: ev.at, expected: ev.starts?.expected ?? null, runs: ev.starts?.runs ?? [],
    }).slice(0, -1)},"payload":${ev.payload}}`).join(',')}]`]);
  const out = events.map((): InboxOutcome => ({ stored: false, delivered: 0, triggers: [], started: [], complete: false }));
  // The runs the statement inserted, for all its events (every row carries the same list).
  const started = new Set(rows[0]?.started ?? []);
  events.forEach((ev, i) => (out[i]!.started = (ev.starts?.runs ?? []).filter((x) => started.has(x.id)).map((x) => x.id)));
  for (const r of rows) {
    const o = out[r.i]!;
    o.stored = r.stored;
    o.delivered = r.delivered;
    o.complete = r.stored && r.complete;
    // Only a stored event starts anything (a duplicate is finished by its first emit).
    if (r.stored && r.id !== null) o.triggers.push({ id: r.id, flow_id: r.flow_id, doc_id: r.doc_id, version: r.version, node_id: r.node_id, created_at: r.created_at });
  }
  return out;
}

/**
 * Group commit of `events.emit` (group-commit.ts): events emitted together are stored by one
 * statement (`storeEvents`). Two events with the same dedupe key never share a statement (the
 * second finds the first stored). Payloads reach 5 MB each and the group is one jsonb value
 * (they end at 256 MB): a group carries at most 32 MB of payload.
 */
export function createInboxWriter(em: () => EntityManager, opts: { lanes?: number; maxGroup?: number; maxChars?: number } = {}) {
  const groups = createGroupCommit<InboxEvent, InboxOutcome>({
    ...opts,
    size: (ev) => ev.payload.length,
    key: (ev) => (ev.dedupeKey === null ? null : `${ev.userId}\u0000${ev.dedupeKey}`),
    many: async (events) => (await storeEvents(em(), events)).map((value) => ({ status: 'fulfilled', value })),
    one: async (ev) => (await storeEvents(em(), [ev]))[0]!,
  });
  return {
    /** Stores the event (see `storeEvents`); resolves once its statement committed. */
    store: (ev: InboxEvent) => groups.add(ev),
  };
}
