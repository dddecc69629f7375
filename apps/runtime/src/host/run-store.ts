import type { EntityManager } from '@mikro-orm/postgresql';
import type { RunStatus } from '@switchyard/actors';
import { sql, sqlOne } from './db';

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
}

/** This process's claim on the runs it executes. */
export interface Lease {
  instanceId: string;
  leaseMs: number;
}

export interface JournalEntry {
  kind: 'state' | 'restored' | 'error';
  eventType: string | null;
  nodeId: string | null;
  data: unknown;
}

export interface SnapshotWrite {
  runId: string;
  version: number;
  snapshot: unknown;
  status: RunStatus;
  reason: string | null;
  error: unknown;
  at: string;
  finished: boolean;
  /** Rewrite the run row too (status changed, or the run ended). */
  touchRun: boolean;
  journal: JournalEntry;
}

const ROW = '(?::uuid, ?::jsonb, ?::int, ?::text, ?::text, ?::jsonb, ?::timestamptz, ?::boolean, ?::boolean, ?::text, ?::text, ?::text, ?::jsonb)';

/**
 * One statement for many writes (several runs, several versions of one run). Every step appends a
 * journal row carrying the snapshot (an event-log insert); the `runs` row is rewritten only when a
 * run's status changes, with the newest such write of the batch. `unique (run_id, seq)` turns a
 * stale writer's row into a no-op, which is reported back.
 */
function writeBatch(em: EntityManager, writes: SnapshotWrite[]) {
  if (!writes.some((w) => w.touchRun)) {
    return sql<{ run_id: string; seq: number }>(em,
      `insert into run_journal (run_id, seq, at, kind, event_type, node_id, snapshot, data)
       values ${writes.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
       on conflict (run_id, seq) do nothing returning run_id, seq`,
      writes.flatMap((w) => [w.runId, w.version, w.at, w.journal.kind, w.journal.eventType, w.journal.nodeId, w.snapshot, w.journal.data ?? null]));
  }
  const params = writes.flatMap((w) => [
    w.runId, w.snapshot, w.version, w.status, w.reason, w.error ?? null, w.at, w.finished, w.touchRun,
    w.journal.kind, w.journal.eventType, w.journal.nodeId, w.journal.data ?? null,
  ]);
  return sql<{ run_id: string; seq: number }>(em,
    `with v (run_id, snapshot, version, status, reason, error, at, finished, touch, kind, event_type, node_id, data) as (
       values ${writes.map(() => ROW).join(', ')}),
     ins as (
       insert into run_journal (run_id, seq, at, kind, event_type, node_id, snapshot, data)
       select run_id, version, at, kind, event_type, node_id, snapshot, data from v
       on conflict (run_id, seq) do nothing returning run_id, seq),
     latest as (
       select distinct on (v.run_id) v.* from v join ins on ins.run_id = v.run_id and ins.seq = v.version
        where v.touch order by v.run_id, v.version desc),
     upd as (
       update runs r set snapshot = l.snapshot, snapshot_version = l.version, status = l.status, reason = l.reason, error = l.error,
              updated_at = l.at, finished_at = case when l.finished then l.at else r.finished_at end
         from latest l where r.id = l.run_id and r.snapshot_version < l.version returning r.id)
     select run_id, seq from ins`,
    params);
}

/** The newest snapshot of a run: the journal's latest, or the run row's when that is newer. */
export const LATEST_SNAPSHOT = `left join lateral (
    select j.snapshot as j_snapshot, j.seq as j_seq from run_journal j
     where j.run_id = r.id and j.snapshot is not null order by j.seq desc limit 1) lj on true`;
export const SNAPSHOT_COLUMNS = `case when lj.j_seq > r.snapshot_version then lj.j_snapshot else r.snapshot end as snapshot,
    greatest(r.snapshot_version, coalesce(lj.j_seq, 0)) as snapshot_version`;

const FINAL: RunStatus[] = ['completed', 'failed', 'skipped', 'cancelled'];
export const isFinal = (s: RunStatus) => FINAL.includes(s);

