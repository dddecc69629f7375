import { z } from 'zod';
import { cronString, defineNodeKind, issue, timezoneString } from './common';

const filterExpression = z.string().max(2000).default('').describe('Optional expression that must be true, e.g. trigger.subject contains "urgent"');

export const manualTrigger = defineNodeKind({
  type: 'trigger.manual', typeVersion: 1, category: 'trigger', label: 'Manual trigger',
  description: 'Starts the flow when you press Run or call runs.start.',
  params: z.object({}),
  inputs: [], outputs: [{ id: 'out', label: 'Input', dataType: 'any' }],
});

export const emailReceivedTrigger = defineNodeKind({
  type: 'trigger.emailReceived', typeVersion: 1, category: 'trigger', label: 'Email received',
  description: 'Starts when an email arrives that matches the filters.',
  listensTo: 'email.received',
  expressionParams: ['where'],
  params: z.object({
    isImportant: z.boolean().optional().describe('Only important emails'),
    isUnread: z.boolean().optional().describe('Only unread emails'),
    fromContains: z.string().max(320).optional(),
    subjectContains: z.string().max(500).optional(),
    where: filterExpression,
  }),
  inputs: [], outputs: [{ id: 'out', label: 'Email', dataType: 'email' }],
});

export const emailSentTrigger = defineNodeKind({
  type: 'trigger.emailSent', typeVersion: 1, category: 'trigger', label: 'Email sent',
  description: 'Starts when you send an email.',
  listensTo: 'email.sent',
  expressionParams: ['where'],
  params: z.object({ toContains: z.string().max(320).optional(), where: filterExpression }),
  inputs: [], outputs: [{ id: 'out', label: 'Email', dataType: 'email' }],
});

export const contactCreatedTrigger = defineNodeKind({
  type: 'trigger.contactCreated', typeVersion: 1, category: 'trigger', label: 'Contact created',
  description: 'Starts when a contact is added to the CRM.',
  listensTo: 'contact.created',
  expressionParams: ['where'],
  params: z.object({ where: filterExpression }),
  inputs: [], outputs: [{ id: 'out', label: 'Contact', dataType: 'contact' }],
});

export const notificationActedTrigger = defineNodeKind({
  type: 'trigger.notificationActed', typeVersion: 1, category: 'trigger', label: 'Notification acted on',
  description: 'Starts when a person acts on a notification (compose, complete, snooze, dismiss, ...).',
  listensTo: 'notification.acted',
  expressionParams: ['where'],
  params: z.object({
    action: z.enum(['any', 'compose', 'complete', 'snooze', 'dismiss', 'open-contact', 'custom']).default('any').describe('Which action'),
    where: filterExpression,
  }),
  inputs: [], outputs: [{ id: 'out', label: 'Action', dataType: 'any' }],
});

export const userLoginTrigger = defineNodeKind({
  type: 'trigger.userLogin', typeVersion: 1, category: 'trigger', label: 'User login',
  description: 'Starts when the user signs in.',
  listensTo: 'user.login',
  params: z.object({}),
  inputs: [], outputs: [{ id: 'out', label: 'Login', dataType: 'any' }],
});

export const scheduleTrigger = defineNodeKind({
  type: 'trigger.schedule', typeVersion: 1, category: 'trigger', label: 'Schedule',
  description: 'Starts on a cron schedule in a timezone.',
  params: z.object({
    cron: cronString().describe('Cron expression, e.g. "0 9 * * 1-5" for 9:00 on weekdays'),
    timezone: timezoneString('UTC'),
    missed: z.enum(['skip', 'runOnce']).default('skip')
      .describe('Ticks missed while no runtime was running: skip them, or run the latest one once on start'),
  }),
  inputs: [], outputs: [{ id: 'out', label: 'Tick', dataType: 'any' }],
});

/** The figures a condition trigger's check sees as `trigger` (the user's own data, counted at the check). */
export const CONDITION_FIGURES = ['unreadEmails', 'importantUnreadEmails', 'followUpsDue', 'openTasks', 'overdueTasks', 'unreadNotifications', 'contacts'] as const;

export const conditionTrigger = defineNodeKind({
  type: 'trigger.condition', typeVersion: 1, category: 'trigger', label: 'Condition check',
  description: 'Checks a condition on your data every N minutes and starts when it holds (at most once per interval).',
  expressionParams: ['condition'],
  params: z.object({
    everyMinutes: z.number({ message: 'Check every how many minutes? A whole number from 1 to 1440' })
      .superRefine((v, ctx) => {
        if (!Number.isInteger(v) || v < 1 || v > 1440) ctx.addIssue({ code: 'custom', ...issue('invalid-interval', 'Check every whole number of minutes from 1 (each minute) to 1440 (once a day)') });
      })
      .default(15)
      .describe('How often to check, in minutes (1: every minute, 1440: once a day)'),
    condition: z.string().max(2000).default('')
      .describe(`Starts when this holds, e.g. trigger.followUpsDue > 0 (figures: ${CONDITION_FIGURES.join(', ')}; empty: every check)`),
  }),
  inputs: [], outputs: [{ id: 'out', label: 'Check', dataType: 'any' }],
});

export const webhookTrigger = defineNodeKind({
  type: 'trigger.webhook', typeVersion: 1, category: 'trigger', label: 'Webhook',
  description: 'Starts when a signed HTTP request arrives at the flow\'s webhook URL.',
  params: z.object({}),
  inputs: [], outputs: [{ id: 'out', label: 'Body', dataType: 'any' }],
});
