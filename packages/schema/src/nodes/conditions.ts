import { z } from 'zod';
import { IN, OUT, defineNodeKind, template, timezoneString } from './common';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'Use HH:MM (24-hour)');

export const contactExistsCondition = defineNodeKind({
  type: 'condition.contactExists', typeVersion: 1, category: 'condition', label: 'Contact exists',
  description: 'Continues only when the email address belongs to a CRM contact; the contact is passed on.',
  params: z.object({ email: template(500).default('{{ trigger.from }}').describe('Address to look up') }),
  inputs: [IN], outputs: [OUT],
});

export const businessHoursCondition = defineNodeKind({
  type: 'condition.businessHours', typeVersion: 1, category: 'condition', label: 'Business hours',
  description: 'Continues only during working hours in a timezone.',
  params: z
    .object({
      timezone: timezoneString('America/New_York'),
      days: z.array(z.number().int().min(0).max(6)).min(1).default([1, 2, 3, 4, 5]).describe('0 = Sunday'),
      start: hhmm.default('09:00'),
      end: hhmm.default('17:00'),
    })
    .refine((p) => p.start < p.end, { message: 'Start must be before end', path: ['end'] }),
  inputs: [IN], outputs: [OUT],
});

export const expressionCondition = defineNodeKind({
  type: 'condition.expression', typeVersion: 1, category: 'condition', label: 'Filter',
  description: 'Continues only when the expression is true, e.g. trigger.isImportant && len(trigger.body) > 20.',
  expressionParams: ['expression'],
  params: z.object({ expression: z.string().min(1, 'Write an expression').max(2000) }),
  inputs: [IN], outputs: [OUT],
});

export const ifCondition = defineNodeKind({
  type: 'condition.if', typeVersion: 1, category: 'condition', label: 'If',
  description: 'Branches: the true output runs when the expression holds, the false output otherwise.',
  expressionParams: ['expression'],
  params: z.object({ expression: z.string().min(1, 'Write an expression').max(2000) }),
  inputs: [IN],
  outputs: [
    { id: 'true', label: 'True', dataType: 'inherit' },
    { id: 'false', label: 'False', dataType: 'inherit' },
  ],
});