/** Persistence of runs: snapshot + journal in one statement (one round trip per step). */
export function createRunStore(em: () => EntityManager, opts: { maxBatch?: number } = {}) {
  const maxBatch = opts.maxBatch ?? 200;
  let pending: { w: SnapshotWrite; resolve: (ok: boolean) => void; reject: (e: unknown) => void }[] = [];
  let flushing = false;

  async function flush() {
    flushing = true;
    while (pending.length) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(batch.length);
      try {
        const ok = new Set((await writeBatch(em(), batch.map((b) => b.w))).map((r) => `${r.run_id}#${r.seq}`));
        for (const b of batch) b.resolve(ok.has(`${b.w.runId}#${b.w.version}`));
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    flushing = false;
  }

  return {
    /** Inserts a run; false when the id exists already (an inbox event processed twice). */
    async insert(r: { id: string; userId: string; flowId: string; version: number; triggerNodeId: string; trigger: RunRow['trigger']; at: string; owner?: Lease }) {
      const rows = await sql(em(),
        `insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot, snapshot_version, started_at, updated_at, owner, lease_until)
         values (?, ?, ?, ?, 'running', ?, ?, null, 0, ?, ?, ?, now() + ? * interval '1 millisecond') on conflict (id) do nothing returning id`,
        [r.id, r.userId, r.flowId, r.version, r.triggerNodeId, r.trigger, r.at, r.at, r.owner?.instanceId ?? null, r.owner?.leaseMs ?? 0]);
      return rows.length > 0;
    },

    /**
     * Takes ownership of active runs nobody holds: unowned, lease expired, or (with `mine`) owned
     * by this instance id before a restart. Returns them with their newest snapshot.
     */
    async claim(lease: Lease, opts: { mine: boolean; all?: boolean; skip?: string[] }) {
      const claimed = await sql<{ id: string }>(em(),
        `update runs set owner = ?, lease_until = now() + ? * interval '1 millisecond'
          where status in ('running', 'waiting')
            and (? or owner is null or lease_until < now() or (? and owner = ?))
            and not (id = any(?::uuid[]))
          returning id`,
        [lease.instanceId, lease.leaseMs, opts.all ?? false, opts.mine, lease.instanceId, `{${(opts.skip ?? []).join(',')}}`]);
      if (claimed.length === 0) return [];
      return sql<RunRow>(em(),
        `select r.*, ${SNAPSHOT_COLUMNS} from runs r ${LATEST_SNAPSHOT} where r.id = any(?::uuid[]) order by r.started_at`,
        [`{${claimed.map((c) => c.id).join(',')}}`]);
    },

    /** Extends this instance's leases on the given live runs. */
    async heartbeat(lease: Lease, runIds: string[]) {
      if (runIds.length === 0) return;
      await sql(em(),
        `update runs set lease_until = now() + ? * interval '1 millisecond' where owner = ? and id = any(?::uuid[])`,
        [lease.leaseMs, lease.instanceId, `{${runIds.join(',')}}`]);
    },

    /**
     * Appends a step (journal row with the snapshot; the run row on status changes). Writes that
     * arrive while a statement is in flight are group-committed into the next one, in order.
     */
    write: (w: SnapshotWrite): Promise<boolean> =>
      new Promise<boolean>((resolve, reject) => {
        pending.push({ w, resolve, reject });
        if (!flushing) void flush();
      }),

    async get(userId: string, runId: string) {
      return sqlOne<RunRow>(em(), `select r.*, ${SNAPSHOT_COLUMNS} from runs r ${LATEST_SNAPSHOT} where r.id = ? and r.user_id = ?`, [runId, userId]);
    },

    async active() {
      return sql<RunRow>(em(), `select r.*, ${SNAPSHOT_COLUMNS} from runs r ${LATEST_SNAPSHOT} where r.status in ('running', 'waiting') order by r.started_at`);
    },

    async markFailed(runId: string, error: { code: string; message: string }, at: string) {
      await sql(em(), `update runs set status = 'failed', error = ?, finished_at = ?, updated_at = ? where id = ?`, [error, at, at, runId]);
    },
  };
}
export type RunStore = ReturnType<typeof createRunStore>;
