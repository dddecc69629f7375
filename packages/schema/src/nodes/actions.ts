import { z } from 'zod';
import { IN, OUT, actionPolicy, defineNodeKind, durationString, template } from './common';

const PRIORITY = z.enum(['low', 'medium', 'high']);

export const sendEmailAction = defineNodeKind({
  type: 'action.sendEmail', typeVersion: 1, category: 'action', label: 'Send email', effect: true,
  description: 'Sends an email from your mailbox.',
  params: z.object({
    to: template(1000).min(1, 'Who should receive it?').default('{{ trigger.from }}'),
    subject: template(1000).min(1, 'Add a subject'),
    body: template(50_000).min(1, 'Write the message'),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});

export const draftReplyAction = defineNodeKind({
  type: 'action.draftReply', typeVersion: 1, category: 'action', label: 'Draft reply', effect: true,
  description: 'Writes a reply draft ("Re: ...") to the incoming email for you to review.',
  params: z.object({
    tone: z.enum(['professional', 'friendly', 'concise']).default('professional'),
    maxLength: z.number().int().min(20).max(2000).default(200).describe('Maximum words'),
    instructions: template(2000).default(''),
    ...actionPolicy,
  }),
  inputs: [{ id: 'in', label: 'Email', dataType: 'email' }], outputs: [OUT],
});

export const createTaskAction = defineNodeKind({
  type: 'action.createTask', typeVersion: 1, category: 'action', label: 'Create task', effect: true,
  description: 'Adds a task with a due time and priority.',
  params: z.object({
    title: template(500).min(1, 'Give the task a title'),
    description: template(5000).default(''),
    dueIn: durationString('1 day').describe('e.g. "1 hour", "2 days"'),
    priority: PRIORITY.default('medium'),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});

export const updateContactAction = defineNodeKind({
  type: 'action.updateContact', typeVersion: 1, category: 'action', label: 'Update contact', effect: true,
  description: 'Changes fields of a CRM contact.',
  params: z.object({
    email: template(500).default('{{ trigger.from }}').describe('Contact to update'),
    relationshipStrength: z.number().min(0).max(1).optional(),
    addTags: z.array(z.string().min(1).max(50)).max(20).default([]),
    appendNote: template(2000).default(''),
    touchLastInteraction: z.boolean().default(true),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});

/**
 * What pressing a notification's button does. `compose-email` opens the prepared draft,
 * `complete-follow-up` completes a follow-up, `snooze` hides it until a chosen time, `dismiss` removes
 * it, `open-contact` opens the contact; `custom` only records the answer and emits `notification.acted`.
 */
export const NOTIFICATION_ACTION_KINDS = ['compose-email', 'complete-follow-up', 'snooze', 'dismiss', 'open-contact', 'custom'] as const;
export type NotificationActionKind = (typeof NOTIFICATION_ACTION_KINDS)[number];

export const NotificationActionButtonSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'Lowercase letters, digits and "-"'),
  label: z.string().min(1).max(60),
  kind: z.enum(NOTIFICATION_ACTION_KINDS).default('custom'),
  // Flat fields (not a nested object), so the inspector keeps one row of simple controls per button.
  /** compose-email: the prepared draft (templates); an empty `draftTo` falls back to the contact's address. */
  draftTo: template(1000).optional(),
  draftSubject: template(1000).optional(),
  draftBody: template(50_000).optional(),
  /** complete-follow-up: which follow-up (template, e.g. "{{ item.id }}"). */
  followUpId: template(200).optional(),
  /** snooze: the default time to snooze for when the person does not choose one. */
  snoozeFor: durationString().optional(),
}).superRefine((a, ctx) => {
  if (a.kind === 'compose-email' && !a.draftSubject && !a.draftBody) ctx.addIssue({ code: 'custom', path: ['draftBody'], message: 'Compose needs a prepared draft' });
  if (a.kind === 'complete-follow-up' && !a.followUpId) ctx.addIssue({ code: 'custom', path: ['followUpId'], message: 'Which follow-up should be completed?' });
});

export const sendNotificationAction = defineNodeKind({
  type: 'action.sendNotification', typeVersion: 1, category: 'action', label: 'Send notification', effect: true,
  description: 'Puts a notification in your inbox, optionally with action buttons (compose, complete, snooze, dismiss, open contact).',
  params: z.object({
    title: template(200).min(1, 'Give the notification a title'),
    body: template(2000).default(''),
    priority: z.enum(['low', 'normal', 'high']).default('normal'),
    notificationType: z.string().regex(/^[a-z][a-z0-9-]{0,59}$/).default('workflow'),
    actions: z.array(NotificationActionButtonSchema).max(5).default([]),
    /** The contact the suggestion is about (template, e.g. "{{ item.id }}"); enables "open contact" and per-contact dedupe. */
    contactId: template(200).default(''),
    /** Dedupe: a suggestion with this key for the same contact is not raised again within `dedupeWindow`. Empty: never deduped. */
    suggestionKey: template(300).default(''),
    dedupeWindow: durationString('7 days').describe('e.g. "7 days", "12 hours"'),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});

export const scheduleFollowUpAction = defineNodeKind({
  type: 'action.scheduleFollowUp', typeVersion: 1, category: 'action', label: 'Schedule follow-up', effect: true,
  description: 'Reminds you to follow up with a contact later.',
  params: z.object({
    email: template(500).default('{{ trigger.from }}'),
    dueIn: durationString('3 days'),
    note: template(2000).default(''),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});

export const webhookAction = defineNodeKind({
  type: 'action.webhook', typeVersion: 1, category: 'action', label: 'Call webhook', effect: true,
  description: 'Sends an HTTP request (with an Idempotency-Key header) to another service.',
  params: z.object({
    url: template(2000).min(1, 'Enter a URL').describe('http(s) URL; private and local addresses are refused'),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(2000)).default({}),
    body: template(100_000).default('').describe('Empty sends the trigger and step outputs as JSON'),
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});

export const setMemoryAction = defineNodeKind({
  type: 'action.setMemory', typeVersion: 1, category: 'action', label: 'Set memory', effect: true,
  description: 'Remembers a value under a key, optionally for a limited time.',
  params: z.object({
    key: template(200).min(1, 'Name the key'),
    value: template(10_000),
    ttlSeconds: z.number().int().positive().max(31_536_000).optional(),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});
