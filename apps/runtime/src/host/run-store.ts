import type { EntityManager } from '@mikro-orm/postgresql';
import type { RunStatus } from '@switchyard/actors';
import { SwitchyardError } from '@switchyard/schema';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { sql, sqlOne } from './db';
import { recordCommit } from '../monitor/metrics';
import { voidDeadLeases } from './instances';

export interface RunRow {
  id: string;
  user_id: string;
  flow_id: string;
  flow_version: number;
  status: RunStatus;
  trigger_node_id: string | null;
  trigger: { type: string; eventId?: string | null; payload: unknown };
  snapshot: unknown;
  snapshot_version: number;
  reason: string | null;
  error: { nodeId?: string; code: string; message: string } | null;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  owner?: string | null;
  lease_epoch?: number | string;
  /** The journal seq whose state `snapshot` is (after its deltas were applied): the base of the next delta. */
  state_seq?: number | string | null;
}

/** This process's claim on the runs it executes. */
export interface Lease {
  instanceId: string;
  leaseMs: number;
}

/**
 * Who may write a run: the owner and the epoch of its claim. Every claim bumps the epoch, so a
 * process that lost a run (paused past its lease, adopted elsewhere) has every write refused.
 * Null when the host runs without leases (benchmarks, tests without a database).
 */
export interface Fence {
  owner: string;
  epoch: number;
}

export interface JournalEntry {
  /** `woken`: a parked run relaunched here (a due timer, a command); `restored`: a restart, an adoption or a retry after a failed write; `replayed`: a replay's run started from its seed step. */
  kind: 'state' | 'restored' | 'woken' | 'replayed' | 'error';
  eventType: string | null;
  nodeId: string | null;
  data: unknown;
}

export interface SnapshotWrite {
  runId: string;
  version: number;
  /** The full snapshot (a checkpoint), or null with `delta` (or for a row that changes no state). */
  snapshot: unknown;
  /**
   * A step journaled as a delta whose state the run row takes too: the run rests there (waiting),
   * so the state it resumes from (a wake, a restart) is the row's, with no deltas to read and apply.
   */
  rowSnapshot?: unknown;
  /** JSON Patch from the state of journal row `base` to this step's. */
  delta?: Operation[] | null;
  base?: number | null;
  /** The state value at this step (every step row carries it). */
  value?: unknown;
  /** Event waits this step began (`flow.waitForEvent`): registered by the same statement. */
  waits?: { nodeId: string; eventType: string; field: string; key: string }[] | null;
  status: RunStatus;
  reason: string | null;
  error: unknown;
  at: string;
  finished: boolean;
  /** Rewrite the run row too (status changed, or the run ended). */
  touchRun: boolean;
  journal: JournalEntry;
  fence: Fence | null;
  /** A forwarded command this transition consumes: acknowledged by the same statement. */
  commandId?: string | null;
  /**
   * The step starts a node whose effect goes with it (`RunStore.ride`): on an idle lane it is sent
   * at the next turn of the event loop, not at once, so the effect (ready within this turn's
   * microtasks) finds it still queued.
   */
  awaitsRider?: boolean;
}

/** What a write came to: stored, or refused because another process owns the run now. */
export type WriteOutcome = 'stored' | 'fenced';

/**
 * The columns of a batch's rows, as `jsonb_to_recordset` reads them from the one parameter that
 * carries the whole batch. One parameter instead of twenty per write: a 200-write statement
 * with 4,000 parameters and a 200-row VALUES list cost more to parse and bind than to execute.
 */
const BATCH_COLUMNS = 'run_id uuid, snapshot jsonb, version int, status text, reason text, error jsonb, at timestamptz, finished boolean, touch boolean, ' +
  'kind text, event_type text, node_id text, data jsonb, owner text, epoch bigint, command_id bigint, delta jsonb, base int, value jsonb, waits jsonb, row_snapshot jsonb';

/** The most characters of rows one batch statement carries (split beyond; one write is never split). */
const MAX_BATCH_CHARS = 32 * 1024 * 1024;

/**
 * One statement for many writes (several runs, several versions of one run), so it commits as
 * one. The runs' rows are locked first, in id order (the heartbeat and claims lock in the same
 * order, so they never deadlock with it), and each write is kept only while its fence still
 * holds. Every step appends a journal row carrying the snapshot; the `runs` row is rewritten when
 * a run's status changes. A consumed command is marked applied with the transition it caused.
 */
