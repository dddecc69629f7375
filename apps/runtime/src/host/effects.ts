import { createHash } from 'node:crypto';
import { SwitchyardError } from '@switchyard/schema';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ContactRef, CrmPort, EffectMeta, MemoryPort, OutboundPort, Ride } from '@switchyard/actors';
import type { RuntimeClock } from './clock';
import { rowRecord, sql, sqlOne } from './db';
import { createGroupCommit } from './group-commit';
import { RideMissed, type RiderWrite } from './run-store';
import { announceNotificationChange } from '../notifications/events';
import { notificationStatement, raiseNotification } from '../notifications/raise';
import { createCrmQueries } from '../crm/crm-queries';
import { CrmStore } from '../crm/crm.service';

/** sha256 of the attempt-independent effect key: the same on every retry and after a crash. */
export const idempotencyKey = (meta: EffectMeta) => createHash('sha256').update(meta.effectKey).digest('hex');

/**
 * Fencing of a run's effects: `check` reads the run's row (share-locked) and throws unless this
 * process still owns it under the epoch it claimed; `claim` gives that (owner, epoch) for the
 * ledger to check in its own claiming statement (null: no leases, nothing to check), and `lost`
 * tells the host a check failed.
 */
export interface Fence {
  check(em: EntityManager, runId: string): Promise<void>;
  claim(runId: string): { owner: string; epoch: number } | null;
  lost(runId: string): void;
}

export interface EffectDeps {
  em: () => EntityManager;
  clock: RuntimeClock;
  outbound: { request(r: { url: string; method: string; headers: Record<string, string>; body?: string; timeoutMs?: number }): Promise<{ status: number; body: string }> };
  /**
   * Fencing: throws unless this process still owns the run under the epoch it claimed (checked in
   * the effect's own transaction, with the run's row share-locked so no claim can slip in before
   * the effect commits). Set by the host once it exists.
   */
  fence?: Fence;
  /** Test-only fault injection: kill the process right after a node's effect commits. */
  crashAfter?: { effectOf?: string; sendOf?: string };
  /**
   * Group-commit the one-statement effects of concurrent runs (`createEffectGroups`), with this
   * many statements in flight. Only where `em` is not one transaction's (a group is its own).
   */
  groupCommit?: { lanes: number };
}

const crash = (nodeId: string, which: string | undefined) => {
  if (which && which === nodeId) process.kill(process.pid, 'SIGKILL');
};

/** The write was done before: its transaction is rolled back and the first result returned. */
class DoneBefore {
  constructor(readonly prior: unknown) {}
}

/**
 * The claim of an effect's ledger row, as the CTEs `f` (the run's fence: its row share-locked,
 * still ours under our epoch; nothing to check without leases) and `ins` (the row, with `result`,
 * inserted unless the key is there). Its params come first in the statement's.
 */
function claimSql(meta: EffectMeta, key: string, kind: string, now: string, result: unknown, fence?: EffectDeps['fence']) {
  const held = fence?.claim(meta.runId) ?? null;
  return {
    text: `f as (${held ? 'select 1 as ok from runs where id = ? and owner = ? and lease_epoch = ? for share' : 'select 1 as ok'}),
       ins as (
         insert into effects (idempotency_key, user_id, run_id, node_id, kind, result, created_at)
         select ?, ?, ?, ?, ?, ?::jsonb, ? from f on conflict (idempotency_key) do nothing returning idempotency_key)`,
    params: [...(held ? [meta.runId, held.owner, held.epoch] : []), key, meta.userId, meta.runId, meta.nodeId, kind, result ?? null, now],
  };
}

/** The ledger's row for a key (its first result), or null when the effect was never done. */
const ledgerRow = <T>(em: EntityManager, key: string) => sqlOne<{ result: T }>(em, 'select result from effects where idempotency_key = ?', [key]);

/**
 * The effect ledger, the one both workflows and agents use (agents/ledger.ts). A visible effect and
 * its ledger row commit in one transaction, keyed by the idempotency key; re-running the step after
 * a crash finds the row and returns the first result, so a person never sees a duplicate draft,
 * task or notification. `fence` (runs) refuses the write unless this process still owns the run.
 *
 * The write goes first and the ledger row is claimed with its result by the statement after it
 * (with the fence check): one round trip less than claiming, writing and then storing the result,
 * and the run's row is share-locked only from that statement to the commit. When the key was taken
 * (a step re-run after a crash) the transaction is rolled back, the write with it, and the first
 * result returned; likewise when the write itself fails but the ledger already holds the effect.
 */
