import type { NodeType } from '@switchyard/schema';
import * as actions from './actions';
import * as agent from './agent';
import * as conditions from './conditions';
import * as crm from './crm';
import * as flow from './flow';
import { planStepInWorkflow } from '../plan/step-node';
import * as triggers from './triggers';
import type { NodeImplementation } from './types';

/** Mapped over the catalog's kind union: a kind without an implementation does not compile. */
export const nodeImplementations: { [K in NodeType]: NodeImplementation<K> } = {
  'trigger.manual': triggers.manualTrigger,
  'trigger.emailReceived': triggers.emailReceivedTrigger,
  'trigger.emailSent': triggers.emailSentTrigger,
  'trigger.contactCreated': triggers.contactCreatedTrigger,
  'trigger.userLogin': triggers.userLoginTrigger,
  'trigger.notificationActed': triggers.notificationActedTrigger,
  'trigger.schedule': triggers.scheduleTrigger,
  'trigger.condition': triggers.conditionTrigger,
  'trigger.webhook': triggers.webhookTrigger,
  'condition.contactExists': conditions.contactExists,
  'condition.businessHours': conditions.businessHours,
  'condition.expression': conditions.expression,
  'condition.if': conditions.ifBranch,
  'action.sendEmail': actions.sendEmail,
  'action.draftReply': actions.draftReply,
  'action.createTask': actions.createTask,
  'action.updateContact': actions.updateContact,
  'action.sendNotification': actions.sendNotification,
  'action.scheduleFollowUp': actions.scheduleFollowUp,
  'action.webhook': actions.webhook,
  'action.setMemory': actions.setMemory,
  'agent.runSkill': agent.runSkill,
  'flow.delay': flow.delay,
  'flow.approval': flow.approval,
  'flow.waitForEvent': flow.waitForEvent,
  'flow.forEach': flow.forEach,
  'crm.findContacts': crm.findContacts,
  'crm.findFollowUps': crm.findFollowUps,
  'crm.hasRecentEmail': crm.hasRecentEmail,
  'plan.step': planStepInWorkflow,
};
