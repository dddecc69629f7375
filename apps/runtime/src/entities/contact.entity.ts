import { EntitySchema } from '@mikro-orm/core';
import { json, text, ts, tsNull, uuid, uuidPk } from './columns';

export interface Contact {
  id: string;
  userId: string;
  name: string;
  email: string;
  company: string;
  title: string;
  phone: string;
  /** 0..1; how warm the relationship is. */
  relationshipStrength: number;
  lastInteractionAt: Date | null;
  tags: string[];
  notes: string;
  createdAt: Date;
  updatedAt: Date;
}

export const ContactEntity = new EntitySchema<Contact>({
  name: 'Contact',
  tableName: 'contacts',
  properties: {
    id: uuidPk, userId: uuid, name: text, email: text, company: text, title: text, phone: text,
    relationshipStrength: { type: 'float', columnType: 'real' }, lastInteractionAt: tsNull, tags: json, notes: text,
    createdAt: ts, updatedAt: ts,
  },
});
