import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SwitchyardError, parseDuration } from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import { decodeTimeCursor, encodeTimeCursor } from '../host/time-cursor';
import type { NotificationAction, NotificationPriority, NotificationState } from '../entities/notification.entity';
import { typedAction, type TypedAction } from './actions';
import type { NotificationsList } from './notifications.schemas';

/** Longest snooze: a year. */
const MAX_SNOOZE_MS = 366 * 24 * 3600_000;

interface Row {
  id: string; type: string; title: string; body: string; priority: NotificationPriority; actions: NotificationAction[];
  state: NotificationState; read_at: Date | null; acted_at: Date | null; acted_action: string | null; acted_result: unknown;
  dismissed_at: Date | null; snoozed_at: Date | null; snoozed_until: Date | null; returned_at: Date | null;
  contact_id: string | null; contact_name: string | null; contact_email: string | null;
  suggestion_key: string | null; behavior_id: string | null; behavior_name: string | null; source_run_id: string | null;
  created_at: Date; updated_at: Date; sort_at: string;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export interface NotificationDto {
  id: string; type: string; title: string; body: string; priority: NotificationPriority; state: NotificationState;
  actions: TypedAction[];
  readAt: string | null; actedAt: string | null; actedAction: string | null; actedResult: unknown;
  dismissedAt: string | null; snoozedAt: string | null; snoozedUntil: string | null; returnedAt: string | null;
  contact: { id: string; name: string; email: string } | null;
  suggestionKey: string | null; behaviorId: string | null; behaviorName: string | null; sourceRunId: string | null;
  createdAt: string; updatedAt: string;
}

function toDto(r: Row): NotificationDto {
  return {
    id: r.id, type: r.type, title: r.title, body: r.body, priority: r.priority, state: r.state,
    actions: (Array.isArray(r.actions) ? r.actions : []).map(typedAction),
    readAt: iso(r.read_at), actedAt: iso(r.acted_at), actedAction: r.acted_action, actedResult: r.acted_result ?? null,
    dismissedAt: iso(r.dismissed_at), snoozedAt: iso(r.snoozed_at), snoozedUntil: iso(r.snoozed_until), returnedAt: iso(r.returned_at),
    contact: r.contact_id && r.contact_name !== null ? { id: r.contact_id, name: r.contact_name, email: r.contact_email ?? '' } : null,
    suggestionKey: r.suggestion_key, behaviorId: r.behavior_id, behaviorName: r.behavior_name, sourceRunId: r.source_run_id,
    createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!,
  };
}

/** `sort_at`: a notification that came back from a snooze sorts as new. */
const SELECT = `select n.*, greatest(n.created_at, coalesce(n.returned_at, n.created_at))::text as sort_at,
    c.name as contact_name, c.email as contact_email, f.name as behavior_name
  from notifications n
  left join contacts c on c.id = n.contact_id and c.user_id = n.user_id
  left join flows f on f.user_id = n.user_id and f.doc_id = n.behavior_id`;

const VIEWS: Record<NotificationsList['view'], NotificationState[] | null> = {
  inbox: ['unread', 'read'],
  snoozed: ['snoozed'],
  done: ['acted', 'dismissed'],
  all: null,
};

const notFound = () => new SwitchyardError('NOT_FOUND', 'Notification not found');

/** What pressing a button (or dismiss / snooze without one) asks for. */
export type Act =
  | { type: 'button'; actionId: string; until?: string }
  | { type: 'dismiss' }
  | { type: 'snooze'; until: string };

export type ActResult =
  | { kind: 'compose-email'; draftId: string; draft: { id: string; to: string[]; subject: string; body: string; contactId: string | null } }
  | { kind: 'complete-follow-up'; followUpId: string; alreadyCompleted: boolean }
  | { kind: 'snooze'; until: string }
  | { kind: 'dismiss' }
  | { kind: 'open-contact'; contactId: string }
  | { kind: 'custom'; action: string };

export interface Counts {
  unread: number;
  inbox: number;
  snoozed: number;
  /** Changes whenever anything in this user's notifications changes. */
  version: string;
}

/**
 * The inbox behind `notifications.*`. Every query is scoped by the user; every change is one
 * transaction that also records the engagement fact and the `notification.acted` event in the
 * durable event inbox, so a crash never keeps one without the other.
 */
export function createNotificationService(deps: { now(): number }) {
  const nowIso = () => new Date(deps.now()).toISOString();

  /**
   * Brings back snoozes whose time has come (as unread), recording a `returned` fact. One UPDATE,
   * so two processes sweeping at once return each notification once; run before every read, so a
   * snooze returns on time after any restart without a timer to restore.
   */
  async function returnDue(em: EntityManager, userId?: string): Promise<string[]> {
    const now = nowIso();
    const rows = await sql<{ user_id: string }>(em,
      `with due as (
         update notifications set state = 'unread', returned_at = ?, updated_at = ?
          where state = 'snoozed' and snoozed_until <= ? ${userId ? 'and user_id = ?' : ''}
          returning id, user_id, behavior_id, type)
       insert into notification_engagement (id, user_id, notification_id, behavior_id, notification_type, event, at)
       select gen_random_uuid(), user_id, id, behavior_id, type, 'returned', ? from due
       returning user_id`,
      [now, now, now, ...(userId ? [userId] : []), now]);
    return [...new Set(rows.map((r) => r.user_id))];
  }

  async function getRow(em: EntityManager, userId: string, id: string, lock = false): Promise<Row> {
    const row = await sqlOne<Row>(em, `${SELECT} where n.id = ? and n.user_id = ?${lock ? ' for update of n' : ''}`, [id, userId]);
    if (!row) throw notFound();
    return row;
  }

  async function counts(em: EntityManager, userId: string): Promise<Counts> {
    await returnDue(em, userId);
    const r = await sqlOne<{ unread: number; inbox: number; snoozed: number; version: string | null; total: number }>(em,
      `select (count(*) filter (where state = 'unread'))::int as unread,
              (count(*) filter (where state in ('unread', 'read')))::int as inbox,
              (count(*) filter (where state = 'snoozed'))::int as snoozed,
              max(updated_at)::text as version, count(*)::int as total
         from notifications where user_id = ?`, [userId]);
    return { unread: r?.unread ?? 0, inbox: r?.inbox ?? 0, snoozed: r?.snoozed ?? 0, version: `${r?.total ?? 0}:${r?.version ?? ''}` };
  }

  async function list(em: EntityManager, userId: string, input: NotificationsList) {
    await returnDue(em, userId);
    const states = input.state ? [input.state] : VIEWS[input.view];
    const where: string[] = ['n.user_id = ?'];
    const params: unknown[] = [userId];
    if (states) {
      where.push(`n.state in (${states.map(() => '?').join(', ')})`);
      params.push(...states);
    }
    if (input.priority) {
      where.push('n.priority = ?');
      params.push(input.priority);
    }
    if (input.contactId) {
      where.push('n.contact_id = ?');
      params.push(input.contactId);
    }
    if (input.search) {
      where.push(`(n.title ilike ? or n.body ilike ?)`);
      const p = `%${input.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      params.push(p, p);
    }
    if (input.cursor !== undefined) {
      const after = decodeTimeCursor(input.cursor);
      where.push('(greatest(n.created_at, coalesce(n.returned_at, n.created_at)), n.id) < (?::timestamptz, ?::uuid)');
      params.push(after.at, after.id);
    }
    const rows = await sql<Row>(em,
      `${SELECT} where ${where.join(' and ')} order by greatest(n.created_at, coalesce(n.returned_at, n.created_at)) desc, n.id desc limit ?`,
      [...params, input.limit + 1]);
    const more = rows.length > input.limit;
    const items = rows.slice(0, input.limit);
    const last = items[items.length - 1];
    return { items: items.map(toDto), nextCursor: more && last ? encodeTimeCursor(last.sort_at, last.id) : null, counts: await counts(em, userId) };
  }

  async function get(em: EntityManager, userId: string, id: string) {
    await returnDue(em, userId);
    return toDto(await getRow(em, userId, id));
  }

  function snoozeUntil(until: string | undefined, snoozeFor: string | null): Date {
    let when: Date;
    if (until !== undefined) when = new Date(until);
    else if (snoozeFor && parseDuration(snoozeFor) !== null) when = new Date(deps.now() + parseDuration(snoozeFor)!);
    else throw new SwitchyardError('BAD_INPUT', 'Choose when the notification should come back', { issues: [{ path: ['until'], message: 'Required' }] });
    if (when.getTime() <= deps.now()) throw new SwitchyardError('BAD_INPUT', 'Snooze until a time in the future', { issues: [{ path: ['until'], message: 'Must be in the future' }] });
    if (when.getTime() > deps.now() + MAX_SNOOZE_MS) throw new SwitchyardError('BAD_INPUT', 'Snooze for at most a year', { issues: [{ path: ['until'], message: 'At most a year ahead' }] });
    return when;
  }

  /**
   * Performs an action and records it: state, engagement fact and the `notification.acted` event
   * commit together. A notification already acted on or dismissed refuses everything
   * (INVALID_STATE); an unknown button is BAD_INPUT; a failure leaves nothing changed.
   */
  async function act(em: EntityManager, userId: string, id: string, req: Act): Promise<{ notification: NotificationDto; result: ActResult }> {
    const now = nowIso();
    const outcome = await em.fork().transactional(async (tx) => {
      await returnDue(tx, userId);
      const row = await getRow(tx, userId, id, true);
      let action: TypedAction;
      if (req.type === 'button') {
        const stored = (Array.isArray(row.actions) ? row.actions : []).find((a) => a.id === req.actionId);
        if (!stored) throw new SwitchyardError('BAD_INPUT', `This notification has no action "${req.actionId}"`, { issues: [{ path: ['actionId'], message: 'Unknown action' }] });
        action = typedAction(stored);
      } else {
        action = req.type === 'dismiss' ? { kind: 'dismiss', id: 'dismiss', label: 'Dismiss' } : { kind: 'snooze', id: 'snooze', label: 'Snooze', snoozeFor: null };
      }
      if (row.state === 'acted' || row.state === 'dismissed') {
        throw new SwitchyardError('INVALID_STATE', row.state === 'acted' ? `Already answered with "${row.acted_action}"` : 'This notification was dismissed');
      }
      let result: ActResult;
      let event: 'acted' | 'opened' | 'dismissed' | 'snoozed';
      switch (action.kind) {
        case 'compose-email': {
          const d = action.draft;
          const contact = d.contactId ? await sqlOne<{ id: string }>(tx, 'select id from contacts where id = ? and user_id = ?', [d.contactId, userId]) : null;
          const thread = d.threadId ? await sqlOne<{ id: string }>(tx, 'select id from email_threads where id = ? and user_id = ?', [d.threadId, userId]) : null;
          const draftId = randomUUID();
          await sql(tx,
            `insert into drafts (id, user_id, thread_id, contact_id, to_addrs, subject, body, status, source_run_id, created_at, updated_at)
             values (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?)`,
            [draftId, userId, thread?.id ?? null, contact?.id ?? null, d.to, d.subject, d.body, row.source_run_id, now, now]);
          result = { kind: 'compose-email', draftId, draft: { id: draftId, to: d.to, subject: d.subject, body: d.body, contactId: contact?.id ?? null } };
          event = 'acted';
          break;
        }
        case 'complete-follow-up': {
          const fu = /^[0-9a-f-]{36}$/i.test(action.followUpId)
            ? await sqlOne<{ id: string; status: string }>(tx, 'select id, status from follow_ups where id = ? and user_id = ? for update', [action.followUpId, userId])
            : null;
          if (!fu) throw new SwitchyardError('NOT_FOUND', 'The follow-up of this notification no longer exists');
          if (fu.status !== 'completed') {
            await sql(tx, `update follow_ups set status = 'completed', completed_at = ?, snoozed_until = null where id = ?`, [now, fu.id]);
          }
          result = { kind: 'complete-follow-up', followUpId: fu.id, alreadyCompleted: fu.status === 'completed' };
          event = 'acted';
          break;
        }
        case 'snooze': {
          const when = snoozeUntil(req.type === 'dismiss' ? undefined : req.until, action.snoozeFor);
          result = { kind: 'snooze', until: when.toISOString() };
          event = 'snoozed';
          break;
        }
        case 'dismiss':
          result = { kind: 'dismiss' };
          event = 'dismissed';
          break;
        case 'open-contact':
          if (!action.contactId || !(await sqlOne(tx, 'select 1 as ok from contacts where id = ? and user_id = ?', [action.contactId, userId]))) {
            throw new SwitchyardError('NOT_FOUND', 'The contact of this notification no longer exists');
          }
          result = { kind: 'open-contact', contactId: action.contactId };
          event = 'opened';
          break;
        case 'custom':
          result = { kind: 'custom', action: action.action };
          event = 'acted';
          break;
      }
      switch (event) {
        case 'acted':
          await sql(tx,
            `update notifications set state = 'acted', acted_at = ?, acted_action = ?, acted_result = ?, read_at = coalesce(read_at, ?), updated_at = ? where id = ?`,
            [now, action.id, result, now, now, id]);
          break;
        case 'opened':
          await sql(tx, `update notifications set state = case when state = 'unread' then 'read' else state end, read_at = coalesce(read_at, ?), updated_at = ? where id = ?`, [now, now, id]);
          break;
        case 'dismissed':
          await sql(tx, `update notifications set state = 'dismissed', dismissed_at = ?, read_at = coalesce(read_at, ?), updated_at = ? where id = ?`, [now, now, now, id]);
          break;
        case 'snoozed':
          await sql(tx, `update notifications set state = 'snoozed', snoozed_at = ?, snoozed_until = ?, read_at = coalesce(read_at, ?), updated_at = ? where id = ?`,
            [now, (result as { until: string }).until, now, now, id]);
          break;
      }
      const factId = randomUUID();
      await sql(tx,
        `insert into notification_engagement (id, user_id, notification_id, behavior_id, notification_type, event, action_id, action_kind, at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
        [factId, userId, id, row.behavior_id, row.type, event, req.type === 'button' ? action.id : null, action.kind, now]);
      // The event behaviors and waiting runs react to; drained into runs right after the commit.
      await sql(tx,
        `insert into inbox (id, user_id, type, payload, dedupe_key, received_at) values (?, ?, 'notification.acted', ?, ?, ?)`,
        [randomUUID(), userId, {
          notificationId: id, actionId: req.type === 'button' ? action.id : action.kind, action: action.kind, result,
          notificationType: row.type, contactId: row.contact_id, suggestionKey: row.suggestion_key, behaviorId: row.behavior_id,
          sourceRunId: row.source_run_id, at: now,
        }, `notification.acted:${factId}`, now]);
      return { notification: toDto(await getRow(tx, userId, id)), result };
    });
    return outcome;
  }

