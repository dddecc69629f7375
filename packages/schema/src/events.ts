import { z } from 'zod';

const email = z.string().trim().toLowerCase().email('Not an email address').max(320);

export const EmailReceivedPayloadSchema = z.object({
  emailId: z.string().max(100).optional(),
  threadId: z.string().max(100).optional(),
  from: email,
  fromName: z.string().max(200).optional(),
  to: z.array(email).max(100).default([]),
  subject: z.string().max(1000).default(''),
  body: z.string().max(200_000).default(''),
  isImportant: z.boolean().default(false),
  isUnread: z.boolean().default(true),
  receivedAt: z.string().datetime({ offset: true }).optional(),
});

export const EmailSentPayloadSchema = z.object({
  emailId: z.string().max(100).optional(),
  threadId: z.string().max(100).optional(),
  to: z.array(email).min(1).max(100),
  subject: z.string().max(1000).default(''),
  body: z.string().max(200_000).default(''),
});

export const ContactCreatedPayloadSchema = z.object({
  contactId: z.string().max(100).optional(),
  name: z.string().max(200).default(''),
  email,
  company: z.string().max(200).optional(),
});

export const UserLoginPayloadSchema = z.object({ at: z.string().datetime({ offset: true }).optional() });

/** A person acted on a notification (the runtime emits it; see docs/notifications.md). */
export const NotificationActedPayloadSchema = z.object({
  notificationId: z.string().min(1).max(100),
  actionId: z.string().max(100).optional(),
  action: z.string().min(1).max(50),
  result: z.unknown().optional(),
  notificationType: z.string().max(100).optional(),
  contactId: z.string().max(100).nullable().optional(),
  suggestionKey: z.string().max(500).nullable().optional(),
  behaviorId: z.string().max(100).nullable().optional(),
  sourceRunId: z.string().max(100).nullable().optional(),
  at: z.string().max(40).optional(),
});

/** A domain event as clients send it to events.emit. */
export const DomainEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('email.received'), payload: EmailReceivedPayloadSchema }),
  z.object({ type: z.literal('email.sent'), payload: EmailSentPayloadSchema }),
  z.object({ type: z.literal('contact.created'), payload: ContactCreatedPayloadSchema }),
  z.object({ type: z.literal('user.login'), payload: UserLoginPayloadSchema }),
  z.object({ type: z.literal('notification.acted'), payload: NotificationActedPayloadSchema }),
]);
export type DomainEvent = z.infer<typeof DomainEventSchema>;

export const EmitEventInputSchema = z.intersection(
  DomainEventSchema,
  z.object({ dedupeKey: z.string().min(1).max(200).optional() }),
);