export async function onceInLedger<T>(
  em: EntityManager, now: string, meta: EffectMeta, kind: string, write: (tx: EntityManager) => Promise<T>,
  fence?: EffectDeps['fence'],
): Promise<T> {
  const key = idempotencyKey(meta);
  let wrote = false;
  try {
    return await em.transactional(async (tx) => {
      const value = await write(tx);
      wrote = true;
      const claim = claimSql(meta, key, kind, now, value, fence);
      const [row] = await sql<{ held: number; claimed: number; prior: T | null }>(tx,
        `with ${claim.text}
         select (select count(*) from f)::int as held, (select count(*) from ins)::int as claimed,
                (select result from effects where idempotency_key = ?) as prior`,
        [...claim.params, key]);
      if (!row!.held) {
        fence?.lost(meta.runId);
        throw new SwitchyardError('CONFLICT', 'Another process owns this run now');
      }
      if (!row!.claimed) throw new DoneBefore(row!.prior);
      return value;
    });
  } catch (e) {
    // Done before: the first result (read again when its row committed while the claim waited on it).
    if (e instanceof DoneBefore) return (e.prior as T | null) ?? (await ledgerRow<T>(em, key))?.result ?? (null as T);
    // The write failed (a record it needs is gone since): if the effect was done before, its result stands.
    if (!wrote) {
      const done = await ledgerRow<T>(em, key).catch(() => null);
      if (done) return done.result;
    }
    throw e;
  }
}

/**
 * A write the ledger makes in one statement with its claim, written so that many of one `shape`
 * (drafts, tasks, notifications, memory entries) are one CTE over a jsonb array of their rows:
 * a group commit of many runs' effects is then one statement whose text, and plan, do not grow
 * with the group (one of CTEs per effect took 0.5 ms per effect just to plan).
 */
export interface LedgerWrite<T> {
  /** Writes of the same shape share `ctes`. */
  shape: string;
  /**
   * The CTEs (their names prefixed with `p`) that write the rows of the jsonb array parameter,
   * their one `?`: each row is `row` with the ledger key `_key` and its place `_i`, and only rows
   * `r` meeting `where` (the claim took `r._key`) are written.
   */
  ctes: (p: string, where: string) => string;
  row: Record<string, unknown>;
  result: T;
}

/** One effect of a statement: its ledger key, the write and the fence it holds the run under (null: no leases). */
interface StatementEffect {
  meta: EffectMeta;
  kind: string;
  key: string;
  now: string;
  write: LedgerWrite<unknown>;
  /** `write.row` as JSON, serialized once when the effect is queued. */
  row: string;
  held: { owner: string; epoch: number } | null;
}

/**
 * The most characters of rows one group's statement carries (more goes in the next): a group is
 * a few jsonb values, and a jsonb value ends at 256 MB (rows can carry big rendered texts).
 */
const MAX_GROUP_CHARS = 32 * 1024 * 1024;

/** What the statement says of one effect: the fence held, the claim took the key, and the first result when it did not. */
interface EffectRow { i: number; held: boolean; claimed: boolean; prior: unknown }

const EFFECT_COLUMNS = '_i int, _key text, user_id uuid, run_id uuid, node_id text, kind text, result jsonb, created_at timestamptz, owner text, epoch bigint';

/**
 * The CTEs that claim a group's ledger rows and write them (prefixed `p`): `held(b)` says whose
 * fence holds (`after`, CTEs that need the effects `b` first); one CTE per shape writes the rows
 * whose claim took its key. `outcomes` reads back one `EffectRow` per effect.
 */
