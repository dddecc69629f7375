import { randomUUID } from 'node:crypto';
import { raw, UniqueConstraintViolationException, type EntitySchema, type FilterQuery, type QueryOrderMap } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SwitchyardError, textProblem } from '@switchyard/schema';
import {
  ContactEntity, DraftEntity, EmailEntity, EmailThreadEntity, FollowUpEntity, NotificationEntity, TaskEntity,
  type Contact, type Draft, type Email, type EmailThread, type FollowUp, type Notification, type NotificationAction, type Task,
} from '../entities';
import type {
  ContactCreate, ContactList, ContactUpdate, DraftCreate, DraftList, DraftUpdate, EmailCreate, FollowUpCreate, FollowUpList,
  FollowUpUpdate, NotificationCreate, NotificationList, PageInput, TaskCreate, TaskList, TaskUpdate, ThreadList,
} from './crm.schemas';

/** What the API returns for a row: dates as ISO strings (plain JSON, no transformer), no `userId`. */
export type Dto<T> = {
  [K in keyof T as K extends 'userId' ? never : K]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};
export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page or in offset mode. */
  nextCursor: string | null;
  /** In offset mode, the next page's `offset`; null on the last page. */
  nextOffset: number | null;
}
export type ContactDto = Dto<Contact>;
export type ThreadDto = Dto<EmailThread> & { messageCount: number; unreadCount: number; hasImportant: boolean };
export type EmailDto = Dto<Email>;
export type TaskDto = Dto<Task>;
export type FollowUpDto = Dto<FollowUp>;
export type NotificationDto = Dto<Notification>;
export type DraftDto = Dto<Draft>;

export function toDto<T extends object>(row: T): Dto<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (k !== 'userId') out[k] = v instanceof Date ? v.toISOString() : v;
  return out as Dto<T>;
}

const date = (iso: string) => new Date(iso);
const dateOrNull = (iso: string | null) => (iso === null ? null : new Date(iso));
/** Drops keys whose value is undefined, so a partial update only touches what was sent. */
const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const notFound = (what: string, path?: string) =>
  new SwitchyardError('NOT_FOUND', `${what} not found`, path ? { issues: [{ path: [path], message: `${what} not found` }] } : {});

type Order<T> = QueryOrderMap<T>;

type CursorKind = 'date' | 'uuid' | 'text' | 'number';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const cursorKind = (type: unknown): CursorKind => (type === 'Date' ? 'date' : type === 'uuid' ? 'uuid' : type === 'integer' || type === 'float' || type === 'double' || type === 'number' ? 'number' : 'text');

/** The values of the last row's order keys, dates as ISO strings (their kind is known from the entity). */
function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values.map((v) => (v instanceof Date ? v.toISOString() : v)))).toString('base64url');
}

/** The order-key values of a cursor, each checked against its column's kind; null when it is not one of ours. */
function decodeCursor(cursor: string, kinds: CursorKind[]): unknown[] | null {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(values) || values.length !== kinds.length) return null;
  const out: unknown[] = [];
  for (const [i, kind] of kinds.entries()) {
    const v: unknown = values[i];
    if (kind === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      out.push(v);
    } else if (typeof v !== 'string' || textProblem(v) || v.length > 1000) {
      return null;
    } else if (kind === 'date') {
      const d = new Date(v);
      if (Number.isNaN(d.getTime()) || d.toISOString() !== v) return null;
      out.push(d);
    } else if (kind === 'uuid' && !UUID.test(v)) {
      return null;
    } else out.push(v);
  }
  return out;
}

/**
 * The CRM domain: contacts, email threads, tasks, follow-ups, notifications and drafts. Every method
 * takes the EntityManager to use (callers may pass a transactional one) and the acting user; every
 * query is scoped by that user, so another user's row is simply NOT_FOUND.
 */
export class CrmStore {
  constructor(private readonly clock: { now(): number } = { now: () => Date.now() }) {}

  private now() {
    return new Date(this.clock.now());
  }

