import { EntitySchema } from '@mikro-orm/core';
import { json, text, ts, uuid, uuidNull, uuidPk } from './columns';

export const DRAFT_STATUSES = ['draft', 'sent', 'discarded'] as const;
export type DraftStatus = (typeof DRAFT_STATUSES)[number];

export interface Draft {
  id: string;
  userId: string;
  threadId: string | null;
  contactId: string | null;
  toAddrs: string[];
  subject: string;
  body: string;
  status: DraftStatus;
  sourceRunId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const DraftEntity = new EntitySchema<Draft>({
  name: 'Draft',
  tableName: 'drafts',
  properties: {
    id: uuidPk, userId: uuid, threadId: uuidNull, contactId: uuidNull, toAddrs: json, subject: text, body: text,
    status: { type: 'text' }, sourceRunId: uuidNull, createdAt: ts, updatedAt: ts,
  },
});
