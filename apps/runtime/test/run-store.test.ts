import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../src/host/db';
import { createRunStore, type NewRun, type SnapshotWrite } from '../src/host/run-store';
import { backends, openStoreFixture } from './support/test-db';

/**
 * The run store's group commits: runs started together are inserted by one statement, and with
 * several write lanes each run's steps still commit in order, one lane per run.
 */
describe.each(backends())('run store (%s)', (kind) => {
  let fixture: Awaited<ReturnType<typeof openStoreFixture>>;
  let em: () => EntityManager;
  let userId: string;
  let flowId: string;
  beforeAll(async () => {
    fixture = await openStoreFixture(kind, 'store');
    ({ em, userId, flowId } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  const newRun = (id = randomUUID(), flow = flowId): NewRun => ({
    id, userId, flowId: flow, version: 1, triggerNodeId: 'start', trigger: { type: 'manual', payload: {} }, at: new Date().toISOString(),
  });
  const stored = async (ids: string[]) =>
    (await sql<{ id: string }>(em(), 'select id from runs where id = any(?::uuid[])', [`{${ids.join(',')}}`])).map((r) => r.id).sort();

  it('inserts runs started together, each answered on its own: a duplicate id is not created twice, a bad run fails alone', async () => {
    const store = createRunStore(em);
    const good = Array.from({ length: 40 }, () => newRun());
    const dup = newRun();
    // A flow that does not exist: the database refuses this row (foreign key), not the others.
    const bad = newRun(randomUUID(), randomUUID());
    const results = await Promise.allSettled([...good, dup, { ...dup }, bad].map((r) => store.insert(r)));
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected'));
    expect(values.slice(0, 40)).toEqual(good.map(() => true));
    // Exactly one of the two inserts of the same id created it.
    expect(values.slice(40, 42).sort()).toEqual([false, true]);
    expect(values[42]).toBe('rejected');
    expect(await stored([...good.map((r) => r.id), dup.id, bad.id])).toEqual([...good.map((r) => r.id), dup.id].sort());
    // Inserted again later: it exists, nothing is created.
    expect(await store.insert(good[0]!)).toBe(false);
  });

  it('with several lanes, every step of every run commits, in order, and the run row holds its last checkpoint', async () => {
    const store = createRunStore(em, { lanes: 3 });
    const runs = Array.from({ length: 30 }, () => newRun());
    expect(await Promise.all(runs.map((r) => store.insert(r)))).toEqual(runs.map(() => true));
    const steps = 6;
    const write = (runId: string, version: number): SnapshotWrite => ({
      runId, version, snapshot: { value: { step: version }, status: 'active' }, status: version === steps ? 'completed' : 'running',
      reason: null, error: null, at: new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString(), finished: version === steps, touchRun: version === 1 || version === steps,
      journal: { kind: 'state', eventType: `step.${version}`, nodeId: null, data: null }, fence: null,
    });
    // Interleaved as concurrent runs would queue them: step 1 of every run, then step 2, ...
    const outcomes: Promise<string>[] = [];
    for (let v = 1; v <= steps; v++) for (const r of runs) outcomes.push(store.write(write(r.id, v)));
    expect(new Set(await Promise.all(outcomes))).toEqual(new Set(['stored']));
    const journal = await sql<{ run_id: string; seqs: number[]; events: string[] }>(em(),
      `select run_id, array_agg(seq order by seq) as seqs, array_agg(event_type order by seq) as events from run_journal where run_id = any(?::uuid[]) group by run_id`,
      [`{${runs.map((r) => r.id).join(',')}}`]);
    expect(journal).toHaveLength(runs.length);
    for (const j of journal) {
      expect(j.seqs.map(Number)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(j.events).toEqual([1, 2, 3, 4, 5, 6].map((v) => `step.${v}`));
    }
    const rows = await sql<{ status: string; snapshot_version: number; snapshot: { value: { step: number } } }>(em(),
      'select status, snapshot_version, snapshot from runs where id = any(?::uuid[])', [`{${runs.map((r) => r.id).join(',')}}`]);
    expect(rows.map((r) => [r.status, Number(r.snapshot_version), r.snapshot.value.step])).toEqual(runs.map(() => ['completed', steps, steps]));
  });

  it('a run whose write the database refused has its queued and later writes refused, on its own lane only', async () => {
    const store = createRunStore(em, { lanes: 2 });
    const [a, b] = [newRun(), newRun()];
    await Promise.all([store.insert(a), store.insert(b)]);
    const base = (runId: string, version: number, data: unknown = null): SnapshotWrite => ({
      runId, version, snapshot: { v: version }, status: 'running', reason: null, error: null, at: new Date().toISOString(), finished: false, touchRun: false,
      journal: { kind: 'state', eventType: null, nodeId: null, data }, fence: null,
    });
    // Text PostgreSQL's jsonb refuses (a NUL character), so this write fails in the database.
    const refused = store.write(base(a.id, 1, { text: 'bad \u0000 byte' }));
    const other = store.write(base(b.id, 1));
    await expect(refused).rejects.toThrow();
    await expect(other).resolves.toBe('stored');
    await expect(store.write(base(a.id, 2))).rejects.toThrow(/earlier write of this run was not stored/);
    store.reset(a.id);
    await expect(store.write(base(a.id, 2))).resolves.toBe('stored');
  });
});