  /**
   * Keyset paging with our own cursor, or offset paging when `offset` is given. Not MikroORM's
   * `findByCursor`: its decoder turns every string that looks like an ISO date into a Date (so our own
   * `nextCursor` of a date-ordered list came back refused, and a contact named like a date would page
   * wrongly), and it trusts the cursor's value types, so a forged cursor reached PostgreSQL as a cast error.
   */
  private async page<T extends object>(em: EntityManager, entity: EntitySchema<T>, where: FilterQuery<T>, input: PageInput, orderBy: Order<T>[]): Promise<Page<T>> {
    if (input.offset !== undefined) {
      const rows = await em.find(entity, where, { orderBy, limit: input.limit + 1, offset: input.offset });
      const more = rows.length > input.limit;
      return { items: rows.slice(0, input.limit) as T[], nextCursor: null, nextOffset: more ? input.offset + input.limit : null };
    }
    const keys = orderBy.map((o) => {
      const [key, dir] = Object.entries(o)[0]! as [string, string];
      return { key, desc: dir.toLowerCase() === 'desc', kind: cursorKind((entity.meta.properties as Record<string, { type?: unknown } | undefined>)[key]?.type) };
    });
    let filter = where;
    if (input.cursor !== undefined) {
      const values = decodeCursor(input.cursor, keys.map((k) => k.kind));
      if (!values) throw new SwitchyardError('BAD_INPUT', 'Invalid cursor', { issues: [{ path: ['cursor'], message: 'Invalid cursor' }] });
      // (k1, k2, ...) after the cursor in the list's order: k1 past it, or k1 equal and k2 past it, ...
      const after = keys.map((k, i) => Object.fromEntries([
        ...keys.slice(0, i).map((prev, j) => [prev.key, values[j]]),
        [k.key, { [k.desc ? '$lt' : '$gt']: values[i] }],
      ]));
      filter = { $and: [where, { $or: after }] } as FilterQuery<T>;
    }
    const rows = (await em.find(entity, filter, { orderBy, limit: input.limit + 1 })) as T[];
    const more = rows.length > input.limit;
    const items = rows.slice(0, input.limit);
    const last = items[items.length - 1] as Record<string, unknown> | undefined;
    return { items, nextCursor: more && last ? encodeCursor(keys.map((k) => last[k.key])) : null, nextOffset: null };
  }

  private async mustFind<T extends { id: string; userId: string }>(em: EntityManager, entity: EntitySchema<T>, userId: string, id: string, what: string, path?: string): Promise<T> {
    const row = await em.findOne(entity, { id, userId } as FilterQuery<T>);
    if (!row) throw notFound(what, path);
    return row as T;
  }

  private mapPage<T, U>(page: Page<T>, fn: (t: T) => U): Page<U> {
    return { ...page, items: page.items.map(fn) };
  }

  private async flushUnique(em: EntityManager, field: string, message: string) {
    try {
      await em.flush();
    } catch (e) {
      if (e instanceof UniqueConstraintViolationException) throw new SwitchyardError('CONFLICT', message, { cause: e, issues: [{ path: [field], message }] });
      throw e;
    }
  }

  // Contacts -------------------------------------------------------------------------------------

  async listContacts(em: EntityManager, userId: string, input: ContactList): Promise<Page<ContactDto>> {
    const where: FilterQuery<Contact> = { userId };
    if (input.search) {
      const p = likePattern(input.search);
      where.$or = [{ name: { $ilike: p } }, { email: { $ilike: p } }, { company: { $ilike: p } }];
    }
    if (input.tag) Object.assign(where, { [raw((a: string) => `${a}.tags @> ?::jsonb`, [JSON.stringify([input.tag])])]: [] });
    return this.mapPage(await this.page(em, ContactEntity, where, input, [{ name: 'asc' }, { id: 'asc' }]), toDto);
  }

  async getContact(em: EntityManager, userId: string, id: string): Promise<ContactDto> {
    return toDto(await this.mustFind(em, ContactEntity, userId, id, 'Contact'));
  }

  /** Case-insensitive: addresses are stored lower-case, and older rows are compared with lower(). */
  async findContactByEmail(em: EntityManager, userId: string, email: string): Promise<ContactDto | null> {
    const row = await em.findOne(ContactEntity, { userId, [raw((a: string) => `lower(${a}.email)`)]: email.trim().toLowerCase() });
    return row ? toDto(row) : null;
  }

