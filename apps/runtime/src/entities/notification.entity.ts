import { EntitySchema } from '@mikro-orm/core';
import { json, text, textNull, ts, tsNull, uuid, uuidNull, uuidPk } from './columns';

export const NOTIFICATION_PRIORITIES = ['low', 'normal', 'high'] as const;
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number];

/** A button on a notification; `action` names what pressing it does (the host interprets it). */
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
  readAt: Date | null;
  actedAt: Date | null;
  actedAction: string | null;
  dismissedAt: Date | null;
  snoozedUntil: Date | null;
  sourceRunId: string | null;
  createdAt: Date;
}

export const NotificationEntity = new EntitySchema<Notification>({
  name: 'Notification',
  tableName: 'notifications',
  properties: {
    id: uuidPk, userId: uuid, type: text, title: text, body: text, priority: { type: 'text' }, actions: json,
    readAt: tsNull, actedAt: tsNull, actedAction: textNull, dismissedAt: tsNull, snoozedUntil: tsNull,
    sourceRunId: uuidNull, createdAt: ts,
  },
});