function ledgerCtes(items: StatementEffect[], p: string, held: (b: string) => string, after = '') {
  const shapes = new Map<string, { write: LedgerWrite<unknown>; rows: string[] }>();
  items.forEach((e, i) => {
    const s = shapes.get(e.write.shape) ?? { write: e.write, rows: [] };
    s.rows.push(`{"_key":${JSON.stringify(e.key)},"_i":${i}${e.row.length > 2 ? `,${e.row.slice(1)}` : '}'}`);
    shapes.set(e.write.shape, s);
  });
  const effects = items.map((e, i) => JSON.stringify({
    _i: i, _key: e.key, user_id: e.meta.userId, run_id: e.meta.runId, node_id: e.meta.nodeId, kind: e.kind, result: e.write.result ?? null,
    created_at: e.now, owner: e.held?.owner ?? null, epoch: e.held?.epoch ?? null,
  }));
  const writes = [...shapes.values()].map((s, k) => s.write.ctes(`${p}w${k}_`, `r._key in (select idempotency_key from ${p}ins)`));
  return {
    /** `${p}b` (the effects), `${p}f` (those whose fence holds), `${p}ins` (the ledger rows claimed) and the writes. */
    ctes: `${p}b as (select * from jsonb_to_recordset(?::jsonb) as x(${EFFECT_COLUMNS})),${after}
     ${p}f as (select b.* from ${p}b b where ${held('b')}),
     ${p}ins as (
       insert into effects (idempotency_key, user_id, run_id, node_id, kind, result, created_at)
       select _key, user_id, run_id, node_id, kind, result, created_at from ${p}f order by _i
       on conflict (idempotency_key) do nothing returning idempotency_key),
     ${writes.join(',\n')}`,
    params: [`[${effects.join(',')}]`, ...[...shapes.values()].map((s) => `[${s.rows.join(',')}]`)],
    /** Per effect: `i`, `held`, `claimed`, `prior` (`EffectRow`). */
    outcomes: `select b._i as i, b._key in (select _key from ${p}f) as held, b._key in (select idempotency_key from ${p}ins) as claimed,
            (select result from effects e where e.idempotency_key = b._key) as prior
       from ${p}b b`,
  };
}

/**
 * One statement for a group of effects (of several runs), as the run store's group commit of
 * steps: the fenced runs' rows are share-locked first, in id order (the run store's batches, the
 * heartbeat and claims lock in that order too, so it never deadlocks with them); the ledger rows
 * are claimed, with their results, for the effects whose fence holds; each shape's CTE writes the
 * rows whose claim took its key. One round trip and one commit for the group. A row per effect
 * tells what happened to it.
 */
function effectsStatement(em: EntityManager, items: StatementEffect[]) {
  const { ctes, params, outcomes } = ledgerCtes(items, '',
    (b) => `${b}.owner is null or exists (select 1 from fence where fence.id = ${b}.run_id and fence.owner = ${b}.owner and fence.lease_epoch = ${b}.epoch)`,
    `\n     fence as (select r.id, r.owner, r.lease_epoch from runs r where r.id in (select run_id from b where owner is not null) order by r.id for share),`);
  return sql<EffectRow>(em, `with ${ctes}\n     ${outcomes} order by b._i`, params);
}

/**
 * The SQL of effects going with their runs' steps (`RunStore.ride`, `RiderSql`): the run store's
 * statement locked the runs' rows and kept the steps whose fence holds (`kept`); an effect is
 * written only where its run is there, so it never stands without the step that started it.
 */
export const riderSql = (payloads: unknown[], kept: string) => {
  const { ctes, params, outcomes } = ledgerCtes(payloads as StatementEffect[], 'e_', (b) => `${b}.run_id in (${kept})`);
  return { ctes, params, outcomes: `select o.i as ri, json_build_object('i', o.i, 'held', o.held, 'claimed', o.claimed, 'prior', o.prior) as outcome from (${outcomes}) o` };
};

/** An effect's outcome from its row: its result, the first result when done before, or CONFLICT when the run is not ours any more. */
async function settle<T>(em: EntityManager, e: StatementEffect, row: EffectRow, fence?: EffectDeps['fence']): Promise<T> {
  if (!row.held) {
    fence?.lost(e.meta.runId);
    throw new SwitchyardError('CONFLICT', 'Another process owns this run now');
  }
  if (row.claimed) return e.write.result as T;
  // Done before: the first result (read again when its row committed while the claim waited on it).
  return (row.prior as T | null) ?? (await ledgerRow<T>(em, e.key))?.result ?? (null as T);
}

const statementEffect = (now: string, meta: EffectMeta, kind: string, write: LedgerWrite<unknown>, fence?: EffectDeps['fence']): StatementEffect =>
  ({ meta, kind, key: idempotencyKey(meta), now, write, row: JSON.stringify(write.row), held: fence?.claim(meta.runId) ?? null });

/**
 * The ledger for a write that is one statement: the fence, the claim (with the result, known
 * before: the record's id is made here) and the write, gated on the claim, commit together in one
 * autocommit statement — no transaction, one round trip where `onceInLedger` takes four. When the
 * key was taken (a step re-run after a crash) nothing is written and the first result returned.
 */