  async createContact(em: EntityManager, userId: string, input: ContactCreate): Promise<ContactDto> {
    if (await this.findContactByEmail(em, userId, input.email)) throw duplicateEmail();
    const now = this.now();
    const row = em.create(ContactEntity, {
      ...input, id: randomUUID(), userId, lastInteractionAt: dateOrNull(input.lastInteractionAt), createdAt: now, updatedAt: now,
    });
    await this.flushUnique(em, 'email', 'A contact with this email exists already');
    return toDto(row);
  }

  async updateContact(em: EntityManager, userId: string, input: ContactUpdate): Promise<ContactDto> {
    const row = await this.mustFind(em, ContactEntity, userId, input.id, 'Contact');
    const { id: _id, lastInteractionAt, ...patch } = input;
    if (patch.email && patch.email !== row.email) {
      const other = await this.findContactByEmail(em, userId, patch.email);
      if (other && other.id !== row.id) throw duplicateEmail();
    }
    em.assign(row, { ...defined(patch), ...(lastInteractionAt === undefined ? {} : { lastInteractionAt: dateOrNull(lastInteractionAt) }), updatedAt: this.now() });
    await this.flushUnique(em, 'email', 'A contact with this email exists already');
    return toDto(row);
  }

  // Email threads and messages --------------------------------------------------------------------

  async listThreads(em: EntityManager, userId: string, input: ThreadList): Promise<Page<ThreadDto>> {
    const where: FilterQuery<EmailThread> = { userId };
    if (input.contactId) where.contactId = input.contactId;
    if (input.search) where.subject = { $ilike: likePattern(input.search) };
    const page = await this.page(em, EmailThreadEntity, where, input, [{ lastMessageAt: 'desc' }, { id: 'desc' }]);
    const stats = await this.threadStats(em, userId, page.items.map((t) => t.id));
    return this.mapPage(page, (t) => ({ ...toDto(t), ...(stats.get(t.id) ?? { messageCount: 0, unreadCount: 0, hasImportant: false }) }));
  }

  private async threadStats(em: EntityManager, userId: string, ids: string[]) {
    const stats = new Map<string, { messageCount: number; unreadCount: number; hasImportant: boolean }>();
    if (!ids.length) return stats;
    const rows = (await em.execute(
      `select thread_id, count(*)::int as messages, (count(*) filter (where is_unread))::int as unread, bool_or(is_important) as important
         from emails where user_id = ? and thread_id in (${ids.map(() => '?').join(', ')}) group by thread_id`,
      [userId, ...ids],
    )) as { thread_id: string; messages: number; unread: number; important: boolean }[];
    for (const r of rows) stats.set(r.thread_id, { messageCount: r.messages, unreadCount: r.unread, hasImportant: r.important });
    return stats;
  }

  async getThread(em: EntityManager, userId: string, id: string): Promise<{ thread: ThreadDto; messages: EmailDto[] }> {
    const thread = await this.mustFind(em, EmailThreadEntity, userId, id, 'Email thread');
    const messages = await em.find(EmailEntity, { userId, threadId: id }, { orderBy: [{ at: 'asc' }, { id: 'asc' }] });
    const stats = (await this.threadStats(em, userId, [id])).get(id) ?? { messageCount: 0, unreadCount: 0, hasImportant: false };
    return { thread: { ...toDto(thread), ...stats }, messages: messages.map(toDto) };
  }

