import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EffectMeta, NotificationActionSpec } from '@switchyard/actors';
import { sql, sqlOne } from '../host/db';
import type { NotificationAction } from '../entities/notification.entity';

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
  const w = notificationCtes(meta, n, contact, nowMs, null);
  await sql(tx, `with ${w.ctes} select 1`, w.params);
  return w.result;
}

/**
 * A notification without a suggestion key (nothing to dedupe, so no lock and no transaction) as
 * CTEs that store it only when the rows of `gate` exist: the effect ledger's claim, so the ledger
 * row, the notification and its `shown` fact are one statement. Null when it needs the
 * transaction of `raiseNotification`.
 */
export async function notificationStatement(em: EntityManager, meta: EffectMeta, n: RaiseInput, nowMs: number, gate: string) {
  if (n.suggestionKey) return null;
  return notificationCtes(meta, n, await contactOf(em, meta, n), nowMs, gate);
}

function notificationCtes(meta: EffectMeta, n: RaiseInput, contact: { id: string; email: string } | null, nowMs: number, gate: string | null) {
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
  // The behavior (document) that raised it, the notification and its `shown` fact.
  return {
    result: { id },
    ctes: `flow as (select f.doc_id from runs r join flows f on f.id = r.flow_id where r.id = ?),
     n as (
       insert into notifications (id, user_id, type, title, body, priority, actions, state, contact_id, suggestion_key, behavior_id, source_run_id, created_at, updated_at)
       select ?::uuid, ?::uuid, ?, ?, ?, ?, ?::jsonb, 'unread', ?::uuid, ?, (select doc_id from flow), ?::uuid, ?::timestamptz, ?::timestamptz ${gate ? `from ${gate}` : ''} returning id),
     shown as (
       insert into notification_engagement (id, user_id, notification_id, behavior_id, notification_type, event, at)
       select ?::uuid, ?::uuid, n.id, (select doc_id from flow), ?, 'shown', ?::timestamptz from n returning 1)`,
    params: [meta.runId, id, meta.userId, n.type, n.title, n.body, n.priority, actions, contact?.id ?? null, n.suggestionKey || null, meta.runId, now, now,
      randomUUID(), meta.userId, n.type, now],
  };
}
