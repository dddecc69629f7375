import { zonedParts } from '@switchyard/schema';
import { evaluateExpression, truthy } from '../expression';
import { pass, type InvokeImplementation } from './types';

export const contactExists: InvokeImplementation<'condition.contactExists'> = {
  kind: 'invoke',
  async run({ params, userId }, { crm }) {
    const email = String(params.email ?? '').trim().toLowerCase();
    const contact = email ? await crm.findContactByEmail(userId, email) : null;
    return contact
      ? pass({ exists: true, contact })
      : { output: { exists: false, email }, handles: [], reason: `Sender ${email || '(none)'} is not a known contact` };
  },
};

export const businessHours: InvokeImplementation<'condition.businessHours'> = {
  kind: 'invoke',
  async run({ params }, { clock }) {
    const now = clock.now();
    const { weekday, hour, minute } = zonedParts(now, params.timezone);
    const hhmm = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
    const open = params.days.includes(weekday) && hhmm >= params.start && hhmm < params.end;
    const output = { open, localTime: hhmm, weekday, timezone: params.timezone, checkedAt: new Date(now).toISOString() };
    return open
      ? pass(output)
      : { output, handles: [], reason: `Outside business hours (${hhmm} ${params.timezone}, open ${params.start}-${params.end})` };
  },
};

export const expression: InvokeImplementation<'condition.expression'> = {
  kind: 'invoke',
  decide(params, scope) {
    const value = evaluateExpression(params.expression, scope);
    return truthy(value) ? pass({ value }) : { output: { value }, handles: [], reason: `Filter "${params.expression}" was false` };
  },
  async run({ params, scope }) {
    return expression.decide!(params, scope);
  },
};

export const ifBranch: InvokeImplementation<'condition.if'> = {
  kind: 'invoke',
  decide(params, scope) {
    const value = truthy(evaluateExpression(params.expression, scope));
    return pass({ value }, value ? 'true' : 'false');
  },
  async run({ params, scope }) {
    return ifBranch.decide!(params, scope);
  },
};
