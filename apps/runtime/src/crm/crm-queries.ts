import type { EntityManager } from '@mikro-orm/postgresql';
import type { ContactSummary, CrmPort, FollowUpSummary } from '@switchyard/actors';
import { sql, sqlOne } from '../host/db';

const DAY = 86_400_000;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

const ORDER: Record<'strength' | 'lastInteraction' | 'name', string> = {
  strength: 'relationship_strength',
  // Never contacted sorts as the oldest interaction.
  lastInteraction: `coalesce(last_interaction_at, '-infinity'::timestamptz)`,
  name: 'lower(name)',
};

/**
 * The CRM read port of the query nodes (crm.findContacts, crm.findFollowUps, crm.hasRecentEmail):
 * plain reads scoped by the run's user, with "now" passed in from the run's clock.
 */
export function createCrmQueries(em: () => EntityManager): Pick<CrmPort, 'findContacts' | 'findFollowUps' | 'hasRecentEmail'> {
  return {
    async findContacts(userId: string, q: Parameters<CrmPort['findContacts']>[1]) {
      const where = ['user_id = ?'];
      const params: unknown[] = [userId];
      if (q.dormantDays !== undefined) {
        where.push('(last_interaction_at is null or last_interaction_at < ?::timestamptz)');
        params.push(new Date(Date.parse(q.now) - q.dormantDays * DAY).toISOString());
      }
      if (q.minStrength !== undefined) {
        where.push('relationship_strength > ?');
        params.push(q.minStrength);
      }
      if (q.tag) {
        where.push('tags @> ?::jsonb');
        params.push(JSON.stringify([q.tag]));
      }
      if (q.notSuggestedDays !== undefined) {
        // Suggested lately: this user has a notification about the contact (with that key) created in the window.
        where.push(`not exists (select 1 from notifications n where n.user_id = contacts.user_id and n.contact_id = contacts.id
          and n.created_at > ?::timestamptz${q.notSuggestedKey ? ' and n.suggestion_key = ?' : ''})`);
        params.push(new Date(Date.parse(q.now) - q.notSuggestedDays * DAY).toISOString(), ...(q.notSuggestedKey ? [q.notSuggestedKey] : []));
      }
      const dir = q.order === 'asc' ? 'asc' : 'desc';
      const rows = await sql<{ id: string; name: string; email: string; company: string; relationship_strength: number; last_interaction_at: Date | null; tags: string[] }>(em(),
        `select id, name, email, company, relationship_strength, last_interaction_at, tags from contacts
          where ${where.join(' and ')} order by ${ORDER[q.orderBy]} ${dir}, id limit ?`, [...params, q.limit]);
      const now = Date.parse(q.now);
      return rows.map((r): ContactSummary => ({
        id: r.id, name: r.name, email: r.email, company: r.company, relationshipStrength: Number(r.relationship_strength),
        lastInteractionAt: iso(r.last_interaction_at),
        daysSinceInteraction: r.last_interaction_at ? Math.floor((now - new Date(r.last_interaction_at).getTime()) / DAY) : null,
        tags: Array.isArray(r.tags) ? r.tags : [],
      }));
    },

    async findFollowUps(userId, q) {
      const rows = await sql<{
        id: string; due_at: Date; note: string; status: 'pending' | 'snoozed'; created_at: Date; thread_id: string | null;
        c_id: string; c_name: string; c_email: string; c_company: string; c_strength: number;
        e_id: string | null; e_from: string | null; e_to: string[] | null; e_subject: string | null; e_body: string | null; e_at: Date | null; e_direction: 'inbound' | 'outbound' | null;
        last_inbound_at: Date | null;
      }>(em(),
        `select f.id, f.due_at, f.note, f.status, f.created_at, f.thread_id,
                c.id as c_id, c.name as c_name, c.email as c_email, c.company as c_company, c.relationship_strength as c_strength,
                e.id as e_id, e.from_addr as e_from, e.to_addrs as e_to, e.subject as e_subject, e.body as e_body, e.at as e_at, e.direction as e_direction,
                (select max(m.at) from emails m where m.thread_id = f.thread_id and m.user_id = f.user_id and m.direction = 'inbound') as last_inbound_at
           from follow_ups f
           join contacts c on c.id = f.contact_id and c.user_id = f.user_id
           left join lateral (select * from emails m where m.thread_id = f.thread_id and m.user_id = f.user_id order by m.at, m.id limit 1) e on true
          where f.user_id = ? and f.status <> 'completed' and f.due_at <= ?::timestamptz
            and (? or f.status <> 'snoozed' or f.snoozed_until is null or f.snoozed_until <= ?::timestamptz)
          order by f.due_at, f.id limit ?`,
        [userId, q.dueBefore, q.includeSnoozed, q.now, q.limit]);
      return rows.map((r): FollowUpSummary => ({
        id: r.id, dueAt: iso(r.due_at)!, note: r.note, status: r.status, createdAt: iso(r.created_at)!, threadId: r.thread_id,
        contact: { id: r.c_id, name: r.c_name, email: r.c_email, company: r.c_company, relationshipStrength: Number(r.c_strength) },
        originalEmail: r.e_id
          ? { id: r.e_id, from: r.e_from ?? '', to: r.e_to ?? [], subject: r.e_subject ?? '', body: r.e_body ?? '', at: iso(r.e_at)!, direction: r.e_direction ?? 'inbound' }
          : null,
        lastInboundAt: iso(r.last_inbound_at),
      }));
    },

    async hasRecentEmail(userId, q) {
      const row = await sqlOne<{ count: number; last: Date | null }>(em(),
        `select count(*)::int as count, max(at) as last from emails
          where user_id = ? and thread_id = ? and at > ?::timestamptz and (? = 'any' or direction = ?)`,
        [userId, q.threadId, q.since, q.direction, q.direction]);
      return { count: row?.count ?? 0, lastEmailAt: iso(row?.last ?? null) };
    },
  };
}
