import { z } from 'zod';
import { NOTIFICATION_PRIORITIES, NOTIFICATION_STATES } from '../entities/notification.entity';
import { DateTimeSchema, IdSchema, PageSchema } from '../crm/crm.schemas';

/** Inputs of `notifications.*`. */
export const NotificationsListSchema = PageSchema.extend({
  /** Default: what the inbox shows (unread, read and snoozes that ran out). */
  view: z.enum(['inbox', 'snoozed', 'done', 'all']).default('inbox'),
  state: z.enum(NOTIFICATION_STATES).optional(),
  priority: z.enum(NOTIFICATION_PRIORITIES).optional(),
  contactId: IdSchema.optional(),
});
export type NotificationsList = z.output<typeof NotificationsListSchema>;

export const NotificationIdSchema = z.object({ id: IdSchema });

/** `until` is needed by a snooze button without a default `snoozeFor`. */
export const NotificationsActSchema = z.object({
  id: IdSchema,
  actionId: z.string().trim().min(1).max(64),
  until: DateTimeSchema.optional(),
});
export type NotificationsAct = z.output<typeof NotificationsActSchema>;

export const NotificationsSnoozeSchema = z.object({ id: IdSchema, until: DateTimeSchema });

export const EngagementSchema = z.object({
  /** Only engagement from this time on (default: all). */
  since: DateTimeSchema.optional(),
}).prefault({});