  /** Shown vs acted, overall, per behavior and per action: the monitoring view's engagement figures. */
  async function engagement(em: EntityManager, userId: string, since?: string) {
    const from = since ?? '1970-01-01T00:00:00Z';
    const byBehavior = await sql<{ behavior_id: string | null; behavior_name: string | null; shown: number; acted: number; opened: number; dismissed: number; snoozed: number }>(em,
      `select e.behavior_id, max(f.name) as behavior_name,
              (count(*) filter (where e.event = 'shown'))::int as shown,
              (count(distinct e.notification_id) filter (where e.event = 'acted'))::int as acted,
              (count(distinct e.notification_id) filter (where e.event = 'opened'))::int as opened,
              (count(*) filter (where e.event = 'dismissed'))::int as dismissed,
              (count(*) filter (where e.event = 'snoozed'))::int as snoozed
         from notification_engagement e left join flows f on f.user_id = e.user_id and f.doc_id = e.behavior_id
        where e.user_id = ? and e.at >= ? group by e.behavior_id order by shown desc`, [userId, from]);
    const byAction = await sql<{ action_kind: string; action_id: string | null; count: number }>(em,
      `select action_kind, action_id, count(*)::int as count from notification_engagement
        where user_id = ? and at >= ? and event in ('acted', 'opened', 'dismissed', 'snoozed')
        group by action_kind, action_id order by count desc, action_kind`, [userId, from]);
    const shown = byBehavior.reduce((s, b) => s + b.shown, 0);
    const acted = byBehavior.reduce((s, b) => s + b.acted, 0);
    const rate = (a: number, s: number) => (s === 0 ? null : a / s);
    return {
      shown, acted, actedRate: rate(acted, shown),
      byBehavior: byBehavior.map((b) => ({
        behaviorId: b.behavior_id, behaviorName: b.behavior_name, shown: b.shown, acted: b.acted, opened: b.opened,
        dismissed: b.dismissed, snoozed: b.snoozed, actedRate: rate(b.acted, b.shown),
      })),
      byAction: byAction.map((a) => ({ kind: a.action_kind, actionId: a.action_id, count: a.count })),
    };
  }

  return { returnDue, counts, list, get, act, engagement };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
