import { z } from 'zod';
import { durationString, parseDuration } from '@switchyard/schema';
import { defineSkill } from './types';
import { daysBetween, describeOutcome } from './util';

export const scheduleFollowUp = defineSkill({
  id: 'schedule-follow-up',
  name: 'Schedule Follow-up',
  description: 'Remind you to follow up with a contact after a while',
  category: 'productivity',
  requiredTools: ['getContact', 'scheduleFollowUp'],
  params: z.object({
    contactId: z.string().min(1).optional(),
    email: z.string().email().optional(),
    dueIn: durationString('3 days'),
    note: z.string().max(2000).default(''),
  }).refine((p) => p.contactId || p.email, { message: 'Give a contactId or an email', path: ['contactId'] }),
  examples: [{ description: 'Follow up in a week', params: { email: 'ada@example.com', dueIn: '7 days', note: 'Ask about the proposal' } }],
  docs: 'Creates a follow-up reminder (exactly once per workflow step) due after `dueIn` ("2 days", "1 hour").',
  async execute(params, { ports }) {
    const contact = params.contactId ? await ports.crm.getContact(params.contactId) : await ports.crm.findContactByEmail(params.email!);
    if (!contact) return { success: false, output: { error: 'Contact not found' }, error: 'Contact not found' };
    const dueAt = new Date(ports.now() + parseDuration(params.dueIn)!).toISOString();
    const outcome = await ports.effects.scheduleFollowUp({ email: contact.email, dueAt, note: params.note });
    await ports.memory.addInteraction('contact', contact.id, { type: 'follow-up', summary: `Follow-up due ${dueAt}` });
    return {
      success: outcome.status !== 'refused', output: { followUp: describeOutcome(outcome), contactId: contact.id, dueAt },
      ...(outcome.status === 'refused' ? { error: outcome.reason } : {}),
      sideEffects: outcome.status === 'done' ? [{ type: 'followUp.created', data: { id: outcome.id } }] : [],
    };
  },
});

const STAGE_BASE = { lead: 0.1, qualified: 0.3, proposal: 0.5, negotiation: 0.7 } as const;

export const analyzeDealProbability = defineSkill({
  id: 'analyze-deal-probability',
  name: 'Analyze Deal Probability',
  description: 'Estimate how likely a deal with a contact is to close, and why',
  category: 'analysis',
  requiredTools: ['getContact', 'searchEmails', 'memory'],
  params: z.object({
    contactId: z.string().min(1, 'Which contact?'),
    stage: z.enum(['lead', 'qualified', 'proposal', 'negotiation']).default('qualified'),
    dealValue: z.number().nonnegative().optional(),
  }),
  examples: [{ description: 'A deal in negotiation', params: { contactId: '<contact id>', stage: 'negotiation', dealValue: 12000 } }],
  docs: `Scores a deal from its stage, the relationship strength, how recent and how two-sided the email exchange is.
Returns \`probability\` (0..1), the \`factors\` that moved it and, with \`dealValue\`, the \`expectedValue\`.`,
  async execute(params, { ports }) {
    const contact = await ports.crm.getContact(params.contactId);
    if (!contact) return { success: false, output: { error: 'Contact not found' }, error: 'Contact not found' };
    const emails = await ports.crm.searchEmails({ address: contact.email, limit: 100 });
    const factors: { factor: string; impact: number }[] = [{ factor: `Stage: ${params.stage}`, impact: STAGE_BASE[params.stage] }];
    factors.push({ factor: `Relationship strength ${contact.relationshipStrength.toFixed(2)}`, impact: Number(((contact.relationshipStrength - 0.5) * 0.3).toFixed(3)) });
    const times = [...emails.map((e) => Date.parse(e.at)), contact.lastInteractionAt ? Date.parse(contact.lastInteractionAt) : 0].filter((t) => t > 0);
    const last = times.length ? Math.max(...times) : null;
    const idle = last === null ? null : daysBetween(ports.now(), last);
    if (idle === null) factors.push({ factor: 'No interaction yet', impact: -0.1 });
    else if (idle <= 14) factors.push({ factor: `Active in the last ${idle} days`, impact: 0.1 });
    else if (idle > 60) factors.push({ factor: `Silent for ${idle} days`, impact: -0.15 });
    const inbound = emails.filter((e) => e.direction === 'inbound').length;
    if (emails.length >= 2) {
      const ratio = inbound / emails.length;
      factors.push({ factor: `${inbound} of ${emails.length} emails from them`, impact: ratio >= 0.4 ? 0.05 : -0.05 });
    }
    if (contact.tags.some((t) => /champion|vip|customer/i.test(t))) factors.push({ factor: `Tagged ${contact.tags.join(', ')}`, impact: 0.05 });
    const probability = Math.round(Math.min(0.99, Math.max(0.01, factors.reduce((s, f) => s + f.impact, 0))) * 100) / 100;
    const output = { contactId: contact.id, stage: params.stage, probability, factors, ...(params.dealValue === undefined ? {} : { expectedValue: Math.round(params.dealValue * probability) }) };
    await ports.memory.remember(`deal:${contact.id}`, { probability, stage: params.stage, at: new Date(ports.now()).toISOString() });
    return {
      success: true, output,
      suggestedNextSteps: probability < 0.3 ? ['Re-qualify the deal or reconnect first'] : probability > 0.6 ? ['Send a proposal or ask for the close'] : ['Schedule a follow-up call'],
    };
  },
});
