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

  it('splits queued writes over several statements when their rows exceed the batch size, all stored in order', async () => {
    let statements = 0;
    const store = createRunStore(() => { statements++; return em(); }, { maxBatchChars: 2000 });
    const runs = Array.from({ length: 5 }, () => newRun());
    await Promise.all(runs.map((r) => store.insert(r)));
    statements = 0;
    const big = 'x'.repeat(600);
    const writes: Promise<string>[] = [];
    for (let v = 1; v <= 3; v++) {
      for (const r of runs) {
        writes.push(store.write({
          runId: r.id, version: v, snapshot: { status: 'active', value: `s${v}`, context: { big } }, status: 'running', reason: null, error: null,
          at: new Date().toISOString(), finished: false, touchRun: v === 1, journal: { kind: 'state', eventType: `step.${v}`, nodeId: null, data: null }, fence: null,
        }));
      }
    }
    expect(new Set(await Promise.all(writes))).toEqual(new Set(['stored']));
    // Each row is ~900 characters, so at most two fit in 2,000: 15 writes take 8 statements or more.
    expect(statements).toBeGreaterThanOrEqual(8);
    const journal = await sql<{ seqs: number[] }>(em(),
      'select array_agg(seq order by seq) as seqs from run_journal where run_id = any(?::uuid[]) group by run_id', [`{${runs.map((r) => r.id).join(',')}}`]);
    expect(journal.map((j) => j.seqs.map(Number))).toEqual(runs.map(() => [1, 2, 3]));
  });

  it('a state JSON cannot hold is refused on its own, and the later writes of that run with it', async () => {
    const store = createRunStore(em);
    const [a, b] = [newRun(), newRun()];
    await Promise.all([store.insert(a), store.insert(b)]);
    const write = (runId: string, version: number, snapshot: unknown): SnapshotWrite => ({
      runId, version, snapshot, status: 'running', reason: null, error: null, at: new Date().toISOString(), finished: false, touchRun: false,
      journal: { kind: 'state', eventType: null, nodeId: null, data: null }, fence: null,
    });
    await expect(store.write(write(a.id, 1, { n: 10n }))).rejects.toThrow(/could not be stored.*BigInt/);
    await expect(store.write(write(b.id, 1, { n: 10 }))).resolves.toBe('stored');
    await expect(store.write(write(a.id, 2, { n: 11 }))).rejects.toThrow(/earlier write of this run was not stored/);
    expect(await sql(em(), 'select count(*)::int as n from run_journal where run_id = ?', [a.id])).toEqual([{ n: 0 }]);
  });

  it('stores every field of a write as sent, and a step written again applies nothing a second time', async () => {
    const store = createRunStore(em);
    const run = newRun();
    await store.insert(run);
    const command = async () => (await sql<{ id: string }>(em(),
      `insert into run_commands (run_id, payload) values (?, '{"type":"approval.decide"}'::jsonb) returning id`, [run.id]))[0]!.id;
    const [first, second] = [await command(), await command()];
    const reason = `it's "quoted", a back\\slash, ✓ and 😀`;
    const at = '2026-03-04T05:06:07.089Z';
    const step1: SnapshotWrite = {
      runId: run.id, version: 1, snapshot: { status: 'active', value: 'n1', context: { text: reason, n: 1.5, none: null } }, status: 'waiting',
      reason, error: { code: 'X', message: reason }, at, finished: false, touchRun: true, value: 'n1',
      waits: [{ nodeId: 'w', eventType: 'email.received', field: 'from', key: 'a@example.com' }],
      journal: { kind: 'state', eventType: 'approval.decide', nodeId: 'n1', data: { changed: { n1: { state: 'waiting' } } } }, fence: null, commandId: first,
    };
    expect(await store.write(step1)).toBe('stored');
    // A delta step: no snapshot, an object state value.
    const step2: SnapshotWrite = {
      ...step1, version: 2, snapshot: null, delta: [{ op: 'replace', path: '/value', value: { n2: 'n2' } }], base: 1, value: { n2: 'n2' },
      touchRun: false, waits: null, commandId: null, journal: { kind: 'state', eventType: 'next', nodeId: null, data: null },
    };
    expect(await store.write(step2)).toBe('stored');
    const journal = await sql<Record<string, unknown>>(em(),
      `select seq, at, kind, event_type, node_id, snapshot, data, delta, base, value from run_journal where run_id = ? order by seq`, [run.id]);
    expect(journal.map((j) => ({ ...j, at: new Date(j.at as string).toISOString(), base: j.base === null ? null : Number(j.base) }))).toEqual([
      { seq: 1, at, kind: 'state', event_type: 'approval.decide', node_id: 'n1', snapshot: step1.snapshot, data: step1.journal.data, delta: null, base: null, value: 'n1' },
      { seq: 2, at, kind: 'state', event_type: 'next', node_id: null, snapshot: null, data: null, delta: step2.delta, base: 1, value: { n2: 'n2' } },
    ]);
    const row = async () => (await sql<{ status: string; reason: string; error: unknown; snapshot: unknown; snapshot_version: number }>(em(),
      'select status, reason, error, snapshot, snapshot_version from runs where id = ?', [run.id]))[0]!;
    const after = await row();
    expect(after).toMatchObject({ status: 'waiting', reason, error: step1.error, snapshot: step1.snapshot });
    expect(Number(after.snapshot_version)).toBe(1);
    expect(await sql(em(), 'select node_id, event_type, field, correlation_key from run_waits where run_id = ?', [run.id]))
      .toEqual([{ node_id: 'w', event_type: 'email.received', field: 'from', correlation_key: 'a@example.com' }]);
    const commands = async () => (await sql<{ id: string; applied: boolean; outcome: string | null }>(em(),
      'select id, applied_at is not null as applied, outcome from run_commands where run_id = ? order by id', [run.id]));
    expect(await commands()).toEqual([{ id: first, applied: true, outcome: 'applied' }, { id: second, applied: false, outcome: null }]);
    // Step 1 again, carrying other content and the second command (a write replayed): the journal
    // already holds step 1, so nothing of it is applied: no run row change, no acknowledgement.
    expect(await store.write({ ...step1, status: 'completed', reason: 'other', finished: true, commandId: second })).toBe('fenced');
    expect(await row()).toEqual(after);
    expect(await commands()).toEqual([{ id: first, applied: true, outcome: 'applied' }, { id: second, applied: false, outcome: null }]);
    expect(await sql(em(), 'select count(*)::int as n from run_journal where run_id = ?', [run.id])).toEqual([{ n: 2 }]);
    // Read back, the checkpoint comes with the deltas after it, read by the same statement; a
    // delta taken from a state that was never stored (base 7) is passed over.
    expect(await store.write({ ...step2, version: 3, delta: [{ op: 'replace', path: '/value', value: 'wrong' }], base: 7 })).toBe('stored');
    const state = { ...(step1.snapshot as object), value: { n2: 'n2' } };
    for (const read of [await store.get(userId, run.id), await store.resumable(run.id), (await store.active()).find((r) => r.id === run.id)]) {
      expect(read).toMatchObject({ snapshot: state });
      expect(Number(read!.state_seq)).toBe(2);
      expect(read).not.toHaveProperty('deltas');
    }
  });

  it('resumes from the newest checkpoint after the run row and the deltas after it, never a stopped snapshot; claim reads the same in its one statement', async () => {
    const store = createRunStore(em);
    const snap = (n: number, status = 'active') => ({ status, value: 'wait', context: { n } });
    const replace = (n: number) => [{ op: 'replace', path: '/context/n', value: n }];
    /** A run with its row's snapshot at `rowVersion` and the journal rows given (seq, checkpoint or delta; neither: a marker). */
    const seed = async (rowSnapshot: unknown, rowVersion: number, journal: { seq: number; snapshot?: unknown; delta?: unknown; base?: number }[]) => {
      const run = newRun();
      await store.insert(run);
      await sql(em(), `update runs set status = 'waiting', snapshot = ?, snapshot_version = ? where id = ?`, [rowSnapshot, rowVersion, run.id]);
      for (const j of journal) {
        await sql(em(), `insert into run_journal (run_id, seq, at, kind, snapshot, delta, base) values (?, ?, now(), ?, ?, ?, ?)`,
          [run.id, j.seq, j.snapshot || j.delta ? 'state' : 'restored', j.snapshot ?? null, j.delta ?? null, j.base ?? null]);
      }
      return run.id;
    };
    const cases = [
      // The row's checkpoint at 2; later a delta, a newer checkpoint (4) and its delta, a restart
      // marker, and a delta taken from a state never stored (base 99): checkpoint 4 + delta 5.
      { id: await seed(snap(2), 2, [{ seq: 1, snapshot: snap(1) }, { seq: 2, snapshot: snap(2) }, { seq: 3, delta: replace(3), base: 2 },
        { seq: 4, snapshot: snap(4) }, { seq: 5, delta: replace(5), base: 4 }, { seq: 6 }, { seq: 7, delta: replace(7), base: 99 }]), n: 5, stateSeq: 5, version: 7 },
      // The row is current; only restart markers after it.
      { id: await seed(snap(3), 3, [{ seq: 3, snapshot: snap(3) }, { seq: 4 }, { seq: 5 }]), n: 3, stateSeq: 3, version: 5 },
      // Written by a runtime before v2 on a graceful stop: the row and the journal's newest
      // checkpoint are `stopped`; the state before them is resumed (checkpoint 1 + delta 2).
      { id: await seed(snap(2, 'stopped'), 3, [{ seq: 1, snapshot: snap(1) }, { seq: 2, delta: replace(2), base: 1 }, { seq: 3, snapshot: snap(2, 'stopped') }]), n: 2, stateSeq: 2, version: 3 },
      // A stopped checkpoint in the journal after a current row: the row's state, then the deltas taken from it.
      { id: await seed(snap(1), 1, [{ seq: 2, delta: replace(2), base: 1 }, { seq: 3, snapshot: snap(2, 'stopped') }, { seq: 4, delta: replace(9), base: 3 }]), n: 2, stateSeq: 2, version: 4 },
      // Nothing but stopped snapshots: no state to resume from.
      { id: await seed(snap(1, 'stopped'), 1, [{ seq: 1, snapshot: snap(1, 'stopped') }]), n: null, stateSeq: null, version: 1 },
    ];
    const check = (read: { snapshot: unknown; state_seq?: number | string | null; snapshot_version: number | string } | undefined | null, c: (typeof cases)[number]) => {
      expect(read).toBeTruthy();
      expect(read).not.toHaveProperty('tail');
      if (c.n === null) expect(read!.snapshot).toBeNull();
      else expect(read!.snapshot).toEqual(snap(c.n));
      expect(read!.state_seq == null ? null : Number(read!.state_seq)).toBe(c.stateSeq);
      expect(Number(read!.snapshot_version)).toBe(c.version);
    };
    const active = await store.active();
    for (const c of cases) {
      check(await store.resumable(c.id), c);
      check(active.find((r) => r.id === c.id), c);
    }
    const epochsOf = async () => (await sql<{ id: string; owner: string | null; lease_epoch: string }>(em(),
      'select id, owner, lease_epoch from runs where id = any(?::uuid[])', [`{${cases.map((c) => c.id).join(',')}}`]))
      .map((e) => ({ ...e, lease_epoch: Number(e.lease_epoch) })).sort((a, b) => a.id.localeCompare(b.id));
    const before = await epochsOf();
    const lease = { instanceId: `store-test-${randomUUID()}`, leaseMs: 30_000 };
    const claimed = await store.claim(lease, { mine: true, all: true });
    for (const c of cases) {
      const row = claimed.find((r) => r.id === c.id);
      check(row, c);
      expect(row).toMatchObject({ owner: lease.instanceId, status: 'waiting', trigger: { type: 'manual', payload: {} } });
      expect(row).not.toHaveProperty('parked');
    }
    // Released on a graceful stop by deleting the lease row alone: another process claims the runs at once.
    await store.heartbeat(lease, []);
    await store.release(lease);
    const other = { instanceId: `store-test-${randomUUID()}`, leaseMs: 30_000 };
    await store.heartbeat(other, []);
    const adopted = await store.claim(other, { mine: false });
    for (const c of cases) check(adopted.find((r) => r.id === c.id), c);
    // Each claim bumped the epoch: the first owner's writes are fenced off.
    expect(await epochsOf()).toEqual(before.map((e) => ({ ...e, owner: other.instanceId, lease_epoch: e.lease_epoch + 2 })));
  });

  it('a step the run rests at (a delta with the row\'s snapshot) rewrites the run row but stays a delta in the journal; resuming reads the row alone', async () => {
    const store = createRunStore(em);
    const run = newRun();
    await store.insert(run);
    const state = (n: number) => ({ status: 'active', value: 'wait', context: { n } });
    const base: SnapshotWrite = {
      runId: run.id, version: 1, snapshot: state(1), status: 'waiting', reason: null, error: null, at: new Date().toISOString(), finished: false, touchRun: true,
      journal: { kind: 'state', eventType: 'xstate.init', nodeId: null, data: null }, fence: null,
    };
    expect(await store.write(base)).toBe('stored');
    // Step 2: a delta the run rests at. Step 3: a delta it does not rest at (no row snapshot).
    expect(await store.write({ ...base, version: 2, snapshot: null, delta: [{ op: 'replace', path: '/context/n', value: 2 }], base: 1, rowSnapshot: state(2), touchRun: false })).toBe('stored');
    const row = async () => (await sql<{ snapshot: unknown; v: number }>(em(), 'select snapshot, snapshot_version::int as v from runs where id = ?', [run.id]))[0]!;
    expect(await row()).toEqual({ snapshot: state(2), v: 2 });
    expect(await sql(em(), 'select seq, snapshot, delta is not null as delta from run_journal where run_id = ? order by seq', [run.id]))
      .toEqual([{ seq: 1, snapshot: state(1), delta: false }, { seq: 2, snapshot: null, delta: true }]);
    expect(await store.write({ ...base, version: 3, snapshot: null, delta: [{ op: 'replace', path: '/context/n', value: 3 }], base: 2, touchRun: false })).toBe('stored');
    expect(await row()).toEqual({ snapshot: state(2), v: 2 });
    for (const read of [await store.resumable(run.id), (await store.resumableMany([run.id]))[0], await store.get(userId, run.id)]) {
      expect(read).toMatchObject({ snapshot: state(3) });
      expect(Number(read!.state_seq)).toBe(3);
    }
    // A checkpoint the run rests at (every 20th step) rewrites the row too, its snapshot sent once.
    expect(await store.write({ ...base, version: 4, snapshot: state(4), rowSnapshot: state(4), touchRun: false })).toBe('stored');
    expect(await row()).toEqual({ snapshot: state(4), v: 4 });
  });
});
