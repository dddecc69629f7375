import { z } from 'zod';
import { EMAIL_DIRECTIONS } from '../entities/email.entity';
import { DRAFT_STATUSES } from '../entities/draft.entity';
import { FOLLOW_UP_STATUSES } from '../entities/follow-up.entity';
import { NOTIFICATION_PRIORITIES } from '../entities/notification.entity';
import { TASK_PRIORITIES, TASK_STATUSES } from '../entities/task.entity';

/** Inputs of the CRM API. Addresses are stored lower-case, so uniqueness is case-insensitive. */
export const IdSchema = z.uuid();
export const EmailAddressSchema = z.email().max(320).trim().toLowerCase();
export const DateTimeSchema = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().trim().max(max);
const name = (max: number) => z.string().trim().min(1).max(max);

export const MAX_PAGE = 200;
/** Keyset paging by `cursor` (opaque, from `nextCursor`), or `offset` when a UI needs page numbers. */
export const PageSchema = z.object({
  limit: z.number().int().min(1).max(MAX_PAGE).default(50),
  cursor: z.string().max(1000).optional(),
  offset: z.number().int().min(0).max(100_000).optional(),
  search: text(200).optional(),
});
export type PageInput = z.output<typeof PageSchema>;

export const ByIdSchema = z.object({ id: IdSchema });

// Contacts ---------------------------------------------------------------------------------------
const contactFields = {
  name: name(200),
  email: EmailAddressSchema,
  company: text(200),
  title: text(200),
  phone: text(50),
  relationshipStrength: z.number().min(0).max(1),
  lastInteractionAt: DateTimeSchema.nullable(),
  tags: z.array(name(50)).max(50),
  notes: text(10_000),
};
export const ContactCreateSchema = z.object({
  ...contactFields,
  company: contactFields.company.default(''),
  title: contactFields.title.default(''),
  phone: contactFields.phone.default(''),
  relationshipStrength: contactFields.relationshipStrength.default(0.5),
  lastInteractionAt: contactFields.lastInteractionAt.default(null),
  tags: contactFields.tags.default([]),
  notes: contactFields.notes.default(''),
});
export const ContactUpdateSchema = z.object(contactFields).partial().extend({ id: IdSchema });
export const ContactListSchema = PageSchema.extend({ tag: name(50).optional() });

// Emails -----------------------------------------------------------------------------------------
export const ThreadListSchema = PageSchema.extend({ contactId: IdSchema.optional() });
/** An email into a thread; without `threadId` a new thread is started with its subject. */
export const EmailCreateSchema = z.object({
  threadId: IdSchema.optional(),
  direction: z.enum(EMAIL_DIRECTIONS).default('inbound'),
  from: EmailAddressSchema,
  to: z.array(EmailAddressSchema).min(1).max(50),
  subject: text(500),
  body: text(100_000).default(''),
  isImportant: z.boolean().default(false),
  /** Defaults to true for inbound mail, false for outbound. */
  isUnread: z.boolean().optional(),
  at: DateTimeSchema.optional(),
});

// Tasks ------------------------------------------------------------------------------------------
const taskFields = {
  title: name(300),
  description: text(10_000),
  dueAt: DateTimeSchema.nullable(),
  priority: z.enum(TASK_PRIORITIES),
  contactId: IdSchema.nullable(),
};
export const TaskCreateSchema = z.object({
  ...taskFields,
  description: taskFields.description.default(''),
  dueAt: taskFields.dueAt.default(null),
  priority: taskFields.priority.default('medium'),
  contactId: taskFields.contactId.default(null),
});
export const TaskUpdateSchema = z.object({ ...taskFields, status: z.enum(TASK_STATUSES) }).partial().extend({ id: IdSchema });
export const TaskListSchema = PageSchema.extend({
  status: z.enum(TASK_STATUSES).optional(),
  priority: z.enum(TASK_PRIORITIES).optional(),
  contactId: IdSchema.optional(),
});

