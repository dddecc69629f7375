import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EffectMeta, NotificationActionSpec } from '@switchyard/actors';
import { sql, sqlOne } from '../host/db';
import type { NotificationAction } from '../entities/notification.entity';
import type { LedgerWrite } from '../host/effects';

export interface RaiseInput {
  type: string;
  title: string;
  body: string;
  priority: 'low' | 'normal' | 'high';
  actions: NotificationActionSpec[];
  contactId?: string;
  suggestionKey?: string;
  dedupeWindowMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const addresses = (s: string) => s.split(/[,;]/).map((x) => x.trim().toLowerCase()).filter(Boolean);

/** The contact a notification is about, when it is one of this user's. */
const contactOf = (em: EntityManager, meta: EffectMeta, n: RaiseInput) =>
  n.contactId && UUID.test(n.contactId)
    ? sqlOne<{ id: string; email: string }>(em, 'select id, email from contacts where id = ? and user_id = ?', [n.contactId, meta.userId])
    : Promise.resolve(null);

/**
 * Stores a notification raised by a run (inside the effect ledger's transaction): the contact it
 * is about (ignored unless it is this user's), its typed buttons with their payloads, the behavior
 * (document) that raised it, and a `shown` engagement fact. With a suggestion key it is first
 * checked against the dedupe window, under an advisory lock so two runs raising the same
 * suggestion at once store one.
 */
export async function raiseNotification(tx: EntityManager, meta: EffectMeta, n: RaiseInput, nowMs: number): Promise<{ id: string; deduped?: boolean }> {
  const contact = await contactOf(tx, meta, n);
  if (n.suggestionKey) {
    await sql(tx, 'select pg_advisory_xact_lock(hashtext(?))', [`notification:${meta.userId}:${n.suggestionKey}:${contact?.id ?? ''}`]);
    const since = new Date(nowMs - Math.max(0, n.dedupeWindowMs ?? 0)).toISOString();
    const existing = await sqlOne<{ id: string }>(tx,
      `select id from notifications where user_id = ? and suggestion_key = ? and contact_id is not distinct from ?::uuid and created_at > ?
        order by created_at desc limit 1`, [meta.userId, n.suggestionKey, contact?.id ?? null, since]);
    if (existing) return { id: existing.id, deduped: true };
  }
  const w = notificationCtes(meta, n, contact, nowMs);
  await sql(tx, `with ${w.ctes('', 'true')} select 1`, [`[${JSON.stringify(w.row)}]`]);
  return w.result;
}

/**
 * A notification without a suggestion key (nothing to dedupe, so no lock and no transaction) as
 * the effect ledger's statement (`onceInStatement`): stored only when the ledger's claim took the
 * key, so the ledger row, the notification and its `shown` fact commit together. Null when it
 * needs the transaction of `raiseNotification`.
 */
export async function notificationStatement(em: EntityManager, meta: EffectMeta, n: RaiseInput, nowMs: number): Promise<LedgerWrite<{ id: string }> | null> {
  if (n.suggestionKey) return null;
  return notificationCtes(meta, n, await contactOf(em, meta, n), nowMs);
}

/**
 * A notification as the ledger's write of shape `notification` (`LedgerWrite`): its row, and the
 * CTEs that store the rows of a jsonb array meeting `where` (the ledger's claim took their key;
 * `true` in `raiseNotification`'s transaction), each with its behavior and `shown` fact.
 */
function notificationCtes(meta: EffectMeta, n: RaiseInput, contact: { id: string; email: string } | null, nowMs: number) {
  const now = new Date(nowMs).toISOString();
  const actions: NotificationAction[] = n.actions.map((a) => {
    const kind = a.kind ?? 'custom';
    switch (kind) {
      case 'compose-email': {
        const to = addresses(a.draft?.to ?? '');
        return {
          id: a.id, label: a.label, action: kind,
          payload: { draft: { to: to.length ? to : contact ? [contact.email] : [], subject: a.draft?.subject ?? '', body: a.draft?.body ?? '', contactId: contact?.id ?? null, threadId: null } },
        };
      }
      case 'complete-follow-up':
        return { id: a.id, label: a.label, action: kind, payload: { followUpId: a.followUpId ?? '' } };
      case 'snooze':
        return { id: a.id, label: a.label, action: kind, payload: { snoozeFor: a.snoozeFor ?? null } };
      case 'open-contact':
        return { id: a.id, label: a.label, action: kind, payload: { contactId: contact?.id ?? null } };
      case 'dismiss':
        return { id: a.id, label: a.label, action: kind };
      case 'custom':
        // Stored under its own id, as before typed actions existed: a custom answer is its id.
        return { id: a.id, label: a.label, action: a.id };
    }
  });
  const id = randomUUID();
  // The notification's row, then the behavior (document) that raised it and its `shown` fact.
  return {
    shape: 'notification',
    result: { id },
    row: {
      id, user_id: meta.userId, type: n.type, title: n.title, body: n.body, priority: n.priority, actions, contact_id: contact?.id ?? null,
      suggestion_key: n.suggestionKey || null, source_run_id: meta.runId, at: now, shown_id: randomUUID(),
    },
    ctes: (p: string, where: string) => `${p}rows as (
       select r.*, (select f.doc_id from runs rr join flows f on f.id = rr.flow_id where rr.id = r.source_run_id) as behavior_id
         from jsonb_to_recordset(?::jsonb) as r(_key text, id uuid, user_id uuid, type text, title text, body text, priority text, actions jsonb,
                                                 contact_id uuid, suggestion_key text, source_run_id uuid, at timestamptz, shown_id uuid)
        where ${where}),
     ${p}n as (
       insert into notifications (id, user_id, type, title, body, priority, actions, state, contact_id, suggestion_key, behavior_id, source_run_id, created_at, updated_at)
       select id, user_id, type, title, body, priority, actions, 'unread', contact_id, suggestion_key, behavior_id, source_run_id, at, at from ${p}rows returning id),
     ${p}shown as (
       insert into notification_engagement (id, user_id, notification_id, behavior_id, notification_type, event, at)
       select r.shown_id, r.user_id, r.id, r.behavior_id, r.type, 'shown', r.at from ${p}rows r where r.id in (select id from ${p}n) returning 1)`,
  };
}
