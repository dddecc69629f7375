import { EntitySchema } from '@mikro-orm/core';
import { text, ts, tsNull, uuid, uuidNull, uuidPk } from './columns';

export const TASK_PRIORITIES = ['low', 'medium', 'high'] as const;
export const TASK_STATUSES = ['open', 'completed'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface Task {
  id: string;
  userId: string;
  title: string;
  description: string;
  dueAt: Date | null;
  priority: TaskPriority;
  status: TaskStatus;
  contactId: string | null;
  /** The run that created it, when a flow did. */
  sourceRunId: string | null;
  createdAt: Date;
  completedAt: Date | null;
}

export const TaskEntity = new EntitySchema<Task>({
  name: 'Task',
  tableName: 'tasks',
  properties: {
    id: uuidPk, userId: uuid, title: text, description: text, dueAt: tsNull, priority: { type: 'text' },
    status: { type: 'text' }, contactId: uuidNull, sourceRunId: uuidNull, createdAt: ts, completedAt: tsNull,
  },
});