export async function onceInStatement<T>(
  em: EntityManager, now: string, meta: EffectMeta, kind: string, write: LedgerWrite<T>,
  fence?: EffectDeps['fence'],
): Promise<T> {
  return onceAlone<T>(em, statementEffect(now, meta, kind, write, fence), fence);
}

async function onceAlone<T>(em: EntityManager, e: StatementEffect, fence?: EffectDeps['fence']): Promise<T> {
  let row: EffectRow | undefined;
  try {
    [row] = await effectsStatement(em, [e]);
  } catch (err) {
    // The write failed (a record it needs is gone since): if the effect was done before, its result stands.
    const done = await ledgerRow<T>(em, e.key).catch(() => null);
    if (done) return done.result;
    throw err;
  }
  return settle<T>(em, e, row!, fence);
}

/**
 * Group commit of one-statement effects (drafts, tasks, notifications, memory) of concurrent runs
 * (group-commit.ts): many effects, one statement (`effectsStatement`); alone, or when a group's
 * statement failed (a contact deleted since), each on its own (`onceAlone`). No two effects with
 * the same ledger key share a statement; a group carries at most `MAX_GROUP_CHARS` of rows.
 */
export function createEffectGroups(em: () => EntityManager, opts: { lanes?: number; maxGroup?: number; maxChars?: number } = {}) {
  type Item = { e: StatementEffect; fence: EffectDeps['fence'] | undefined };
  const groups = createGroupCommit<Item, unknown>({
    ...opts,
    maxChars: opts.maxChars ?? MAX_GROUP_CHARS,
    size: (q) => q.e.row.length,
    key: (q) => q.e.key,
    async many(items) {
      const rows = await effectsStatement(em(), items.map((q) => q.e));
      return Promise.allSettled(rows.map((row) => settle(em(), items[row.i]!.e, row, items[row.i]!.fence)));
    },
    one: (q) => onceAlone(em(), q.e, q.fence),
  });
  return {
    run<T>(now: string, meta: EffectMeta, kind: string, write: LedgerWrite<T>, fence?: EffectDeps['fence']): Promise<T> {
      let e: StatementEffect;
      try {
        e = statementEffect(now, meta, kind, write as LedgerWrite<unknown>, fence);
      } catch (err) {
        return Promise.reject(err);
      }
      return groups.add({ e, fence }) as Promise<T>;
    },
  };
}

