import type { z } from 'zod';
import type { NodeCategory, NodeKindSpec } from './nodes/common';
import * as actions from './nodes/actions';
import * as agent from './nodes/agent';
import * as conditions from './nodes/conditions';
import * as crm from './nodes/crm';
import * as flow from './nodes/flow';
import * as plan from './nodes/plan';
import * as triggers from './nodes/triggers';

/** Every node kind the product knows. The editor palette, inspector forms and compiler read this. */
export const NODE_KINDS = [
  triggers.manualTrigger,
  triggers.emailReceivedTrigger,
  triggers.emailSentTrigger,
  triggers.contactCreatedTrigger,
  triggers.userLoginTrigger,
  triggers.notificationActedTrigger,
  triggers.scheduleTrigger,
  triggers.conditionTrigger,
  triggers.webhookTrigger,
  conditions.contactExistsCondition,
  conditions.businessHoursCondition,
  conditions.expressionCondition,
  conditions.ifCondition,
  actions.sendEmailAction,
  actions.draftReplyAction,
  actions.createTaskAction,
  actions.updateContactAction,
  actions.sendNotificationAction,
  actions.scheduleFollowUpAction,
  actions.webhookAction,
  actions.setMemoryAction,
  agent.runSkillNode,
  flow.delayNode,
  flow.approvalNode,
  flow.waitForEventNode,
  flow.forEachNode,
  crm.findContactsNode,
  crm.findFollowUpsNode,
  crm.hasRecentEmailNode,
  plan.planStepNode,
] as const;

type AnyKind = (typeof NODE_KINDS)[number];
export type NodeType = AnyKind['type'];
export type NodeKindOf<T extends NodeType> = Extract<AnyKind, { type: T }>;
/** Params after defaults are applied. */
export type ParamsOf<T extends NodeType> = z.output<NodeKindOf<T>['params']>;

export type Catalog = ReadonlyMap<string, NodeKindSpec>;

export const defaultCatalog: Catalog = new Map(NODE_KINDS.map((k) => [k.type, k as NodeKindSpec]));

export const isNodeType = (t: string): t is NodeType => defaultCatalog.has(t);

export const CATEGORY_LABELS: Record<NodeCategory, string> = {
  trigger: 'Triggers',
  condition: 'Conditions',
  action: 'Actions',
  agent: 'Agents',
  flow: 'Flow control',
};