function writeBatch(em: EntityManager, rows: string[], notify: boolean, needs: BatchNeeds, riders?: { ctes: string; params: unknown[]; outcomes: string }) {
  // What only some writes need (a run row rewritten, event waits, a command acknowledged) is in
  // the statement only when one of its writes does: most batches are steps that append a journal
  // row, and the CTEs each cost their scan of the batch (a tenth of a batch's time on PGlite).
  const stored = needs.runRow || needs.waits || needs.acks;
  return sql<{ run_id: string | null; seq: number | null; ri: number | null; outcome: unknown }>(em,
    `with v as (select * from jsonb_to_recordset(?::jsonb) as x(${BATCH_COLUMNS})),
     locked as (
       select r.id, r.owner, r.lease_epoch from runs r where r.id in (select run_id from v) order by r.id for no key update),
     ok as (
       select v.* from v join locked l on l.id = v.run_id
        where v.owner is null or (l.owner = v.owner and l.lease_epoch = v.epoch)),
     ins as (
       insert into run_journal (run_id, seq, at, kind, event_type, node_id, snapshot, data, delta, base, value)
       select run_id, version, at, kind, event_type, node_id, snapshot, data, delta, base, value from ok
       on conflict (run_id, seq) do nothing returning run_id, seq)${stored ? `,
     -- The writes inserted: those whose step was not in the journal before this statement (its
     -- snapshot does not see its own insert; a run's steps are written by one lane, in order).
     -- Not a join with ins: estimated at one row, that join ran as a nested loop, quadratic in
     -- the batch (two thirds of a 200-write statement's time).
     stored as (select ok.* from ok where not exists (select 1 from run_journal j where j.run_id = ok.run_id and j.seq = ok.version))` : ''}${needs.runRow ? `,
     latest as (
       select distinct on (run_id) * from stored where (touch and snapshot is not null) or row_snapshot is not null order by run_id, version desc),
     upd as (
       update runs r set snapshot = coalesce(l.snapshot, l.row_snapshot), snapshot_version = l.version, status = l.status, reason = l.reason, error = l.error,
              updated_at = l.at, finished_at = case when l.finished then l.at else r.finished_at end
         from latest l where r.id = l.run_id and r.snapshot_version < l.version returning r.id)` : ''}${needs.waits ? `,
     waits as (
       insert into run_waits (run_id, node_id, user_id, event_type, field, correlation_key, created_at)
       select s.run_id, w->>'nodeId', r.user_id, w->>'eventType', w->>'field', w->>'key', s.at
         from stored s join runs r on r.id = s.run_id cross join lateral jsonb_array_elements(s.waits) w
        where s.waits is not null
       -- Registered only when the node begins waiting: a behavior's next activation waits anew.
       on conflict (run_id, node_id) do update set event_type = excluded.event_type, field = excluded.field, correlation_key = excluded.correlation_key,
            created_at = excluded.created_at, consumed_at = null, event_id = null
       returning run_id)` : ''}${needs.acks ? `,
     acks as (
       update run_commands c set applied_at = s.at, outcome = 'applied'
         from stored s where s.command_id is not null and c.id = s.command_id and c.applied_at is null returning c.id)` : ''}${riders ? `,
     ${riders.ctes}` : ''}
     select run_id, seq, null::int as ri, null::json as outcome${notify ? `, (select count(*) from (select pg_notify('switchyard_runs', d.run_id::text) from (select distinct run_id from ins) d) n) as notified` : ''}
       from ins${riders ? `
     union all
     select null, null, o.ri, o.outcome${notify ? ', null' : ''} from (${riders.outcomes}) o` : ''}`,
    [`[${rows.join(',')}]`, ...(riders?.params ?? [])]);
}

/** Which of the batch statement's optional parts its writes need. */
interface BatchNeeds {
  /** A write rewrites its run's row (a status change, a checkpoint the run rests at). */
  runRow: boolean;
  /** A write registers event waits. */
  waits: boolean;
  /** A write consumes a forwarded command. */
  acks: boolean;
}

/** Whether a write rewrites its run's row: `latest`'s condition over its row (`batchRow`'s `touch` and `row_snapshot`). */
const rewritesRun = (w: SnapshotWrite) => (w.snapshot != null && (w.touchRun || w.rowSnapshot != null)) || (w.snapshot == null && w.rowSnapshot != null);

const needsOf = (writes: SnapshotWrite[]): BatchNeeds => ({
  runRow: writes.some(rewritesRun),
  waits: writes.some((w) => !!w.waits?.length),
  acks: writes.some((w) => w.commandId != null),
});

/** A write as its row of the batch parameter (`BATCH_COLUMNS`), serialized once, when it is queued. */
const batchRow = (w: SnapshotWrite) => JSON.stringify({
  run_id: w.runId, snapshot: w.snapshot ?? null, version: w.version, status: w.status, reason: w.reason, error: w.error ?? null, at: w.at,
  finished: w.finished, touch: w.touchRun || (w.snapshot != null && w.rowSnapshot != null), kind: w.journal.kind, event_type: w.journal.eventType, node_id: w.journal.nodeId,
  data: w.journal.data ?? null, owner: w.fence?.owner ?? null, epoch: w.fence?.epoch ?? null, command_id: w.commandId ?? null,
  delta: w.delta ?? null, base: w.base ?? null, value: w.value ?? null, waits: w.waits?.length ? w.waits : null,
  // A checkpoint the run rests at rewrites the row as a status change does (the snapshot is sent once).
  row_snapshot: w.snapshot == null && w.rowSnapshot != null ? w.rowSnapshot : null,
});

/**
 * The run row's columns a relaunch reads, without `runs.snapshot`: the snapshot comes from the
 * columns below (the row's or the journal's newest), so it is read and parsed once, not twice.
 */
const RUN_FIELDS = 'r.id, r.user_id, r.flow_id, r.flow_version, r.status, r.trigger_node_id, r.trigger, r.reason, r.error, r.started_at, r.updated_at, r.finished_at, r.owner, r.lease_epoch';

/**
 * The journal's deltas after the state at `seq` (an expression over the laterals before it), as
 * one jsonb array column `deltas`, in order: the read that finds a run's checkpoint brings its
 * deltas too, instead of a second statement per read (`withDeltas` applies them).
 */
const DELTAS_AFTER = (seq: string) => `left join lateral (
    select jsonb_agg(jsonb_build_object('seq', d.seq, 'base', d.base, 'delta', d.delta) order by d.seq) as deltas from run_journal d
     where d.run_id = r.id and d.seq > ${seq} and d.delta is not null) dl on true`;

/** The newest snapshot of a run: the journal's latest, or the run row's when that is newer. */
export const LATEST_SNAPSHOT = `left join lateral (
    select j.snapshot as j_snapshot, j.seq as j_seq from run_journal j
     where j.run_id = r.id and j.snapshot is not null order by j.seq desc limit 1) lj on true
  ${DELTAS_AFTER('greatest(r.snapshot_version, coalesce(lj.j_seq, 0))')}`;
export const SNAPSHOT_COLUMNS = `case when lj.j_seq > r.snapshot_version then lj.j_snapshot else r.snapshot end as snapshot,
    greatest(r.snapshot_version, coalesce(lj.j_seq, 0)) as snapshot_version,
    greatest(r.snapshot_version, coalesce(lj.j_seq, 0)) as state_seq, dl.deltas`;

/**
 * The state to *resume* from: the run row's snapshot (written at its last status change, or where
 * the run last came to rest) and the journal rows after it, as one json array `tail` (`withTail`
 * picks the newest checkpoint there and applies the deltas after it). One range scan of the journal's key per run, where three lookups
 * (newest checkpoint, deltas after it, highest seq) cost twice the time on a restart of 1,000 runs.
 * A snapshot whose actor status is `stopped` was written by runtimes before v2 on a graceful
 * shutdown; it has no children and would never move again, so the state before it is the one to
 * resume: for a run row holding one, the whole journal is read.
 */
const resumableTail = (when = 'true') => `left join lateral (
    select max(j.seq) as last_seq,
           json_agg(json_build_array(j.seq, j.base, j.delta, j.snapshot) order by j.seq)
             filter (where j.snapshot is not null or j.delta is not null) as tail
      from run_journal j
     where ${when} and j.run_id = r.id and j.seq > case when coalesce(r.snapshot->>'status', '') = 'stopped' then 0 else r.snapshot_version end) t on true`;
const RESUMABLE_SNAPSHOT = resumableTail();
const RESUMABLE_COLUMNS = 'r.snapshot, r.snapshot_version as state_seq, greatest(r.snapshot_version, t.last_seq) as snapshot_version, t.tail';

/**
 * A row read with `RESUMABLE_COLUMNS`: the run row's snapshot, and the journal's checkpoints and
 * deltas after it as `[seq, base, delta, snapshot]` (json, not jsonb: aggregating jsonb objects
 * cost twice the time when 1,000 woken runs each had a few deltas to bring).
 */
type WithTailColumn = Pick<RunRow, 'snapshot' | 'state_seq'> & { tail?: [number, number | null, Operation[] | null, unknown][] | null };

const stopped = (snapshot: unknown) => (snapshot as { status?: unknown } | null)?.status === 'stopped';

/**
 * Brings rows read with `RESUMABLE_COLUMNS` to the state to resume from: the newest checkpoint
 * (the run row's, or a later one of the journal's; never a `stopped` one), then the deltas taken
 * after it, each only if it was taken from the state reached so far (see `withDeltas`).
 */
function withTail<R extends WithTailColumn>(rows: R[]): Omit<R, 'tail'>[] {
  for (const row of rows) {
    const tail = row.tail;
    delete row.tail;
    if (stopped(row.snapshot)) {
      row.snapshot = null;
      row.state_seq = null;
    }
    if (!tail?.length) continue;
    let from = -1;
    for (let i = tail.length - 1; i >= 0; i--) {
      if (tail[i]![3] != null && !stopped(tail[i]![3])) {
        from = i;
        break;
      }
    }
    if (from >= 0) {
      row.snapshot = tail[from]![3] as RunRow['snapshot'];
      row.state_seq = tail[from]![0];
    }
    if (row.snapshot == null || row.state_seq == null) continue;
    applyDeltas(row, tail.slice(from + 1).map(([seq, base, delta]) => ({ seq, base, delta })));
  }
  return rows;
}

/** A row read with `SNAPSHOT_COLUMNS` or `RESUMABLE_COLUMNS`: its checkpoint, and the deltas after it. */
type WithDeltaColumn = Pick<RunRow, 'snapshot' | 'state_seq'> & { deltas?: { seq: number; base: number | null; delta: Operation[] }[] | null };

/**
 * Brings rows read with a checkpoint (`snapshot` at `state_seq`) up to their newest state: applies
 * the deltas read with it (the `deltas` column, dropped from the row), each only if it was taken
 * from the state reached so far (its `base`), so a delta whose base was never stored is passed
 * over, never misapplied.
 */
export function withDeltas<R extends WithDeltaColumn>(rows: R[]): Omit<R, 'deltas'>[] {
  for (const row of rows) {
    const list = row.deltas;
    delete row.deltas;
    if (!list?.length || row.snapshot == null || row.state_seq == null) continue;
    applyDeltas(row, list);
  }
  return rows;
}

/** Applies each delta taken from the state reached so far (its `base`) to the row's snapshot, in order. */
function applyDeltas(row: Pick<RunRow, 'snapshot' | 'state_seq'>, list: { seq: number; base: number | null; delta: Operation[] | null }[]) {
  let at = Number(row.state_seq);
  let doc = row.snapshot;
  for (const d of list) {
    if (!d.delta || Number(d.base) !== at) continue;
    doc = jsonPatch.applyPatch(doc, d.delta, false, true).newDocument;
    at = Number(d.seq);
  }
  row.snapshot = doc;
  row.state_seq = at;
}

const FINAL: RunStatus[] = ['completed', 'failed', 'skipped', 'cancelled', 'parked'];
export const isFinal = (s: RunStatus) => FINAL.includes(s);

/** A write the database did not take: the caller gets a typed error, the run resumes from what was stored. */
export class PersistError extends SwitchyardError {
  constructor(cause: unknown) {
    super('UNAVAILABLE', `The change could not be stored: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

interface Pending {
  w: SnapshotWrite;
  /** The write as its row of the batch parameter. */
  row: string;
  resolve: (o: WriteOutcome) => void;
  reject: (e: unknown) => void;
  /** Effects that commit with this write (`ride`). */
  riders?: Rider[];
}

/**
 * A write of another module committed by a run's queued step (an effect going with the step
 * that started its node, `RunStore.ride`): kept only when the step's fence holds, so it never
 * stands without its cause, and one commit for both.
 */
export interface Rider {
  /** What `RiderSql` writes (opaque to the store). */
  payload: unknown;
  /** Never two riders with one key in a statement. */
  key: string;
  /** Characters it adds to the statement (counted against the batch's size cap). */
  chars: number;
  /** With what the statement said of it (`RiderSql`'s outcome), once it committed. */
  resolve: (outcome: unknown) => void;
  reject: (e: unknown) => void;
}

/** What a rider is made of, before it is queued (`Ride.attach` hands one over). */
export type RiderWrite = Pick<Rider, 'payload' | 'key' | 'chars'>;

/**
 * The SQL of a batch's riders: CTEs (named `e_…`, after the batch's own) writing `payloads`, each
 * only where its run is in `kept` (a query of the run ids whose writes the fence kept); their
 * parameters, in order; and a query of one row per payload, `ri` (its index) and `outcome`.
 */
export type RiderSql = (payloads: unknown[], kept: string) => { ctes: string; params: unknown[]; outcomes: string };

/**
 * A rider's step was sent without it (it was in flight already) or its statement failed: the
 * effect is written on its own once the step committed. Nothing of it was stored.
 */
export class RideMissed extends Error {
  constructor() {
    super('the step this effect went with was written without it');
  }
}

/** A run to insert (`RunStore.insert`). */
export interface NewRun {
  id: string; userId: string; flowId: string; version: number; triggerNodeId: string; trigger: RunRow['trigger']; at: string; owner?: Lease;
  /**
   * The inbox event this run is the only start of: the statement that inserts the run marks the
   * event processed (whether the run was new or there already), so a crash leaves both or neither.
   */
  inboxEvent?: string;
}

/**
 * Inserts runs in one statement; the ids inserted (an id that exists already is not). The same
 * statement marks `inboxEvents` processed.
 */
const inboxEventsOf = (runs: NewRun[]) => runs.flatMap((r) => (r.inboxEvent ? [r.inboxEvent] : []));

/** A run to insert as its row of the insert's parameter. */
const runRow = (r: NewRun) => JSON.stringify({
  id: r.id, user_id: r.userId, flow_id: r.flowId, flow_version: r.version, trigger_node_id: r.triggerNodeId, trigger: r.trigger, at: r.at, owner: r.owner?.instanceId ?? null,
});

async function insertRuns(em: EntityManager, runs: NewRun[], inboxEvents = inboxEventsOf(runs), json = runs.map(runRow)): Promise<Set<string>> {
  // The runs as one jsonb parameter, as the group commit of steps sends its batch (writeBatch).
  const insert = `insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot, snapshot_version, started_at, updated_at, owner, lease_epoch)
     select id, user_id, flow_id, flow_version, 'running', trigger_node_id, trigger, null, 0, at, at, owner, 1
       from jsonb_to_recordset(?::jsonb) as x(id uuid, user_id uuid, flow_id uuid, flow_version int, trigger_node_id text, trigger jsonb, at timestamptz, owner text)
     on conflict (id) do nothing returning id`;
  const values = [`[${json.join(',')}]`];
  const rows = inboxEvents.length
    ? await sql<{ id: string }>(em,
      `with ins as (${insert}),
         processed as (update inbox set processed_at = ?::timestamptz where id = any(?::uuid[]) and processed_at is null)
       select id from ins`,
      [...values, runs[0]!.at, `{${inboxEvents.join(',')}}`])
    : await sql<{ id: string }>(em, insert, values);
  return new Set(rows.map((x) => x.id));
}

/** A run's write lane: its writes always take the same one, so they commit in order. */
const laneOf = (runId: string, lanes: number) => {
  if (lanes === 1) return 0;
  let h = 0;
  for (let i = 0; i < runId.length; i++) h = (h * 31 + runId.charCodeAt(i)) | 0;
  return Math.abs(h) % lanes;
};

/**
 * Persistence of runs: snapshot + journal in one statement (one round trip per batch of steps).
 * With `lanes` > 1 (PostgreSQL, whose server runs statements side by side) runs are split over
 * that many group commits in flight at once; a run's writes all take one lane, in order, and two
 * lanes never hold the same run's row, so they do not wait on each other's locks.
 */
export function createRunStore(em: () => EntityManager, opts: { maxBatch?: number; maxBatchChars?: number; notify?: boolean; lanes?: number; riders?: RiderSql } = {}) {
  const maxBatch = opts.maxBatch ?? 200;
  // A batch is one jsonb parameter, and jsonb values end at 256 MB: many big checkpoints queued at
  // once (a burst of runs carrying large payloads) are split over several statements instead.
  const maxBatchChars = opts.maxBatchChars ?? MAX_BATCH_CHARS;
  /** How many of the queued items the next statement takes: up to maxBatch and maxBatchChars of rows, at least one. */
  const sizeOf = (p: { row: string; riders?: Rider[] }) => p.row.length + (p.riders?.reduce((n, r) => n + r.chars, 0) ?? 0);
  const batchLength = (queue: { row: string; riders?: Rider[] }[]) => {
    let size = 0;
    let n = 0;
    while (n < queue.length && n < maxBatch && (n === 0 || size + sizeOf(queue[n]!) <= maxBatchChars)) size += sizeOf(queue[n++]!);
    return n;
  };
  const notify = opts.notify ?? false;
  const lanes = Array.from({ length: Math.max(1, Math.floor(opts.lanes ?? 1)) }, () => ({ pending: [] as Pending[], flushing: false }));
  const laneFor = (runId: string) => lanes[laneOf(runId, lanes.length)]!;
  /**
   * Runs with a write the database did not take. Their later writes are refused here until the run
   * is relaunched from what was stored (`reset`): a delta written after a lost step would be taken
   * from a state the journal does not hold.
   */
  const broken = new Set<string>();
  /** Rejects the run's queued (not yet sent) writes with `reason()`. */
  const drop = (runId: string, reason: () => unknown) => {
    const lane = laneFor(runId);
    const dropped = lane.pending.filter((p) => p.w.runId === runId);
    if (!dropped.length) return;
    lane.pending = lane.pending.filter((p) => p.w.runId !== runId);
    const why = reason();
    for (const p of dropped) {
      p.reject(why);
      for (const r of p.riders ?? []) r.reject(why);
    }
  };
  const breakRun = (runId: string, cause: unknown) => {
    broken.add(runId);
    drop(runId, () => new PersistError(cause));
  };

  let inserts: { r: NewRun; row: string; resolve: (created: boolean) => void; reject: (e: unknown) => void }[] = [];
  let insertsFlushing = false;
  async function flushInserts() {
    insertsFlushing = true;
    while (inserts.length) {
      const batch = inserts.slice(0, batchLength(inserts));
      inserts = inserts.slice(batch.length);
      // The same id twice in one batch: the first is the insert, the other finds it there.
      const first = new Map<string, (typeof batch)[number]>();
      for (const b of batch) if (!first.has(b.r.id)) first.set(b.r.id, b);
      try {
        const firsts = [...first.values()];
        const created = await insertRuns(em(), firsts.map((b) => b.r), inboxEventsOf(batch.map((b) => b.r)), firsts.map((b) => b.row));
        for (const b of batch) b.resolve(created.has(b.r.id) && first.get(b.r.id) === b);
      } catch (e) {
        // One bad run must not fail the others: each is tried on its own.
        if (batch.length === 1) batch[0]!.reject(e);
        else {
          for (const b of batch) {
            try {
              b.resolve((await insertRuns(em(), [b.r], inboxEventsOf([b.r]), [b.row])).has(b.r.id));
            } catch (err) {
              b.reject(err);
            }
          }
        }
      }
    }
    insertsFlushing = false;
  }

  /** Takes the riders off a batch's writes: they are written on their own, after (`RideMissed`). */
  const unride = (batch: Pending[]) => {
    for (const b of batch) {
      for (const r of b.riders ?? []) r.reject(new RideMissed());
      delete b.riders;
    }
  };

  async function send(batch: Pending[]) {
    const t0 = performance.now();
    const riders = batch.flatMap((b) => b.riders ?? []);
    const rows = await writeBatch(em(), batch.map((b) => b.row), notify, needsOf(batch.map((b) => b.w)),
      riders.length && opts.riders ? opts.riders(riders.map((r) => r.payload), 'select run_id from ok') : undefined);
    const stored = new Set<string>();
    const answered = new Set<number>();
    for (const r of rows) {
      if (r.ri === null) stored.add(`${r.run_id}#${r.seq}`);
      else {
        riders[r.ri]!.resolve(r.outcome);
        answered.add(r.ri);
      }
    }
    // Each rider has its row; one without would otherwise never settle.
    riders.forEach((r, i) => answered.has(i) || r.reject(new RideMissed()));
    for (const b of batch) b.resolve(stored.has(`${b.w.runId}#${b.w.version}`) ? 'stored' : 'fenced');
    recordCommit(batch.length, batch.filter((b) => !stored.has(`${b.w.runId}#${b.w.version}`)).length, (performance.now() - t0) / 1000);
  }

  async function flush(lane: (typeof lanes)[number]) {
    lane.flushing = true;
    while (lane.pending.length) {
      const batch = lane.pending.slice(0, batchLength(lane.pending));
      lane.pending = lane.pending.slice(batch.length);
      try {
        await send(batch);
      } catch (e) {
        // An effect that went with a step must not fail it (a contact deleted since): the steps
        // are sent again without their riders, which are then written on their own.
        if (batch.some((b) => b.riders?.length)) {
          unride(batch);
          lane.pending.unshift(...batch);
          continue;
        }
        // One run's bad write must not fail the others: retry each run's writes on their own.
        const byRun = new Map<string, Pending[]>();
        for (const b of batch) byRun.set(b.w.runId, [...(byRun.get(b.w.runId) ?? []), b]);
        if (byRun.size === 1) {
          for (const b of batch) b.reject(new PersistError(e));
          breakRun(batch[0]!.w.runId, e);
          continue;
        }
        for (const [runId, group] of byRun) {
          try {
            await send(group);
          } catch (err) {
            for (const b of group) b.reject(new PersistError(err));
            breakRun(runId, err);
          }
        }
      }
    }
    lane.flushing = false;
  }

  /** Runs with the snapshot each resumes from, read by one statement (parked runs woken together). */
  async function resumableMany(runIds: string[]) {
    if (!runIds.length) return [];
    return withTail(await sql<RunRow>(em(), `select ${RUN_FIELDS}, ${RESUMABLE_COLUMNS} from runs r ${RESUMABLE_SNAPSHOT} where r.id = any(?::uuid[])`, [`{${runIds.join(',')}}`]));
  }

  return {
    /**
     * Inserts a run owned by `owner` (epoch 1); false when the id exists already (an event processed
     * twice). Inside a transaction (`tx`) it is that transaction's statement; otherwise runs started
     * at the same time are group-committed: one multi-row insert instead of one commit each.
     */
    async insert(r: NewRun, tx?: EntityManager) {
      if (tx) return (await insertRuns(tx, [r])).has(r.id);
      return new Promise<boolean>((resolve, reject) => {
        inserts.push({ r, row: runRow(r), resolve, reject });
        if (!insertsFlushing) void flushInserts();
      });
    },

    /**
     * Takes ownership of active runs nobody holds: unowned, owned by a process whose lease expired,
     * (with `mine`) owned by this instance id before a restart, or (with `all`) every one. Each
     * claim bumps the run's epoch, which fences off the previous owner. Rows are locked in id order,
     * skipping rows another statement holds. Returns them with their newest resumable snapshot and
     * the epoch this claim set. With `parkTimed`, runs that wait with a timer row stored are claimed
     * but not returned (they stay parked until a timer or a command wakes them): `parked` counts them.
     */
    async claim(lease: Lease, o: { mine: boolean; all?: boolean; skip?: string[]; limit?: number; parkTimed?: boolean }): Promise<RunRow[] & { parked?: number }> {
      // One statement claims and reads: the claimed rows come back with the state to resume from
      // (the epoch is the one this claim set), except the parked ones, which come back as ids.
      const claimed = await sql<RunRow & { parked: boolean; tail?: unknown }>(em(),
        `with c as (
           select id from runs
            where status in ('running', 'waiting')
              and (? or owner is null or (? and owner = ?)
                   or (owner <> ? and not exists (select 1 from runtime_instances i where i.id = runs.owner and i.lease_until >= now())))
              and not (id = any(?::uuid[]))
            order by id limit ? for no key update skip locked),
         u as (
           update runs r set owner = ?, lease_epoch = r.lease_epoch + 1
             from c where r.id = c.id
           returning r.*, (? and r.status = 'waiting' and exists (select 1 from timers t where t.run_id = r.id and t.fired_at is null)) as parked)
         select r.parked, r.id, r.user_id, r.flow_id, r.flow_version, r.status, r.trigger_node_id, r.reason, r.error, r.started_at, r.updated_at, r.finished_at,
                r.owner, r.lease_epoch, case when r.parked then null else r.trigger end as trigger,
                case when r.parked then null else r.snapshot end as snapshot, r.snapshot_version as state_seq,
                greatest(r.snapshot_version, t.last_seq) as snapshot_version, t.tail
           from u r ${resumableTail('not r.parked')}
          order by r.started_at`,
        [o.all ?? false, o.mine, lease.instanceId, lease.instanceId, `{${(o.skip ?? []).join(',')}}`, o.limit ?? 1_000_000, lease.instanceId, o.parkTimed ?? false]);
      const toLaunch = claimed.filter((c) => !c.parked);
      for (const row of toLaunch) delete (row as { parked?: boolean }).parked;
      return Object.assign(withTail(toLaunch as (RunRow & { tail?: never })[]), { parked: claimed.length - toLaunch.length });
    },

    /**
     * Runs owned here (or, without a lease, any) that are not live and have something to do: a
     * timer due before `horizon`, or a command not yet applied. Indexed: timers by due time,
     * commands by run where unapplied.
     */
    async wakeable(owner: string | null, horizon: string, limit = 1000) {
      const rows = await sql<{ run_id: string }>(em(),
        `select t.run_id from timers t join runs r on r.id = t.run_id
          where t.fired_at is null and t.due_at <= ? and r.status in ('running', 'waiting') and (?::text is null or r.owner = ?)
         union
         select c.run_id from run_commands c join runs r on r.id = c.run_id
          where c.applied_at is null and r.status in ('running', 'waiting') and (?::text is null or r.owner = ?)
         limit ?`,
        [horizon, owner, owner, owner, owner, limit]);
      return rows.map((r) => r.run_id);
    },

    /**
     * Renews this process's lease (one row, whatever the number of runs it executes). When the
     * lease had lapsed, other processes may have adopted some of its runs: then it learns which of
     * `runs` it still holds (same owner and epoch), and every other one is reported lost.
     */
    async heartbeat(lease: Lease, runs: { id: string; epoch: number }[]) {
      const [row] = await sql<{ lapsed: boolean }>(em(),
        `with prev as (select lease_until < now() as lapsed from runtime_instances where id = ?)
         insert into runtime_instances (id, lease_until) values (?, now() + ? * interval '1 millisecond')
         on conflict (id) do update set lease_until = excluded.lease_until
         returning coalesce((select lapsed from prev), true) as lapsed`,
        [lease.instanceId, lease.instanceId, lease.leaseMs]);
      if (!row?.lapsed || runs.length === 0) return new Set(runs.map((r) => r.id));
      const held = await sql<{ id: string }>(em(),
        `select r.id from runs r join unnest(?::uuid[], ?::bigint[]) as m(id, epoch) on m.id = r.id where r.owner = ? and r.lease_epoch = m.epoch`,
        [`{${runs.map((r) => r.id).join(',')}}`, `{${runs.map((r) => r.epoch).join(',')}}`, lease.instanceId]);
      return new Set(held.map((r) => r.id));
    },

    /** Voids the leases of instances `dead` recognises (crashed processes of this host). */
    async expireInstances(dead: (id: string) => boolean) {
      return voidDeadLeases(em(), dead);
    },

    /**
     * Gives up this process's runs (live and parked) on a graceful stop, so any process may claim
     * them at once: its lease row is deleted, and a run whose owner holds no live lease is free to
     * claim (`claim`), as a crashed owner's are once its lease lapses. One row, whatever the
     * number of runs: clearing `owner` on each of them cost a write per run (1,000 index-updating
     * row versions for 1,000 parked runs) on every deploy.
     */
    async release(lease: Lease) {
      await sql(em(), 'delete from runtime_instances where id = ?', [lease.instanceId]);
    },

    /**
     * Appends a step (journal row with the snapshot; the run row on status changes). Writes that
     * arrive while a statement is in flight are group-committed into the next one, in order.
     * Resolves once committed ('stored') or refused by the fence ('fenced'); rejects with a
     * PersistError when the database did not take it.
     */
    write: (w: SnapshotWrite): Promise<WriteOutcome> =>
      new Promise<WriteOutcome>((resolve, reject) => {
        if (broken.has(w.runId)) {
          reject(new PersistError(new Error('an earlier write of this run was not stored')));
          return;
        }
        let row: string;
        try {
          row = batchRow(w);
        } catch (e) {
          // A state JSON cannot hold (a BigInt, a cycle): not stored, and nothing after it either.
          reject(new PersistError(e));
          breakRun(w.runId, e);
          return;
        }
        const lane = laneFor(w.runId);
        lane.pending.push({ w, row, resolve, reject });
        if (lane.flushing) return;
        if (w.awaitsRider && opts.riders) {
          lane.flushing = true;
          setImmediate(() => void flush(lane));
        } else void flush(lane);
      }),

    /**
     * Puts an effect on the run's newest write still queued (not sent), to be written by the same
     * statement, kept only where that write's fence holds. False when the run has no write queued,
     * or a rider with the same key waits in its lane (never two in one statement), or the store
     * was made without `riders`: then the effect is written on its own after the step committed.
     */
    ride(runId: string, rider: Rider): boolean {
      if (!opts.riders || broken.has(runId)) return false;
      const lane = laneFor(runId);
      let last: Pending | undefined;
      for (const p of lane.pending) {
        if (p.riders?.some((r) => r.key === rider.key)) return false;
        if (p.w.runId === runId) last = p;
      }
      if (!last) return false;
      (last.riders ??= []).push(rider);
      return true;
    },

    /** The run was relaunched from what was stored: its writes are taken again. */
    reset(runId: string) {
      broken.delete(runId);
    },

    /** Drops the queued (not yet sent) writes of a run, rejecting them with `reason()`: the run resumes from what was stored. */
    discard(runId: string, reason: () => unknown) {
      drop(runId, reason);
    },

    async get(userId: string, runId: string) {
      const row = await sqlOne<RunRow>(em(), `select r.*, ${SNAPSHOT_COLUMNS} from runs r ${LATEST_SNAPSHOT} where r.id = ? and r.user_id = ?`, [runId, userId]);
      return row ? withDeltas([row])[0]! : null;
    },

    /** A run with the snapshot to resume from (restore after a failed write). */
    async resumable(runId: string) {
      return (await resumableMany([runId]))[0] ?? null;
    },

    resumableMany,

    async active() {
      return withTail(await sql<RunRow>(em(), `select ${RUN_FIELDS}, ${RESUMABLE_COLUMNS} from runs r ${RESUMABLE_SNAPSHOT} where r.status in ('running', 'waiting') order by r.started_at`));
    },

    /** Ends a run that cannot go on (a broken snapshot): `failed`, or `parked` when its machine is of an unknown format. */
    async markEnded(runId: string, status: 'failed' | 'parked', error: { code: string; message: string }, at: string) {
      await sql(em(), `update runs set status = ?, error = ?, reason = ?, finished_at = ?, updated_at = ?, owner = null where id = ?`,
        [status, error, status === 'parked' ? error.message : null, status === 'failed' ? at : null, at, runId]);
    },
  };
}
export type RunStore = ReturnType<typeof createRunStore>;
