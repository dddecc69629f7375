import { EntitySchema } from '@mikro-orm/core';
import { int, json, jsonNull, text, textNull, ts, tsNull, uuid, uuidPk } from './columns';

import type { RunStatus } from '@switchyard/actors';

export interface Run {
  id: string;
  userId: string;
  flowId: string;
  flowVersion: number;
  status: RunStatus;
  triggerNodeId: string | null;
  trigger: unknown;
  snapshot: unknown;
  snapshotVersion: number;
  reason: string | null;
  error: unknown;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export const RunEntity = new EntitySchema<Run>({
  name: 'Run',
  tableName: 'runs',
  properties: {
    id: uuidPk, userId: uuid, flowId: uuid, flowVersion: int, status: { type: 'text' }, triggerNodeId: textNull,
    trigger: json, snapshot: jsonNull, snapshotVersion: int, reason: textNull, error: jsonNull,
    startedAt: ts, updatedAt: ts, finishedAt: tsNull,
  },
});

export interface RunJournalEntry {
  /** bigserial: a string, since it can exceed 2^53. */
  id: string;
  runId: string;
  seq: number;
  at: Date;
  kind: string;
  eventType: string | null;
  nodeId: string | null;
  snapshot: unknown;
  data: unknown;
}

export const RunJournalEntity = new EntitySchema<RunJournalEntry>({
  name: 'RunJournalEntry',
  tableName: 'run_journal',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true }, runId: uuid, seq: int, at: ts, kind: text,
    eventType: textNull, nodeId: textNull, snapshot: jsonNull, data: jsonNull,
  },
});

export interface Effect {
  idempotencyKey: string;
  userId: string;
  runId: string;
  nodeId: string;
  kind: string;
  result: unknown;
  createdAt: Date;
}

export const EffectEntity = new EntitySchema<Effect>({
  name: 'Effect',
  tableName: 'effects',
  properties: { idempotencyKey: { ...text, primary: true }, userId: uuid, runId: uuid, nodeId: text, kind: text, result: jsonNull, createdAt: ts },
});

export interface Timer {
  runId: string;
  key: string;
  dueAt: Date;
  firedAt: Date | null;
}

export const TimerEntity = new EntitySchema<Timer>({
  name: 'Timer',
  tableName: 'timers',
  properties: { runId: { ...uuid, primary: true }, key: { ...text, primary: true }, dueAt: ts, firedAt: tsNull },
});

export interface InboxEvent {
  id: string;
  userId: string;
  type: string;
  payload: unknown;
  dedupeKey: string | null;
  receivedAt: Date;
  processedAt: Date | null;
  error: string | null;
}

export const InboxEntity = new EntitySchema<InboxEvent>({
  name: 'InboxEvent',
  tableName: 'inbox',
  properties: {
    id: uuidPk, userId: uuid, type: text, payload: json, dedupeKey: textNull, receivedAt: ts, processedAt: tsNull, error: textNull,
  },
});

export interface ScheduleFire {
  triggerId: string;
  fireAt: Date;
  claimedBy: string;
  claimedAt: Date;
}

export const ScheduleFireEntity = new EntitySchema<ScheduleFire>({
  name: 'ScheduleFire',
  tableName: 'schedule_fires',
  properties: { triggerId: { ...uuid, primary: true }, fireAt: { ...ts, primary: true }, claimedBy: text, claimedAt: ts },
});

export interface MemoryEntry {
  userId: string;
  scope: string;
  key: string;
  value: unknown;
  expiresAt: Date | null;
  updatedAt: Date;
}

export const MemoryEntryEntity = new EntitySchema<MemoryEntry>({
  name: 'MemoryEntry',
  tableName: 'memory_entries',
  properties: {
    userId: { ...uuid, primary: true }, scope: { ...text, primary: true }, key: { ...text, primary: true },
    value: json, expiresAt: tsNull, updatedAt: ts,
  },
});
