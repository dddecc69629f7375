import { createHash } from 'node:crypto';
import { SwitchyardError } from '@switchyard/schema';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ContactRef, CrmPort, EffectMeta, MemoryPort, OutboundPort } from '@switchyard/actors';
import type { RuntimeClock } from './clock';
import { rowInsert, sql, sqlOne } from './db';
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

/** A write as CTEs that act only on the rows of `ins` (the ledger's claim, when it took the key). */
export interface LedgerStatement<T> {
  ctes: string;
  params: unknown[];
  result: T;
}

/**
 * The ledger for a write that is one statement: the fence, the claim (with the result, known
 * before: the record's id is made here) and the write, gated on the claim, commit together in one
 * autocommit statement — no transaction, one round trip where `onceInLedger` takes four. When the
 * key was taken (a step re-run after a crash) nothing is written and the first result returned.
 */
export async function onceInStatement<T>(
  em: EntityManager, now: string, meta: EffectMeta, kind: string, write: LedgerStatement<T>,
  fence?: EffectDeps['fence'],
): Promise<T> {
  const key = idempotencyKey(meta);
  const claim = claimSql(meta, key, kind, now, write.result, fence);
  let row: { held: number; claimed: number; prior: T | null } | undefined;
  try {
    [row] = await sql<{ held: number; claimed: number; prior: T | null }>(em,
      `with ${claim.text}, ${write.ctes}
       select (select count(*) from f)::int as held, (select count(*) from ins)::int as claimed,
              (select result from effects where idempotency_key = ?) as prior`,
      [...claim.params, ...write.params, key]);
  } catch (e) {
    // The write failed (a record it needs is gone since): if the effect was done before, its result stands.
    const done = await ledgerRow<T>(em, key).catch(() => null);
    if (done) return done.result;
    throw e;
  }
  if (!row!.held) {
    fence?.lost(meta.runId);
    throw new SwitchyardError('CONFLICT', 'Another process owns this run now');
  }
  if (row!.claimed) return write.result;
  // Done before: the first result (read again when its row committed while the claim waited on it).
  return row!.prior ?? (await ledgerRow<T>(em, key))?.result ?? (null as T);
}

/** The ports workflow nodes act through (the CRM writes, memory, outbound calls), over the ledger. */
export function createEffects(deps: EffectDeps) {
  const now = () => new Date(deps.clock.now()).toISOString();

  async function once<T>(meta: EffectMeta, kind: string, write: (tx: EntityManager) => Promise<T>): Promise<T> {
    const result = await onceInLedger(deps.em(), now(), meta, kind, write, deps.fence);
    crash(meta.nodeId, deps.crashAfter?.effectOf);
    return result;
  }
  async function onceStatement<T>(meta: EffectMeta, kind: string, write: LedgerStatement<T>): Promise<T> {
    const result = await onceInStatement(deps.em(), now(), meta, kind, write, deps.fence);
    crash(meta.nodeId, deps.crashAfter?.effectOf);
    return result;
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
    const r = rowInsert(em, entity, row);
    return onceStatement(meta, kind, { ctes: `w as (insert into ${r.table} (${r.columns}) select ${r.values} from ins returning 1)`, params: r.params, result: { id: row.id } });
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
      const statement = await notificationStatement(deps.em(), meta, n, deps.clock.now(), 'ins');
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
      const claim = claimSql(meta, idempotencyKey(meta), 'memory', now(), null, deps.fence);
      const [row] = await sql<{ held: number }>(deps.em(),
        `with ${claim.text},
         upsert as (
           insert into memory_entries (user_id, scope, key, value, expires_at, updated_at)
           select ?, 'user', ?, ?::jsonb, ?::timestamptz, ?::timestamptz from ins
           on conflict (user_id, scope, key) do update set value = excluded.value, expires_at = excluded.expires_at, updated_at = excluded.updated_at
           returning 1)
         select (select count(*) from f)::int as held`,
        [...claim.params, meta.userId, key, { value }, expires, now()]);
      if (!row!.held) {
        deps.fence?.lost(meta.runId);
        throw new SwitchyardError('CONFLICT', 'Another process owns this run now');
      }
      crash(meta.nodeId, deps.crashAfter?.effectOf);
    },
  };

  return { crm, outbound, memory };
}
