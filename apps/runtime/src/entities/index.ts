import { ContactEntity } from './contact.entity';
import { DraftEntity } from './draft.entity';
import { EmailEntity, EmailThreadEntity } from './email.entity';
import { FlowEntity, FlowTriggerEntity, FlowVersionEntity } from './flow.entity';
import { FollowUpEntity } from './follow-up.entity';
import { NotificationEntity } from './notification.entity';
import { EffectEntity, InboxEntity, MemoryEntryEntity, RunEntity, RunJournalEntity, ScheduleFireEntity, TimerEntity } from './run.entity';
import { TaskEntity } from './task.entity';
import { UserEntity } from './user.entity';

export * from './contact.entity';
export * from './draft.entity';
export * from './email.entity';
export * from './flow.entity';
export * from './follow-up.entity';
export * from './notification.entity';
export * from './run.entity';
export * from './task.entity';
export * from './user.entity';

/** Every entity, registered explicitly (no folder discovery). */
export const allEntities = [
  UserEntity, FlowEntity, FlowVersionEntity, FlowTriggerEntity, RunEntity, RunJournalEntity, EffectEntity, TimerEntity,
  InboxEntity, ScheduleFireEntity, MemoryEntryEntity, ContactEntity, EmailThreadEntity, EmailEntity, TaskEntity,
  FollowUpEntity, NotificationEntity, DraftEntity,
];
