import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../src/host/clock';
import { sql } from '../src/host/db';
import { createHostServices, type HostServices } from '../src/host/services';
import { BUSINESS_HOURS } from './host-support';
import { backends, openStoreFixture, runsCompleted } from './support/test-db';

/**
 * `events.emit` with the triggers of the event's type known (an earlier event of that type showed
 * them): the statement that stores the event inserts the runs it starts, so the event and its runs
 * commit together and it is stored processed. Whatever the process did not know (a flow deployed
 * since, here or elsewhere; a trigger undeployed; a version changed) is found by that statement and
 * handled as without the cache: nothing started twice, nothing missed, the event processed once.
 */
describe.each(backends())('events.emit starts the runs it knows with the event (%s)', (kind) => {
  let fixture: Awaited<ReturnType<typeof openStoreFixture>>;
  let em: () => EntityManager;
  let userId: string;
  let hs: HostServices;
  /** The run store's own inserts of runs (`insertRuns`), counted from the SQL sent: a run the event's statement inserted is not one. */
  let runInserts = 0;
  beforeAll(async () => {
    fixture = await openStoreFixture(kind, 'emit-starts');
    ({ em, userId } = fixture);
    // Every statement goes through the one knex client of the ORM (db.ts `sql`): counted there.
    const client = em().getConnection().getKnex().client as { query: (conn: unknown, q: { sql?: string }) => Promise<unknown> };
    const query = client.query.bind(client);
    client.query = (conn, q) => {
      if (/^\s*(with ins as \(\s*)?insert into runs\b/.test(q?.sql ?? '')) runInserts++;
      return query(conn, q);
    };
    hs = createHostServices({ em, outbound: { request: async () => ({ status: 200, body: '' }) }, clock: createClock(BUSINESS_HOURS), verifyDeltas: 'throw' });
    await hs.start();
  });
  afterAll(async () => {
    await hs?.stop();
    await fixture?.close();
  });

  const flow = (id: string, params: Record<string, unknown> = {}) => ({
    schemaVersion: 1, id, kind: 'workflow', name: id,
    nodes: [
      { id: 'start', type: 'trigger.emailReceived', position: { x: 0, y: 0 }, params },
      { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: `${id}: {{ trigger.subject }}` } },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'task' }],
  });
  const deploy = async (doc: ReturnType<typeof flow>) => {
    await hs.flows.save(userId, doc);
    await hs.flows.deploy(userId, doc.id);
  };
  const email = (subject: string, from = 'ada@example.test') => ({
    type: 'email.received' as const, payload: { emailId: subject, from, to: ['me@example.test'], subject, body: 'Hello', isImportant: false, isUnread: true },
  });
  /** Emits, and tells how many runs the run store inserted on its own for it (not with the event). */
  const emit = async (event: Parameters<HostServices['host']['emit']>[1]) => {
    const before = runInserts;
    const r = await hs.host.emit(userId, event);
    return { ...r, insertedAfter: runInserts - before };
  };
  /** Whether the event is stored processed, and the runs it started (by flow). */
  const written = async (eventId: string) => {
    const [event] = await sql<{ processed: boolean }>(em(), 'select processed_at is not null as processed from inbox where id = ?', [eventId]);
    const runs = await sql<{ id: string; doc: string }>(em(),
      `select r.id, f.doc_id as doc from runs r join flows f on f.id = r.flow_id where r.trigger->>'eventId' = ? order by f.doc_id`, [eventId]);
    return { processed: event!.processed, runs };
  };
  const completed = (runIds: string[]) => runsCompleted(em, runIds, 20_000);
  const tasks = async (subject: string) =>
    (await sql<{ title: string }>(em(), 'select title from tasks where user_id = ? and title like ? order by title', [userId, `%: ${subject}`])).map((t) => t.title);

  it('the first event of a type is stored, then its run started; from the second on, its run goes in the event\'s statement', async () => {
    await deploy(flow('a'));
    const first = await emit(email('one'));
    expect(first.runs.map((r) => r.docId)).toEqual(['a']);
    expect(first.insertedAfter).toBe(1);
    expect(await written(first.eventId)).toEqual({ processed: true, runs: [{ id: first.runs[0]!.runId, doc: 'a' }] });

    const second = await emit(email('two'));
    expect(second.runs.map((r) => r.docId)).toEqual(['a']);
    expect(second.insertedAfter).toBe(0);
    expect(await written(second.eventId)).toEqual({ processed: true, runs: [{ id: second.runs[0]!.runId, doc: 'a' }] });
    await completed([...first.runs, ...second.runs].map((r) => r.runId));
    expect(await tasks('one')).toEqual(['a: one']);
    expect(await tasks('two')).toEqual(['a: two']);
  });

  it('a flow deployed since the type was last seen is found by the statement and started after, once', async () => {
    await deploy(flow('b'));
    const e = await emit(email('three'));
    expect(e.runs.map((r) => r.docId).sort()).toEqual(['a', 'b']);
    // a's run went with the event; b's was inserted after it (the statement told of b).
    expect(e.insertedAfter).toBe(1);
    const w = await written(e.eventId);
    expect(w.processed).toBe(true);
    expect(w.runs.map((r) => r.doc)).toEqual(['a', 'b']);
    await completed(e.runs.map((r) => r.runId));
    expect(await tasks('three')).toEqual(['a: three', 'b: three']);
    // Now both are known: both go with the next event.
    const next = await emit(email('four'));
    expect(next.insertedAfter).toBe(0);
    expect((await written(next.eventId)).runs.map((r) => r.doc)).toEqual(['a', 'b']);
    await completed(next.runs.map((r) => r.runId));
    expect(await tasks('four')).toEqual(['a: four', 'b: four']);
  });

  it('an undeployed trigger starts nothing though the process still knew it; a trigger that does not match starts nothing', async () => {
    await hs.flows.undeploy(userId, 'a');
    const e = await emit(email('five'));
    expect(e.runs.map((r) => r.docId)).toEqual(['b']);
    expect(e.insertedAfter).toBe(0);
    expect(await written(e.eventId)).toEqual({ processed: true, runs: [{ id: e.runs[0]!.runId, doc: 'b' }] });
    await completed(e.runs.map((r) => r.runId));
    expect(await tasks('five')).toEqual(['b: five']);

    // c only takes mail from bob: known after one event, it starts nothing for ada's.
    await deploy(flow('c', { fromContains: 'bob@' }));
    await completed((await emit(email('six'))).runs.map((r) => r.runId));
    const e7 = await emit(email('seven'));
    expect(e7.insertedAfter).toBe(0);
    expect(await written(e7.eventId)).toEqual({ processed: true, runs: [{ id: e7.runs[0]!.runId, doc: 'b' }] });
    const e8 = await emit(email('eight', 'bob@example.test'));
    expect(e8.insertedAfter).toBe(0);
    expect((await written(e8.eventId)).runs.map((r) => r.doc)).toEqual(['b', 'c']);
    await completed([...e7.runs, ...e8.runs].map((r) => r.runId));
    expect(await tasks('seven')).toEqual(['b: seven']);
    expect(await tasks('eight')).toEqual(['b: eight', 'c: eight']);
  });

  it('a new version of a known flow: its run is started at the new version, once', async () => {
    await hs.flows.undeploy(userId, 'c');
    await hs.flows.save(userId, { ...flow('b'), nodes: flow('b').nodes.map((n) => (n.id === 'task' ? { ...n, params: { title: 'b2: {{ trigger.subject }}' } } : n)) });
    await hs.flows.deploy(userId, 'b');
    const e = await emit(email('nine'));
    const w = await written(e.eventId);
    expect(w.processed).toBe(true);
    expect(w.runs.map((r) => r.doc)).toEqual(['b']);
    await completed(e.runs.map((r) => r.runId));
    const [run] = await sql<{ flow_version: number }>(em(), 'select flow_version from runs where id = ?', [e.runs[0]!.runId]);
    expect(run!.flow_version).toBe(2);
    expect(await tasks('nine')).toEqual(['b2: nine']);
    // Known at its new version now: the next one goes with its event.
    const next = await emit(email('ten'));
    expect(next.insertedAfter).toBe(0);
    await completed(next.runs.map((r) => r.runId));
    expect(await tasks('ten')).toEqual(['b2: ten']);
    // A trigger moved to a new version in place (its id kept, as webhook triggers are): the run the
    // process predicted at the old version is not inserted; the one started after is at the new one.
    await hs.flows.save(userId, { ...flow('b'), nodes: flow('b').nodes.map((n) => (n.id === 'task' ? { ...n, params: { title: 'b3: {{ trigger.subject }}' } } : n)) });
    await sql(em(), `update flow_triggers set version = 3 where active and flow_id = (select id from flows where user_id = ? and doc_id = 'b')`, [userId]);
    const moved = await emit(email('ten-b'));
    expect(moved.insertedAfter).toBe(1);
    await completed(moved.runs.map((r) => r.runId));
    const [v3] = await sql<{ flow_version: number }>(em(), 'select flow_version from runs where id = ?', [moved.runs[0]!.runId]);
    expect(v3!.flow_version).toBe(3);
    expect(await tasks('ten-b')).toEqual(['b3: ten-b']);
  });

  it('an event sent again with its dedupe key starts nothing more', async () => {
    const once = await emit({ ...email('eleven'), dedupeKey: 'mail-eleven' });
    expect(once.insertedAfter).toBe(0);
    const again = await emit({ ...email('eleven'), dedupeKey: 'mail-eleven' });
    expect(again.duplicate).toBe(true);
    expect(again.insertedAfter).toBe(0);
    expect(again.eventId).toBe(once.eventId);
    expect(again.runs.map((r) => r.runId)).toEqual(once.runs.map((r) => r.runId));
    await completed(once.runs.map((r) => r.runId));
    expect((await written(once.eventId)).runs).toHaveLength(1);
    expect(await tasks('eleven')).toEqual(['b3: eleven']);
  });
});
