import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SwitchyardError } from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import type { CrmStore, DraftDto } from './crm.service';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/**
 * Reads and one write behind the editor's CRM pages: everything about a contact in one call
 * (what runs and agents produced about them), and sending a draft once a person approved it.
 */
/** Adds `contactName` to rows that name a contact (the Tasks and Follow-ups pages show who). */
export async function withContactNames<T extends { contactId: string | null }, P extends { items: T[] }>(em: EntityManager, userId: string, page: P & { items: T[] }) {
  const ids = [...new Set(page.items.map((i) => i.contactId).filter((x): x is string => x !== null))];
  const rows = ids.length
    ? await sql<{ id: string; name: string }>(em, `select id, name from contacts where user_id = ? and id in (${ids.map(() => '?').join(', ')})`, [userId, ...ids])
    : [];
  const names = new Map(rows.map((r) => [r.id, r.name]));
  return { ...page, items: page.items.map((i) => ({ ...i, contactName: i.contactId ? (names.get(i.contactId) ?? null) : null })) };
}

export function createCrmPages(crm: CrmStore, clock: { now(): number }) {
  return {
    /** The contact with its threads (newest first, with messages), tasks, follow-ups, drafts, notifications and agent memory. */
    async contactDetail(em: EntityManager, userId: string, id: string) {
      const contact = await crm.getContact(em, userId, id);
      const threads = await crm.listThreads(em, userId, { contactId: id, limit: 20 });
      const messages = threads.items.length
        ? await sql<{ id: string; thread_id: string; direction: string; from_addr: string; to_addrs: string[]; subject: string; body: string; at: Date; is_important: boolean }>(em,
          `select id, thread_id, direction, from_addr, to_addrs, subject, body, at, is_important from emails
            where user_id = ? and thread_id in (${threads.items.map(() => '?').join(', ')}) order by at desc, id desc limit 200`,
          [userId, ...threads.items.map((t) => t.id)])
        : [];
      const [tasks, followUps, drafts] = await Promise.all([
        crm.listTasks(em, userId, { contactId: id, limit: 50 }),
        crm.listFollowUps(em, userId, { contactId: id, limit: 50 }),
        crm.listDrafts(em, userId, { contactId: id, limit: 50 }),
      ]);
      const notifications = await sql<{ id: string; title: string; state: string; priority: string; created_at: Date }>(em,
        `select id, title, state, priority, created_at from notifications where user_id = ? and contact_id = ? order by created_at desc limit 20`, [userId, id]);
      // What agents remember about this contact: interactions recorded against it, and memory keys naming it.
      const interactions = await sql<{ agent_id: string; agent_name: string; data: unknown; at: Date }>(em,
        `select i.agent_id, a.name as agent_name, i.data, i.at from agent_interactions i join agents a on a.id = i.agent_id
          where a.user_id = ? and i.entity_type = 'contact' and (i.entity_id = ? or lower(i.entity_id) = lower(?))
          order by i.id desc limit 50`, [userId, id, contact.email]);
      const memory = await sql<{ agent_id: string; agent_name: string; key: string; value: unknown; updated_at: Date }>(em,
        `select m.agent_id, a.name as agent_name, m.key, m.value, m.updated_at from agent_memory m join agents a on a.id = m.agent_id
          where a.user_id = ? and (position(lower(?) in lower(m.key)) > 0 or position(? in m.key) > 0)
            and (m.expires_at is null or m.expires_at > ?)
          order by m.updated_at desc limit 50`, [userId, contact.email, id, new Date(clock.now()).toISOString()]);
      return {
        contact,
        threads: threads.items.map((t) => ({
          ...t,
          messages: messages.filter((m) => m.thread_id === t.id).map((m) => ({
            id: m.id, direction: m.direction, from: m.from_addr, to: m.to_addrs, subject: m.subject, body: m.body, at: iso(m.at)!, isImportant: m.is_important,
          })),
        })),
        tasks: tasks.items,
        followUps: followUps.items,
        drafts: drafts.items,
        notifications: notifications.map((n) => ({ id: n.id, title: n.title, state: n.state, priority: n.priority, createdAt: iso(n.created_at)! })),
        agentMemory: {
          interactions: interactions.map((i) => ({ agentId: i.agent_id, agentName: i.agent_name, data: i.data, at: iso(i.at)! })),
          entries: memory.map((m) => ({ agentId: m.agent_id, agentName: m.agent_name, key: m.key, value: m.value, updatedAt: iso(m.updated_at)! })),
        },
      };
    },

    /**
     * Sends a draft a person approved: the outbound email goes into its thread (or a new one), the
     * contact's last interaction moves on, and the draft becomes `sent`, in one transaction. A draft
     * that is not in `draft` any more is INVALID_STATE, so a double click never sends twice.
     */
    async sendDraft(em: EntityManager, userId: string, id: string): Promise<{ draft: DraftDto; emailId: string; threadId: string; to: string[]; subject: string; body: string }> {
      const now = new Date(clock.now()).toISOString();
      return em.fork().transactional(async (tx) => {
        const d = await sqlOne<{ id: string; status: string; thread_id: string | null; contact_id: string | null; to_addrs: string[]; subject: string; body: string }>(tx,
          'select * from drafts where id = ? and user_id = ? for update', [id, userId]);
        if (!d) throw new SwitchyardError('NOT_FOUND', 'Draft not found');
        if (d.status !== 'draft') throw new SwitchyardError('INVALID_STATE', `This draft is ${d.status} and cannot be sent`);
        const to = Array.isArray(d.to_addrs) ? d.to_addrs : [];
        if (to.length === 0) throw new SwitchyardError('BAD_INPUT', 'Add a recipient before sending', { issues: [{ path: ['to'], message: 'Required' }] });
        if (!d.subject.trim() && !d.body.trim()) throw new SwitchyardError('BAD_INPUT', 'The draft is empty', { issues: [{ path: ['body'], message: 'Required' }] });
        const contact = d.contact_id
          ? await sqlOne<{ id: string }>(tx, 'select id from contacts where id = ? and user_id = ?', [d.contact_id, userId])
          : await sqlOne<{ id: string }>(tx, 'select id from contacts where user_id = ? and lower(email) = lower(?)', [userId, to[0]]);
        let threadId = d.thread_id;
        if (threadId) {
          await sql(tx, 'update email_threads set last_message_at = greatest(last_message_at, ?::timestamptz) where id = ? and user_id = ?', [now, threadId, userId]);
        } else {
          threadId = randomUUID();
          await sql(tx, 'insert into email_threads (id, user_id, subject, contact_id, last_message_at) values (?, ?, ?, ?, ?)', [threadId, userId, d.subject, contact?.id ?? null, now]);
        }
        const emailId = randomUUID();
        await sql(tx,
          `insert into emails (id, user_id, thread_id, direction, from_addr, to_addrs, subject, body, is_important, is_unread, at, created_at)
           values (?, ?, ?, 'outbound', 'me', ?, ?, ?, false, false, ?, ?)`,
          [emailId, userId, threadId, to, d.subject, d.body, now, now]);
        if (contact) await sql(tx, 'update contacts set last_interaction_at = greatest(coalesce(last_interaction_at, ?::timestamptz), ?::timestamptz), updated_at = ? where id = ?', [now, now, now, contact.id]);
        await sql(tx, `update drafts set status = 'sent', thread_id = ?, updated_at = ? where id = ?`, [threadId, now, id]);
        return { draft: await crm.getDraft(tx as unknown as EntityManager, userId, id), emailId, threadId, to, subject: d.subject, body: d.body };
      });
    },
  };
}
