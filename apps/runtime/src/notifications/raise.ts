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

/**
 * Stores a notification raised by a run (inside the effect ledger's transaction): the contact it
 * is about (ignored unless it is this user's), its typed buttons with their payloads, the behavior
 * (document) that raised it, and a `shown` engagement fact. With a suggestion key it is first
 * checked against the dedupe window, under an advisory lock so two runs raising the same
 * suggestion at once store one.
 */
export async function raiseNotification(tx: EntityManager, meta: EffectMeta, n: RaiseInput, nowMs: number): Promise<{ id: string; deduped?: boolean }> {
  const now = new Date(nowMs).toISOString();
  const contact = n.contactId && UUID.test(n.contactId)
    ? await sqlOne<{ id: string; email: string }>(tx, 'select id, email from contacts where id = ? and user_id = ?', [n.contactId, meta.userId])
    : null;
  if (n.suggestionKey) {
    await sql(tx, 'select pg_advisory_xact_lock(hashtext(?))', [`notification:${meta.userId}:${n.suggestionKey}:${contact?.id ?? ''}`]);
    const since = new Date(nowMs - Math.max(0, n.dedupeWindowMs ?? 0)).toISOString();
    const existing = await sqlOne<{ id: string }>(tx,
      `select id from notifications where user_id = ? and suggestion_key = ? and contact_id is not distinct from ?::uuid and created_at > ?
        order by created_at desc limit 1`, [meta.userId, n.suggestionKey, contact?.id ?? null, since]);
    if (existing) return { id: existing.id, deduped: true };
  }
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
  // The behavior (document) that raised it, the notification and its `shown` fact: one statement.
  await sql(tx,
    `with flow as (select f.doc_id from runs r join flows f on f.id = r.flow_id where r.id = ?),
     n as (
       insert into notifications (id, user_id, type, title, body, priority, actions, state, contact_id, suggestion_key, behavior_id, source_run_id, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, 'unread', ?, ?, (select doc_id from flow), ?, ?, ?) returning id)
     insert into notification_engagement (id, user_id, notification_id, behavior_id, notification_type, event, at)
     select ?, ?, n.id, (select doc_id from flow), ?, 'shown', ? from n`,
    [meta.runId, id, meta.userId, n.type, n.title, n.body, n.priority, actions, contact?.id ?? null, n.suggestionKey || null, meta.runId, now, now,
      randomUUID(), meta.userId, n.type, now]);
  return { id };
}
