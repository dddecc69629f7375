import { EntitySchema } from '@mikro-orm/core';
import { json, jsonNull, text, textNull, ts, tsNull, uuid, uuidNull, uuidPk } from './columns';

export const NOTIFICATION_PRIORITIES = ['low', 'normal', 'high'] as const;
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number];

/** Where a notification is in its life: `snoozed` ones come back as `unread` when their time is due. */
export const NOTIFICATION_STATES = ['unread', 'read', 'acted', 'dismissed', 'snoozed'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

/**
 * A button on a notification; `action` names what pressing it does: one of the typed kinds in
 * notifications/actions.ts (`compose-email`, `complete-follow-up`, `snooze`, `dismiss`,
 * `open-contact`), anything else is a custom answer that is only recorded and emitted.
 */
export interface NotificationAction {
  id: string;
  label: string;
  action: string;
  payload?: unknown;
}

export interface Notification {
  id: string;
  userId: string;
  type: string;
  title: string;
  body: string;
  priority: NotificationPriority;
  actions: NotificationAction[];
  state: NotificationState;
  readAt: Date | null;
  actedAt: Date | null;
  actedAction: string | null;
  /** What acting produced (the draft created, the follow-up completed...). */
  actedResult: unknown;
  dismissedAt: Date | null;
  snoozedAt: Date | null;
  snoozedUntil: Date | null;
  /** When a snooze last ran out and the notification came back. */
  returnedAt: Date | null;
  contactId: string | null;
  /** Dedupe: the same suggestion key for the same contact is not raised twice within the window. */
  suggestionKey: string | null;
  /** The document (behavior or workflow) whose run raised it; engagement is counted per behavior. */
  behaviorId: string | null;
  sourceRunId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const NotificationEntity = new EntitySchema<Notification>({
  name: 'Notification',
  tableName: 'notifications',
  properties: {
    id: uuidPk, userId: uuid, type: text, title: text, body: text, priority: { type: 'text' }, actions: json,
    state: { type: 'text' }, readAt: tsNull, actedAt: tsNull, actedAction: textNull, actedResult: jsonNull, dismissedAt: tsNull,
    snoozedAt: tsNull, snoozedUntil: tsNull, returnedAt: tsNull, contactId: uuidNull, suggestionKey: textNull, behaviorId: textNull,
    sourceRunId: uuidNull, createdAt: ts, updatedAt: ts,
  },
});
