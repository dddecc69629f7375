import { z } from 'zod';
import { defineSkill, type SkillEmail, type SocialProfile, type WebResult } from './types';
import { daysBetween } from './util';

const SOURCES = ['web', 'social', 'emails'] as const;
type Source = (typeof SOURCES)[number];
const LIMITS = { basic: { web: 3, emails: 10 }, detailed: { web: 10, emails: 50 }, comprehensive: { web: 20, emails: 100 } } as const;

interface SourceResults {
  web?: WebResult[];
  social?: SocialProfile[];
  emails?: SkillEmail[];
}

export const researchContact = defineSkill({
  id: 'research-contact',
  name: 'Research Contact',
  description: 'Gather comprehensive information about a contact from multiple sources (web, social, email history)',
  category: 'enrichment',
  requiredTools: ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'],
  params: z.object({
    contactId: z.string().min(1, 'Which contact?'),
    depth: z.enum(['basic', 'detailed', 'comprehensive']).default('detailed'),
    sources: z.array(z.enum(SOURCES)).min(1).default([...SOURCES]),
  }),
  examples: [
    { description: 'Everything we know about a contact', params: { contactId: '<contact id>', depth: 'detailed' } },
    { description: 'Only our email history, quickly', params: { contactId: '<contact id>', depth: 'basic', sources: ['emails'] } },
  ],
  docs: `Looks a contact up in the CRM, then searches the **web**, **social** profiles and your **email** history
at the same time. Returns a \`profile\`, \`insights\` and \`recommendations\`, stores the findings in the agent's
memory (\`research:<contactId>\`) and reports a \`contact.updated\` side effect.

- A source that fails is reported under \`sourceErrors.<source>\`; the others still count.
- Unknown contact: \`success: false\` with \`Contact not found\`.`,
  async execute(params, { ports }) {
    const contact = await ports.crm.getContact(params.contactId);
    if (!contact) return { success: false, output: { error: 'Contact not found' }, error: 'Contact not found' };
    const limits = LIMITS[params.depth];
    const domain = contact.email.split('@')[1] ?? '';
    const run: Record<Source, () => Promise<unknown>> = {
      web: () => ports.web.search({ query: `"${contact.name}" ${contact.company} ${domain}`.trim(), limit: limits.web }),
      social: () => ports.social.enrich({ contact, providers: ['twitter', 'linkedin'] }),
      emails: () => ports.crm.searchEmails({ address: contact.email, limit: limits.emails }),
    };
    // All selected sources at once; results are keyed by source, so a skipped or failed source
    // never shifts another's data into the wrong place (the seed's positional destructuring bug).
    const sources = [...new Set(params.sources)];
    const settled = await Promise.allSettled(sources.map(async (s) => [s, await run[s]()] as const));
    const results: SourceResults = {};
    const sourceErrors: Partial<Record<Source, string>> = {};
    settled.forEach((r, i) => {
      const source = sources[i]!;
      if (r.status === 'fulfilled') (results as Record<string, unknown>)[source] = r.value[1];
      else sourceErrors[source] = r.reason instanceof Error ? r.reason.message : String(r.reason);
    });

    const now = ports.now();
    const emails = results.emails ?? [];
    const inbound = emails.filter((e) => e.direction === 'inbound');
    const lastEmailAt = emails.map((e) => Date.parse(e.at)).filter(Number.isFinite).sort((a, b) => b - a)[0];
    const lastTouch = Math.max(lastEmailAt ?? 0, contact.lastInteractionAt ? Date.parse(contact.lastInteractionAt) : 0);
    const profile = {
      contactId: contact.id, name: contact.name, email: contact.email, company: contact.company, title: contact.title, domain,
      tags: contact.tags, relationshipStrength: contact.relationshipStrength,
      social: (results.social ?? []).map((p) => ({ provider: p.provider, handle: p.handle, headline: p.headline })),
      webMentions: (results.web ?? []).map((w) => ({ title: w.title, url: w.url })),
      emailCount: emails.length, inboundEmails: inbound.length,
      lastInteractionAt: lastTouch ? new Date(lastTouch).toISOString() : null,
    };

    const insights: string[] = [];
    const recommendations: string[] = [];
    if (contact.title || contact.company) insights.push(`${contact.title || 'Works'}${contact.company ? ` at ${contact.company}` : ''}`);
    if (contact.relationshipStrength >= 0.7) insights.push(`Strong relationship (${contact.relationshipStrength.toFixed(2)})`);
    else if (contact.relationshipStrength <= 0.3) insights.push(`Weak relationship (${contact.relationshipStrength.toFixed(2)})`);
    if (emails.length) insights.push(`${emails.length} emails exchanged, ${inbound.length} from them`);
    for (const p of results.social ?? []) for (const s of p.signals) insights.push(`${p.provider}: ${s}`);
    if ((results.web ?? []).length) insights.push(`${results.web!.length} web ${results.web!.length === 1 ? 'mention' : 'mentions'} found`);
    const idle = lastTouch ? daysBetween(now, lastTouch) : null;
    if (idle === null) recommendations.push(`Introduce yourself to ${contact.name}`);
    else if (idle >= 30) recommendations.push(`Reconnect: no interaction for ${idle} days`);
    const unanswered = inbound.find((e) => emails.every((o) => o.direction !== 'outbound' || Date.parse(o.at) < Date.parse(e.at)));
    if (unanswered) recommendations.push(`Reply to "${unanswered.subject}"`);
    if (contact.relationshipStrength >= 0.7) recommendations.push('Ask for a referral or an introduction');
    if (recommendations.length === 0) recommendations.push(`Share something useful with ${contact.name}`);

    const analysis = { profile, insights, recommendations, sources: Object.keys(results), sourceErrors, depth: params.depth };
    await ports.memory.remember(`research:${contact.id}`, { contactId: contact.id, at: new Date(now).toISOString(), findings: insights });
    await ports.memory.addInteraction('contact', contact.id, { type: 'research', summary: insights.slice(0, 3).join('; ') });
    return {
      success: true,
      output: analysis,
      sideEffects: [{ type: 'contact.updated', data: { contactId: contact.id, enrichedData: profile } }],
      suggestedNextSteps: recommendations,
    };
  },
});
