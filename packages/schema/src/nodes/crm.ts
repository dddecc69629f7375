import { z } from 'zod';
import { IN, defineNodeKind, template } from './common';

/**
 * Read-only CRM queries behaviors need (issue 10). They write nothing (`effect: false`); what they
 * found is their output, stored with the run, so a replay never decides differently.
 */

export const findContactsNode = defineNodeKind({
  type: 'crm.findContacts', typeVersion: 1, category: 'action', label: 'Find contacts', effect: false,
  description: 'Lists contacts by filters such as "no interaction for more than N days", "relationship strength above x" and "not suggested in the last N days".',
  params: z.object({
    dormantDays: z.number().int().min(0).max(3650).optional().describe('Only contacts with no interaction for more than this many days (never counts as dormant)'),
    minStrength: z.number().min(0).max(1).optional().describe('Only contacts with a relationship strength above this (0..1)'),
    tag: z.string().trim().max(50).optional().describe('Only contacts with this tag'),
    orderBy: z.enum(['strength', 'lastInteraction', 'name']).default('strength'),
    order: z.enum(['desc', 'asc']).default('desc'),
    limit: z.number().int().min(1).max(100).default(10),
    // Optional without defaults: documents that do not use them compile byte-identically.
    notSuggestedDays: z.number().int().min(1).max(365).optional()
      .describe('Skip contacts you already got a suggestion (notification) about in the last this many days (1..365)'),
    notSuggestedKey: z.string().trim().max(300).optional()
      .describe('With "not suggested": only suggestions with this dedupe key count, e.g. "reactivate" (empty: any notification about the contact)'),
  }),
  inputs: [IN],
  outputs: [{ id: 'out', label: 'Contacts', dataType: 'any' }],
});

export const findFollowUpsNode = defineNodeKind({
  type: 'crm.findFollowUps', typeVersion: 1, category: 'action', label: 'Find follow-ups', effect: false,
  description: 'Lists follow-ups due within N hours (and overdue ones) that are not completed, with their contact and original email.',
  params: z.object({
    dueWithinHours: z.number().min(0).max(8760).default(24),
    includeSnoozed: z.boolean().default(false).describe('Also follow-ups snoozed past now'),
    limit: z.number().int().min(1).max(100).default(20),
  }),
  inputs: [IN],
  outputs: [{ id: 'out', label: 'Follow-ups', dataType: 'any' }],
});

export const hasRecentEmailNode = defineNodeKind({
  type: 'crm.hasRecentEmail', typeVersion: 1, category: 'condition', label: 'Has recent email',
  description: 'Branches on whether the email thread has a message in the last N hours (or since a time), e.g. an answer to a follow-up.',
  effect: false,
  params: z.object({
    threadId: template(200).default('{{ trigger.threadId }}').describe('The thread to look in'),
    withinHours: z.number().min(0).max(8760).default(48),
    since: template(200).default('').describe('Optional: only emails after this time (ISO), e.g. "{{ item.createdAt }}"'),
    direction: z.enum(['any', 'inbound', 'outbound']).default('any'),
  }),
  inputs: [IN],
  outputs: [
    { id: 'yes', label: 'Recent email', dataType: 'inherit' },
    { id: 'no', label: 'None', dataType: 'inherit' },
  ],
});