/** The ports workflow nodes act through (the CRM writes, memory, outbound calls), over the ledger. */
export function createEffects(deps: EffectDeps) {
  const now = () => new Date(deps.clock.now()).toISOString();

  async function once<T>(meta: EffectMeta, kind: string, write: (tx: EntityManager) => Promise<T>): Promise<T> {
    await meta.ride?.committed();
    const result = await onceInLedger(deps.em(), now(), meta, kind, write, deps.fence);
    crash(meta.nodeId, deps.crashAfter?.effectOf);
    return result;
  }
  const groups = deps.groupCommit ? createEffectGroups(deps.em, { lanes: deps.groupCommit.lanes }) : null;
  async function onceStatement<T>(meta: EffectMeta, kind: string, write: LedgerWrite<T>): Promise<T> {
    const ridden = meta.ride ? await riding<T>(meta, meta.ride, kind, write) : null;
    const result = ridden ? ridden.value
      : groups ? await groups.run(now(), meta, kind, write, deps.fence) : await onceInStatement(deps.em(), now(), meta, kind, write, deps.fence);
    crash(meta.nodeId, deps.crashAfter?.effectOf);
    return result;
  }
  /**
   * An effect going with the step that started its node (`Ride`): written by that step's
   * statement, or (null) on its own once the step committed, when the step was on its way without
   * it or its statement failed.
   */
  async function riding<T>(meta: EffectMeta, ride: Ride, kind: string, write: LedgerWrite<T>): Promise<{ value: T } | null> {
    const e = statementEffect(now(), meta, kind, write as LedgerWrite<unknown>, deps.fence);
    const ridden = await ride.attach({ payload: e, key: e.key, chars: e.row.length + 512 } satisfies RiderWrite);
    try {
      if (ridden) return { value: await settle<T>(deps.em(), e, (await ridden.outcome) as EffectRow, deps.fence) };
    } catch (err) {
      if (!(err instanceof RideMissed)) throw err;
    }
    await ride.committed();
    return null;
  }
  /**
   * The CRM store's checks and the record they give; when they fail (a contact gone since) and the
   * effect was done before, its first result stands, as in `onceInLedger`.
   */
  async function ledgerCheck<R>(meta: EffectMeta, make: () => Promise<R>): Promise<{ record: R } | { done: { id: string } }> {
    try {
      return { record: await make() };
    } catch (e) {
      const done = await ledgerRow<{ id: string }>(deps.em(), idempotencyKey(meta)).catch(() => null);
      if (done) return { done: done.result };
      throw e;
    }
  }
  /** A CRM record the CRM store made (its checks passed), stored with the ledger's claim in one statement. */
  const insertOnce = (em: EntityManager, meta: EffectMeta, kind: string, entity: string, row: { id: string }) => {
    const r = rowRecord(em, entity, row);
    const columns = r.columns.map((c) => `"${c}"`);
    return onceStatement(meta, kind, {
      shape: `insert:${r.table}:${r.columns.join(',')}`,
      ctes: (p, where) => `${p}rows as (select x.v as row, x.v->>'_key' as _key from jsonb_array_elements(?::jsonb) x(v)),
        ${p}w as (insert into "${r.table}" (${columns.join(', ')})
          select ${columns.map((c) => `t.${c}`).join(', ')} from ${p}rows r cross join lateral jsonb_populate_record(null::"${r.table}", r.row) t where ${where} returning 1)`,
      row: r.record,
      result: { id: row.id },
    });
  };

  const store = new CrmStore({ now: () => deps.clock.now() });
  /** The thread id if it is one of the user's threads (a stale or foreign id starts a new thread). */
  const ownThread = async (em: EntityManager, userId: string, threadId: string | null | undefined) =>
    threadId && /^[0-9a-f-]{36}$/i.test(threadId) && (await sqlOne(em, 'select id from email_threads where id = ? and user_id = ?', [threadId, userId])) ? threadId : null;

  const contactByEmail = (em: EntityManager, userId: string, email: string) =>
    sqlOne<{ id: string; name: string; email: string; company: string | null; relationship_strength: number }>(
      em, 'select id, name, email, company, relationship_strength from contacts where user_id = ? and lower(email) = lower(?)', [userId, email]);

  const crm: CrmPort = {
    // The read-only queries of the CRM query nodes (crm.findContacts, crm.findFollowUps, crm.hasRecentEmail).
    ...createCrmQueries(deps.em),
    async findContactByEmail(userId, email) {
      const c = await contactByEmail(deps.em(), userId, email);
      return c ? ({ id: c.id, name: c.name, email: c.email, company: c.company, relationshipStrength: Number(c.relationship_strength) } satisfies ContactRef) : null;
    },
    // One CRM write path: the records go through the CRM store (the same code `crm.*` uses, so a
    // sent email moves the contact's last interaction and its thread forward here too), inside
    // the ledger's transaction.
    sendEmail: (meta, e) =>
      once(meta, 'email', async (tx) => {
        const threadId = await ownThread(tx, meta.userId, e.threadId);
        const { email } = await store.createEmail(tx, meta.userId, {
          direction: 'outbound', from: 'me', to: e.to, subject: e.subject, body: e.body, isImportant: false, isUnread: false,
          ...(threadId ? { threadId } : {}), at: now(),
        });
        return { id: email.id };
      }),
    // Drafts and tasks: the store checks the thread and contact (reads), then the record and its
    // ledger row are one statement.
    createDraft: async (meta, d) => {
      const em = deps.em();
      // The thread is read once: a thread that is not the user's is left out (the draft stands alone).
      const row = await ledgerCheck(meta, async () => store.newDraft(em, meta.userId, {
        threadId: await ownThread(em, meta.userId, d.threadId), contactId: d.contactId ?? null, to: d.to, subject: d.subject, body: d.body, sourceRunId: meta.runId,
      }, { threadChecked: true }));
      return 'done' in row ? row.done : insertOnce(em, meta, 'draft', 'Draft', row.record);
    },
    createTask: async (meta, t) => {
      const em = deps.em();
      const row = await ledgerCheck(meta, () => store.newTask(em, meta.userId, {
        title: t.title, description: t.description, dueAt: t.dueAt, priority: t.priority, contactId: t.contactId ?? null, sourceRunId: meta.runId,
      }));
      return 'done' in row ? row.done : insertOnce(em, meta, 'task', 'Task', row.record);
    },
    updateContact: (meta, c) =>
      once(meta, 'contact', async (tx) => {
        const contact = await contactByEmail(tx, meta.userId, c.email);
        if (!contact) return null;
        await sql(tx,
          `update contacts set
             relationship_strength = coalesce(?, relationship_strength),
             tags = (select coalesce(jsonb_agg(distinct t), '[]'::jsonb) from jsonb_array_elements_text(tags || ?::jsonb) t),
             notes = case when ? = '' then notes else trim(both from notes || E'\\n' || ?) end,
             last_interaction_at = case when ? then ? else last_interaction_at end,
             updated_at = ?
           where id = ?`,
          [c.relationshipStrength ?? null, c.addTags, c.appendNote, c.appendNote, c.touchLastInteraction, now(), now(), contact.id]);
        return { id: contact.id };
      }),
    // Typed buttons, the contact, dedupe and engagement: notifications/raise.ts.
    createNotification: async (meta, n) => {
      const statement = await notificationStatement(deps.em(), meta, n, deps.clock.now());
      const created = statement
        ? await onceStatement(meta, 'notification', statement)
        : await once(meta, 'notification', (tx) => raiseNotification(tx, meta, n, deps.clock.now()));
      announceNotificationChange(meta.userId);
      return created;
    },
    scheduleFollowUp: (meta, f) =>
      once(meta, 'followUp', async (tx) => {
        const contact = await contactByEmail(tx, meta.userId, f.email);
        if (!contact) return null;
        const followUp = await store.createFollowUp(tx, meta.userId, { contactId: contact.id, threadId: null, dueAt: f.dueAt, note: f.note });
        return { id: followUp.id };
      }),
  };

  /**
   * Outbound calls cannot share a transaction with the remote side: they are sent at least once,
   * always with the same Idempotency-Key, and a recorded response is never re-sent.
   */
  const outbound: OutboundPort = {
    async request(meta, r) {
      const key = idempotencyKey(meta);
      await meta.ride?.committed();
      const done = await ledgerRow<{ status: number; body: string } | null>(deps.em(), key);
      if (done?.result) return done.result;
      // A process that lost the run (paused past its lease) must not send what the new owner sends.
      await deps.fence?.check(deps.em(), meta.runId);
      const res = await deps.outbound.request({ ...r, headers: { ...r.headers, 'Idempotency-Key': key } });
      crash(meta.nodeId, deps.crashAfter?.sendOf);
      const result = { status: res.status, body: res.body.slice(0, 64_000) };
      if (res.status < 400) {
        await sql(deps.em(),
          `insert into effects (idempotency_key, user_id, run_id, node_id, kind, result, created_at) values (?, ?, ?, ?, 'webhook', ?, ?)
           on conflict (idempotency_key) do update set result = excluded.result`,
          [key, meta.userId, meta.runId, meta.nodeId, result, now()]);
      }
      return result;
    },
  };

  /**
   * A memory entry is one statement: the fence, the ledger's claim and the upsert (done only when
   * the claim took the key) commit together, with no transaction around them.
   */
  const memory: MemoryPort = {
    async remember(meta, key, value, ttlSeconds) {
      const expires = ttlSeconds ? new Date(deps.clock.now() + ttlSeconds * 1000).toISOString() : null;
      await onceStatement(meta, 'memory', {
        shape: 'memory',
        // Two runs writing one key in one group: the last of them whose claim took its key (they
        // were concurrent, so that is an order they could have committed in); rows in key order.
        ctes: (p, where) => `${p}upsert as (
           insert into memory_entries (user_id, scope, key, value, expires_at, updated_at)
           select distinct on (r.user_id, r.key) r.user_id, 'user', r.key, r.value, r.expires_at, r.updated_at
             from jsonb_to_recordset(?::jsonb) as r(_key text, _i int, user_id uuid, key text, value jsonb, expires_at timestamptz, updated_at timestamptz)
            where ${where} order by r.user_id, r.key, r._i desc
           on conflict (user_id, scope, key) do update set value = excluded.value, expires_at = excluded.expires_at, updated_at = excluded.updated_at
           returning 1)`,
        row: { user_id: meta.userId, key, value: { value }, expires_at: expires, updated_at: now() },
        result: null,
      });
    },
  };

  return { crm, outbound, memory };
}
