import { EntitySchema } from '@mikro-orm/core';
import { bool, int, json, jsonNull, text, textNull, ts, tsNull, uuid, uuidPk } from './columns';

export type FlowStatus = 'draft' | 'deployed';

export interface Flow {
  id: string;
  userId: string;
  docId: string;
  kind: string;
  name: string;
  description: string | null;
  currentVersion: number;
  status: FlowStatus;
  deployedVersion: number | null;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const FlowEntity = new EntitySchema<Flow>({
  name: 'Flow',
  tableName: 'flows',
  properties: {
    id: uuidPk, userId: uuid, docId: text, kind: text, name: text, description: textNull,
    currentVersion: int, status: { type: 'text' }, deployedVersion: { ...int, nullable: true },
    deletedAt: tsNull, createdAt: ts, updatedAt: ts,
  },
});

export interface FlowVersion {
  flowId: string;
  version: number;
  document: unknown;
  note: string | null;
  createdAt: Date;
}

export const FlowVersionEntity = new EntitySchema<FlowVersion>({
  name: 'FlowVersion',
  tableName: 'flow_versions',
  properties: { flowId: { ...uuid, primary: true }, version: { ...int, primary: true }, document: json, note: textNull, createdAt: ts },
});

export type TriggerKind = 'event' | 'schedule' | 'webhook' | 'manual';

export interface FlowTrigger {
  id: string;
  flowId: string;
  userId: string;
  version: number;
  nodeId: string;
  kind: TriggerKind;
  eventType: string | null;
  filters: unknown;
  cron: string | null;
  timezone: string | null;
  webhookSecret: string | null;
  active: boolean;
  createdAt: Date;
}

export const FlowTriggerEntity = new EntitySchema<FlowTrigger>({
  name: 'FlowTrigger',
  tableName: 'flow_triggers',
  properties: {
    id: uuidPk, flowId: uuid, userId: uuid, version: int, nodeId: text, kind: { type: 'text' },
    eventType: textNull, filters: jsonNull, cron: textNull, timezone: textNull, webhookSecret: textNull,
    active: bool, createdAt: ts,
  },
});
