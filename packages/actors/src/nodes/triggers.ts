import { evaluateExpression, truthy } from '../expression';
import type { TriggerImplementation } from './types';

const includes = (hay: unknown, needle: string | undefined) =>
  !needle || String(hay ?? '').toLowerCase().includes(needle.toLowerCase());

/** Optional `where` expression sees the payload as `trigger`. */
const where = (expr: string, payload: Record<string, unknown>) => !expr.trim() || truthy(evaluateExpression(expr, { trigger: payload }));

export const manualTrigger: TriggerImplementation<'trigger.manual'> = { kind: 'trigger', matches: () => true };
export const userLoginTrigger: TriggerImplementation<'trigger.userLogin'> = { kind: 'trigger', matches: () => true };
export const scheduleTrigger: TriggerImplementation<'trigger.schedule'> = { kind: 'trigger', matches: () => true };
/** The check's figures are the payload (`trigger`); an empty condition holds at every check. */
export const conditionTrigger: TriggerImplementation<'trigger.condition'> = { kind: 'trigger', matches: (p, e) => where(p.condition, e) };
export const webhookTrigger: TriggerImplementation<'trigger.webhook'> = { kind: 'trigger', matches: () => true };

export const notificationActedTrigger: TriggerImplementation<'trigger.notificationActed'> = {
  kind: 'trigger',
  matches: (p, e) => (p.action === 'any' || e.action === p.action) && where(p.where, e),
};

export const emailReceivedTrigger: TriggerImplementation<'trigger.emailReceived'> = {
  kind: 'trigger',
  matches: (p, e) =>
    (p.isImportant === undefined || e.isImportant === p.isImportant) &&
    (p.isUnread === undefined || e.isUnread === p.isUnread) &&
    includes(e.from, p.fromContains) &&
    includes(e.subject, p.subjectContains) &&
    where(p.where, e),
};

export const emailSentTrigger: TriggerImplementation<'trigger.emailSent'> = {
  kind: 'trigger',
  matches: (p, e) => includes(Array.isArray(e.to) ? e.to.join(',') : e.to, p.toContains) && where(p.where, e),
};

export const contactCreatedTrigger: TriggerImplementation<'trigger.contactCreated'> = {
  kind: 'trigger',
  matches: (p, e) => where(p.where, e),
};