// Follow-ups -------------------------------------------------------------------------------------
export const FollowUpCreateSchema = z.object({
  contactId: IdSchema,
  threadId: IdSchema.nullable().default(null),
  dueAt: DateTimeSchema,
  note: text(5_000).default(''),
});
export const FollowUpUpdateSchema = z.object({
  id: IdSchema,
  dueAt: DateTimeSchema.optional(),
  note: text(5_000).optional(),
  status: z.enum(FOLLOW_UP_STATUSES).optional(),
  snoozedUntil: DateTimeSchema.nullable().optional(),
}).refine((u) => u.status !== 'snoozed' || !!u.snoozedUntil, { path: ['snoozedUntil'], message: 'Required when snoozing' });
export const FollowUpListSchema = PageSchema.extend({
  status: z.enum(FOLLOW_UP_STATUSES).optional(),
  contactId: IdSchema.optional(),
  dueBefore: DateTimeSchema.optional(),
});

// Notifications ----------------------------------------------------------------------------------
export const NotificationActionSchema = z.object({
  id: name(64),
  label: name(100),
  action: name(100),
  payload: z.unknown().optional(),
});
export const NotificationCreateSchema = z.object({
  type: name(100),
  title: name(300),
  body: text(10_000).default(''),
  priority: z.enum(NOTIFICATION_PRIORITIES).default('normal'),
  actions: z.array(NotificationActionSchema).max(10).default([]),
  sourceRunId: IdSchema.nullable().default(null),
});
export const NotificationListSchema = PageSchema.extend({
  unreadOnly: z.boolean().default(false),
  /** Dismissed and currently snoozed notifications are hidden unless asked for. */
  includeHidden: z.boolean().default(false),
  priority: z.enum(NOTIFICATION_PRIORITIES).optional(),
});
export const NotificationActSchema = z.object({ id: IdSchema, actionId: name(64) });
export const NotificationSnoozeSchema = z.object({ id: IdSchema, until: DateTimeSchema });

// Drafts -----------------------------------------------------------------------------------------
export const DraftCreateSchema = z.object({
  threadId: IdSchema.nullable().default(null),
  contactId: IdSchema.nullable().default(null),
  to: z.array(EmailAddressSchema).max(50).default([]),
  subject: text(500).default(''),
  body: text(100_000).default(''),
});
export const DraftUpdateSchema = z.object({
  id: IdSchema,
  to: z.array(EmailAddressSchema).max(50).optional(),
  subject: text(500).optional(),
  body: text(100_000).optional(),
  status: z.enum(DRAFT_STATUSES).optional(),
});
export const DraftListSchema = PageSchema.extend({ status: z.enum(DRAFT_STATUSES).optional(), contactId: IdSchema.optional() });

export type ContactCreate = z.output<typeof ContactCreateSchema>;
export type ContactUpdate = z.output<typeof ContactUpdateSchema>;
export type ContactList = z.output<typeof ContactListSchema>;
export type ThreadList = z.output<typeof ThreadListSchema>;
export type EmailCreate = z.output<typeof EmailCreateSchema>;
export type TaskCreate = z.output<typeof TaskCreateSchema>;
export type TaskUpdate = z.output<typeof TaskUpdateSchema>;
export type TaskList = z.output<typeof TaskListSchema>;
export type FollowUpCreate = z.output<typeof FollowUpCreateSchema>;
export type FollowUpUpdate = z.output<typeof FollowUpUpdateSchema>;
export type FollowUpList = z.output<typeof FollowUpListSchema>;
export type NotificationCreate = z.output<typeof NotificationCreateSchema>;
export type NotificationList = z.output<typeof NotificationListSchema>;
export type DraftCreate = z.output<typeof DraftCreateSchema>;
export type DraftUpdate = z.output<typeof DraftUpdateSchema>;
export type DraftList = z.output<typeof DraftListSchema>;
