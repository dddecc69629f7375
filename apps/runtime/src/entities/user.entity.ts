import { EntitySchema } from '@mikro-orm/core';
import { text, ts, uuidPk } from './columns';

export interface User {
  id: string;
  name: string;
  /** sha256 (hex) of the bearer token; the token itself is never stored. */
  tokenHash: string;
  createdAt: Date;
}

export const UserEntity = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  properties: { id: uuidPk, name: { ...text, unique: true }, tokenHash: { ...text, unique: true }, createdAt: ts },
});
