import { z } from 'zod';
import { IN, OUT, defineNodeKind, durationString, issue, template } from './common';
import { DomainEventSchema } from '../events';
import { parseDuration } from '../time';

/** Event types a run can wait for (the domain events `events.emit` takes). */
export const WAITABLE_EVENTS = DomainEventSchema.options.map((o) => o.shape.type.value) as [string, ...string[]];

export const delayNode = defineNodeKind({
  type: 'flow.delay', typeVersion: 1, category: 'flow', label: 'Wait',
  description: 'Pauses the run; the wait survives restarts.',
  params: z.object({ duration: durationString('1 hour').describe('e.g. "2 hours", "30 minutes"') }),
  inputs: [IN], outputs: [OUT],
});

export const approvalNode = defineNodeKind({
  type: 'flow.approval', typeVersion: 1, category: 'flow', label: 'Human approval',
  description: 'Waits until a person approves or rejects. Never decides on its own.',
  params: z.object({
    title: template(200).min(1, 'What needs approval?').default('Approval needed'),
    details: template(5000).default(''),
  }),
  inputs: [IN],
  outputs: [
    { id: 'approved', label: 'Approved', dataType: 'inherit' },
    { id: 'rejected', label: 'Rejected', dataType: 'inherit' },
  ],
});

export const waitForEventNode = defineNodeKind({
  type: 'flow.waitForEvent', typeVersion: 1, category: 'flow', label: 'Wait for event',
  description: 'Waits until an event arrives whose payload field equals a key from this run, e.g. the reply in this email thread. Events that arrived before the wait began are not matched.',
  params: z.object({
    event: z.enum(WAITABLE_EVENTS).default('email.received').describe('Event to wait for'),
    field: z.string().trim().min(1, 'Name the payload field to match').max(200)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'A payload field like threadId or contact.email').default('threadId')
      .describe('Payload field that must match'),
    key: template(500).min(1, 'Which value must the field have? e.g. {{ trigger.threadId }}').default('{{ trigger.threadId }}')
      .describe('Value the field must equal'),
    timeout: z.string().trim().max(100).default('')
      .refine((v) => v === '' || (parseDuration(v) ?? 0) > 0, issue('invalid-duration', 'Use a duration like "2 days", or leave empty to wait without limit'))
      .describe('Give up after (empty: never)'),
  }),
  inputs: [IN],
  outputs: [
    { id: 'out', label: 'Event', dataType: 'any' },
    { id: 'timeout', label: 'Timed out', dataType: 'inherit' },
  ],
});

/** What a for-each can do per item: the kinds that act (effects and agent skills). */
export const FOR_EACH_ACTIONS = [
  'action.sendNotification', 'action.createTask', 'action.scheduleFollowUp', 'action.draftReply', 'action.sendEmail',
  'action.updateContact', 'action.setMemory', 'action.webhook', 'agent.runSkill',
] as const;

export const forEachNode = defineNodeKind({
  type: 'flow.forEach', typeVersion: 1, category: 'flow', label: 'For each', effect: true,
  description: 'Does one action for every item of a list (e.g. a suggestion per contact found), or runs the branch drawn from "For each item" once per item; in parallel or in order. Each item has its own effect keys, so a replay never repeats one.',
  expressionParams: ['with', 'where'],
  params: z.object({
    items: template(2000).trim().min(1, 'Which list? e.g. {{ nodes.find.contacts }}').default('{{ nodes.find.contacts }}').describe('The list'),
    action: z.enum(FOR_EACH_ACTIONS).default('action.sendNotification').describe('What to do per item (unused when a branch leaves "For each item")'),
    with: z.record(z.string(), z.unknown()).default({ title: 'About {{ item.name }}' })
      .describe('The action\'s settings; {{ item }} is the item and {{ index }} its position'),
    where: z.string().max(2000).default('').describe('Only items for which this holds, e.g. item.relationshipStrength > 0.7 (empty: all)'),
    mode: z.enum(['parallel', 'sequential']).default('parallel').describe('All at once, or one after another'),
    maxItems: z.number().int().min(1, 'At least 1').max(100, 'At most 100').default(20).describe('Items at most'),
  }),
  inputs: [IN],
  // `out` stays first: the for-each's output type is its first output's. Nodes drawn from `each`
  // form the branch run once per item (the compiler's body); `out` fires when every item is done.
  outputs: [{ id: 'out', label: 'Results', dataType: 'any' }, { id: 'each', label: 'For each item', dataType: 'any' }],
});