  /**
   * Adds an email to a thread (or starts one), links the thread to the contact it is with, and
   * moves the contact's last interaction forward. One flush, so all of it or nothing.
   */
  async createEmail(em: EntityManager, userId: string, input: EmailCreate): Promise<{ thread: ThreadDto; email: EmailDto }> {
    const at = input.at ? date(input.at) : this.now();
    const counterpart = input.direction === 'inbound' ? [input.from] : input.to;
    let contact: Contact | null = null;
    for (const address of counterpart) {
      contact = await em.findOne(ContactEntity, { userId, [raw((a: string) => `lower(${a}.email)`)]: address });
      if (contact) break;
    }
    let thread: EmailThread;
    if (input.threadId) {
      thread = await this.mustFind(em, EmailThreadEntity, userId, input.threadId, 'Email thread', 'threadId');
      if (at > thread.lastMessageAt) thread.lastMessageAt = at;
      if (!thread.contactId && contact) thread.contactId = contact.id;
    } else {
      thread = em.create(EmailThreadEntity, { id: randomUUID(), userId, subject: input.subject, contactId: contact?.id ?? null, lastMessageAt: at });
    }
    const email = em.create(EmailEntity, {
      id: randomUUID(), userId, threadId: thread.id, direction: input.direction, fromAddr: input.from, toAddrs: input.to,
      subject: input.subject, body: input.body, isImportant: input.isImportant, isUnread: input.isUnread ?? input.direction === 'inbound',
      at, createdAt: this.now(),
    });
    if (contact && (!contact.lastInteractionAt || at > contact.lastInteractionAt)) {
      contact.lastInteractionAt = at;
      contact.updatedAt = this.now();
    }
    await em.flush();
    return { thread: (await this.getThread(em, userId, thread.id)).thread, email: toDto(email) };
  }

  // Tasks ----------------------------------------------------------------------------------------

  async listTasks(em: EntityManager, userId: string, input: TaskList): Promise<Page<TaskDto>> {
    const where: FilterQuery<Task> = { userId };
    if (input.status) where.status = input.status;
    if (input.priority) where.priority = input.priority;
    if (input.contactId) where.contactId = input.contactId;
    if (input.search) where.title = { $ilike: likePattern(input.search) };
    return this.mapPage(await this.page(em, TaskEntity, where, input, [{ createdAt: 'desc' }, { id: 'desc' }]), toDto);
  }

  async getTask(em: EntityManager, userId: string, id: string): Promise<TaskDto> {
    return toDto(await this.mustFind(em, TaskEntity, userId, id, 'Task'));
  }

  /**
   * A new task as it is stored, its contact checked to be the user's: `createTask` stores it
   * through the ORM, a flow's step through the effect ledger in one statement (host/effects.ts).
   */
  async newTask(em: EntityManager, userId: string, input: TaskCreate & { sourceRunId?: string | null }): Promise<Task> {
    if (input.contactId) await this.mustFind(em, ContactEntity, userId, input.contactId, 'Contact', 'contactId');
    return {
      id: randomUUID(), userId, title: input.title, description: input.description, dueAt: dateOrNull(input.dueAt),
      priority: input.priority, status: 'open', contactId: input.contactId, sourceRunId: input.sourceRunId ?? null,
      createdAt: this.now(), completedAt: null,
    };
  }

  async createTask(em: EntityManager, userId: string, input: TaskCreate & { sourceRunId?: string | null }): Promise<TaskDto> {
    const row = em.create(TaskEntity, await this.newTask(em, userId, input));
    await em.flush();
    return toDto(row);
  }

  async updateTask(em: EntityManager, userId: string, input: TaskUpdate): Promise<TaskDto> {
    const row = await this.mustFind(em, TaskEntity, userId, input.id, 'Task');
    if (input.contactId) await this.mustFind(em, ContactEntity, userId, input.contactId, 'Contact', 'contactId');
    const { id: _id, dueAt, status, ...patch } = input;
    em.assign(row, { ...defined(patch), ...(dueAt === undefined ? {} : { dueAt: dateOrNull(dueAt) }) });
    if (status && status !== row.status) {
      row.status = status;
      row.completedAt = status === 'completed' ? this.now() : null;
    }
    await em.flush();
    return toDto(row);
  }

  // Follow-ups -----------------------------------------------------------------------------------

  async listFollowUps(em: EntityManager, userId: string, input: FollowUpList): Promise<Page<FollowUpDto>> {
    const where: FilterQuery<FollowUp> = { userId };
    if (input.status) where.status = input.status;
    if (input.contactId) where.contactId = input.contactId;
    if (input.dueBefore) where.dueAt = { $lt: date(input.dueBefore) };
    if (input.search) where.note = { $ilike: likePattern(input.search) };
    return this.mapPage(await this.page(em, FollowUpEntity, where, input, [{ dueAt: 'asc' }, { id: 'asc' }]), toDto);
  }

  async getFollowUp(em: EntityManager, userId: string, id: string): Promise<FollowUpDto> {
    return toDto(await this.mustFind(em, FollowUpEntity, userId, id, 'Follow-up'));
  }

