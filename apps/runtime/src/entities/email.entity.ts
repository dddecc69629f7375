import { EntitySchema } from '@mikro-orm/core';
import { bool, json, text, ts, uuid, uuidNull, uuidPk } from './columns';

export interface EmailThread {
  id: string;
  userId: string;
  subject: string;
  contactId: string | null;
  lastMessageAt: Date;
}

export const EmailThreadEntity = new EntitySchema<EmailThread>({
  name: 'EmailThread',
  tableName: 'email_threads',
  properties: { id: uuidPk, userId: uuid, subject: text, contactId: uuidNull, lastMessageAt: ts },
});

export const EMAIL_DIRECTIONS = ['inbound', 'outbound'] as const;
export type EmailDirection = (typeof EMAIL_DIRECTIONS)[number];

export interface Email {
  id: string;
  userId: string;
  threadId: string;
  direction: EmailDirection;
  fromAddr: string;
  toAddrs: string[];
  subject: string;
  body: string;
  isImportant: boolean;
  isUnread: boolean;
  at: Date;
  createdAt: Date;
}

export const EmailEntity = new EntitySchema<Email>({
  name: 'Email',
  tableName: 'emails',
  properties: {
    id: uuidPk, userId: uuid, threadId: uuid, direction: { type: 'text' }, fromAddr: text, toAddrs: json,
    subject: text, body: text, isImportant: bool, isUnread: bool, at: ts, createdAt: ts,
  },
});
