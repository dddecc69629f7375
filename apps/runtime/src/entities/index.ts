import { ContactEntity } from './contact.entity';
import { DraftEntity } from './draft.entity';
import { EmailEntity, EmailThreadEntity } from './email.entity';
import { FollowUpEntity } from './follow-up.entity';
import { NotificationEntity } from './notification.entity';
import { TaskEntity } from './task.entity';
import { UserEntity } from './user.entity';

export * from './contact.entity';
export * from './draft.entity';
export * from './email.entity';
export * from './follow-up.entity';
export * from './notification.entity';
export * from './task.entity';
export * from './user.entity';

/**
 * Every entity, registered explicitly (no folder discovery): the CRM records and users, which the
 * CRM store reads and writes through the ORM. Flows, runs, the journal, timers, effects and the
 * queues are written by the host in raw SQL (group commit, fencing, SKIP LOCKED), so they have no
 * entity; their tables are defined by the migrations alone.
 */
export const allEntities = [
  UserEntity, ContactEntity, EmailThreadEntity, EmailEntity, TaskEntity, FollowUpEntity, NotificationEntity, DraftEntity,
];