  async createFollowUp(em: EntityManager, userId: string, input: FollowUpCreate): Promise<FollowUpDto> {
    await this.mustFind(em, ContactEntity, userId, input.contactId, 'Contact', 'contactId');
    if (input.threadId) await this.mustFind(em, EmailThreadEntity, userId, input.threadId, 'Email thread', 'threadId');
    const row = em.create(FollowUpEntity, {
      id: randomUUID(), userId, contactId: input.contactId, threadId: input.threadId, dueAt: date(input.dueAt), note: input.note,
      status: 'pending', snoozedUntil: null, createdAt: this.now(), completedAt: null,
    });
    await em.flush();
    return toDto(row);
  }

  async updateFollowUp(em: EntityManager, userId: string, input: FollowUpUpdate): Promise<FollowUpDto> {
    const row = await this.mustFind(em, FollowUpEntity, userId, input.id, 'Follow-up');
    if (input.dueAt !== undefined) row.dueAt = date(input.dueAt);
    if (input.note !== undefined) row.note = input.note;
    if (input.snoozedUntil !== undefined) row.snoozedUntil = dateOrNull(input.snoozedUntil);
    if (input.status && input.status !== row.status) {
      row.status = input.status;
      row.completedAt = input.status === 'completed' ? this.now() : null;
      if (input.status !== 'snoozed') row.snoozedUntil = null;
    }
    await em.flush();
    return toDto(row);
  }

  // Notifications --------------------------------------------------------------------------------

  async listNotifications(em: EntityManager, userId: string, input: NotificationList): Promise<Page<NotificationDto>> {
    const where: FilterQuery<Notification> = { userId };
    if (input.unreadOnly) where.readAt = null;
    if (input.priority) where.priority = input.priority;
    if (!input.includeHidden) {
      where.dismissedAt = null;
      where.$or = [{ snoozedUntil: null }, { snoozedUntil: { $lte: this.now() } }];
    }
    if (input.search) where.title = { $ilike: likePattern(input.search) };
    return this.mapPage(await this.page(em, NotificationEntity, where, input, [{ createdAt: 'desc' }, { id: 'desc' }]), toDto);
  }

  async getNotification(em: EntityManager, userId: string, id: string): Promise<NotificationDto> {
    return toDto(await this.mustFind(em, NotificationEntity, userId, id, 'Notification'));
  }

  async createNotification(em: EntityManager, userId: string, input: NotificationCreate): Promise<NotificationDto> {
    const row = em.create(NotificationEntity, {
      id: randomUUID(), userId, type: input.type, title: input.title, body: input.body, priority: input.priority,
      actions: input.actions, state: 'unread', readAt: null, actedAt: null, actedAction: null, actedResult: null, dismissedAt: null,
      snoozedAt: null, snoozedUntil: null, returnedAt: null, contactId: null, suggestionKey: null, behaviorId: null,
      sourceRunId: input.sourceRunId, createdAt: this.now(), updatedAt: this.now(),
    });
    await em.flush();
    return toDto(row);
  }

  /**
   * Records that the user pressed one of the notification's actions and returns it, so the caller
   * can carry it out. Pressing the same action again is a no-op; a different one is INVALID_STATE.
   */
  async actOnNotification(em: EntityManager, userId: string, id: string, actionId: string): Promise<{ notification: NotificationDto; action: NotificationAction }> {
    const row = await this.mustFind(em, NotificationEntity, userId, id, 'Notification');
    const action = row.actions.find((a) => a.id === actionId);
    if (!action) throw new SwitchyardError('BAD_INPUT', `No action "${actionId}" on this notification`, { issues: [{ path: ['actionId'], message: 'Unknown action' }] });
    if (row.actedAction && row.actedAction !== actionId) throw new SwitchyardError('INVALID_STATE', `Already answered with "${row.actedAction}"`);
    if (!row.actedAt) {
      const now = this.now();
      row.actedAt = now;
      row.actedAction = actionId;
      row.readAt ??= now;
      row.state = 'acted';
      row.updatedAt = now;
      await em.flush();
    }
    return { notification: toDto(row), action };
  }

