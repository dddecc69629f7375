import { EntitySchema } from '@mikro-orm/core';
import { text, ts, tsNull, uuid, uuidNull, uuidPk } from './columns';

export const FOLLOW_UP_STATUSES = ['pending', 'completed', 'snoozed'] as const;
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];

export interface FollowUp {
  id: string;
  userId: string;
  contactId: string;
  threadId: string | null;
  dueAt: Date;
  note: string;
  status: FollowUpStatus;
  snoozedUntil: Date | null;
  createdAt: Date;
  completedAt: Date | null;
}

export const FollowUpEntity = new EntitySchema<FollowUp>({
  name: 'FollowUp',
  tableName: 'follow_ups',
  properties: {
    id: uuidPk, userId: uuid, contactId: uuid, threadId: uuidNull, dueAt: ts, note: text, status: { type: 'text' },
    snoozedUntil: tsNull, createdAt: ts, completedAt: tsNull,
  },
});