  async markNotificationRead(em: EntityManager, userId: string, id: string): Promise<NotificationDto> {
    const row = await this.mustFind(em, NotificationEntity, userId, id, 'Notification');
    row.readAt ??= this.now();
    if (row.state === 'unread') row.state = 'read';
    row.updatedAt = this.now();
    await em.flush();
    return toDto(row);
  }

  async dismissNotification(em: EntityManager, userId: string, id: string): Promise<NotificationDto> {
    const row = await this.mustFind(em, NotificationEntity, userId, id, 'Notification');
    row.dismissedAt ??= this.now();
    if (row.state !== 'acted') row.state = 'dismissed';
    row.updatedAt = this.now();
    await em.flush();
    return toDto(row);
  }

  async snoozeNotification(em: EntityManager, userId: string, id: string, until: string): Promise<NotificationDto> {
    const row = await this.mustFind(em, NotificationEntity, userId, id, 'Notification');
    const when = date(until);
    if (when <= this.now()) throw new SwitchyardError('BAD_INPUT', 'Snooze until a time in the future', { issues: [{ path: ['until'], message: 'Must be in the future' }] });
    row.snoozedUntil = when;
    row.snoozedAt = this.now();
    if (row.state !== 'acted' && row.state !== 'dismissed') row.state = 'snoozed';
    row.updatedAt = this.now();
    await em.flush();
    return toDto(row);
  }

  // Drafts ---------------------------------------------------------------------------------------

  async listDrafts(em: EntityManager, userId: string, input: DraftList): Promise<Page<DraftDto>> {
    const where: FilterQuery<Draft> = { userId };
    if (input.status) where.status = input.status;
    if (input.contactId) where.contactId = input.contactId;
    if (input.search) where.subject = { $ilike: likePattern(input.search) };
    return this.mapPage(await this.page(em, DraftEntity, where, input, [{ updatedAt: 'desc' }, { id: 'desc' }]), toDto);
  }

  async getDraft(em: EntityManager, userId: string, id: string): Promise<DraftDto> {
    return toDto(await this.mustFind(em, DraftEntity, userId, id, 'Draft'));
  }

  /**
   * A new draft as it is stored, its thread and contact checked to be the user's: `createDraft`
   * stores it through the ORM, a flow's step through the effect ledger in one statement (which
   * has read the thread already: `threadChecked`).
   */
  async newDraft(em: EntityManager, userId: string, input: DraftCreate & { sourceRunId?: string | null }, opts: { threadChecked?: boolean } = {}): Promise<Draft> {
    if (input.threadId && !opts.threadChecked) await this.mustFind(em, EmailThreadEntity, userId, input.threadId, 'Email thread', 'threadId');
    if (input.contactId) await this.mustFind(em, ContactEntity, userId, input.contactId, 'Contact', 'contactId');
    const now = this.now();
    return {
      id: randomUUID(), userId, threadId: input.threadId, contactId: input.contactId, toAddrs: input.to, subject: input.subject,
      body: input.body, status: 'draft', sourceRunId: input.sourceRunId ?? null, createdAt: now, updatedAt: now,
    };
  }

  async createDraft(em: EntityManager, userId: string, input: DraftCreate & { sourceRunId?: string | null }): Promise<DraftDto> {
    const row = em.create(DraftEntity, await this.newDraft(em, userId, input));
    await em.flush();
    return toDto(row);
  }

  /** Only a draft still in 'draft' can change; sent and discarded ones are history. */
  async updateDraft(em: EntityManager, userId: string, input: DraftUpdate): Promise<DraftDto> {
    const row = await this.mustFind(em, DraftEntity, userId, input.id, 'Draft');
    if (row.status !== 'draft') throw new SwitchyardError('INVALID_STATE', `This draft is ${row.status} and cannot change`);
    if (input.to !== undefined) row.toAddrs = input.to;
    if (input.subject !== undefined) row.subject = input.subject;
    if (input.body !== undefined) row.body = input.body;
    if (input.status !== undefined) row.status = input.status;
    row.updatedAt = this.now();
    await em.flush();
    return toDto(row);
  }
}

const duplicateEmail = () =>
  new SwitchyardError('CONFLICT', 'A contact with this email exists already', { issues: [{ path: ['email'], message: 'Already used by another contact' }] });
