import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFakeSkillPorts } from '../testing/fake-skill-ports';
import { BUILTIN_SKILLS, createBuiltinSkillRegistry, createSkillRegistry, defineSkill, freeSlots, type SkillContact, type SkillEmail } from './index';

const ada: SkillContact = {
  id: 'c1', name: 'Ada Lovelace', email: 'ada@analytical.test', company: 'Analytical Engines', title: 'CTO',
  relationshipStrength: 0.8, lastInteractionAt: '2025-11-01T10:00:00.000Z', tags: ['champion'], notes: '',
};
const emails: SkillEmail[] = [
  { id: 'e1', threadId: 't1', direction: 'inbound', from: 'ada@analytical.test', to: ['me'], subject: 'Pricing', body: 'Hello. Could you send the pricing? Let me know by Friday.', at: '2026-01-05T10:00:00.000Z' },
  { id: 'e2', threadId: 't1', direction: 'outbound', from: 'me', to: ['ada@analytical.test'], subject: 'Re: Pricing', body: 'Sure, attached.', at: '2026-01-05T12:00:00.000Z' },
];

describe('skill registry', () => {
  const registry = createBuiltinSkillRegistry();

  it('holds every built-in skill, by id and category, and refuses duplicates', () => {
    expect(registry.list().map((s) => s.id).sort()).toEqual([
      'analyze-deal-probability', 'check-calendar', 'draft-email', 'draft-sales-email', 'extract-meeting-intent',
      'propose-times', 'research-contact', 'schedule-follow-up', 'send-calendar-invite', 'summarize-thread', 'write-check-in',
    ]);
    expect(registry.get('research-contact')?.category).toBe('enrichment');
    expect(registry.byCategory('scheduling').map((s) => s.id).sort()).toEqual(['check-calendar', 'extract-meeting-intent', 'propose-times', 'send-calendar-invite']);
    expect(() => registry.register(BUILTIN_SKILLS[0]!)).toThrow(/already registered/);
    for (const s of registry.list()) {
      expect(s.docs.length).toBeGreaterThan(20);
      expect(s.examples.length).toBeGreaterThan(0);
    }
  });

  it('searches names and descriptions, case-insensitively', () => {
    expect(registry.search('EMAIL').map((s) => s.id)).toEqual(expect.arrayContaining(['draft-email', 'draft-sales-email', 'summarize-thread']));
    expect(registry.search('calendar invite').map((s) => s.id)).toEqual(['send-calendar-invite']);
    expect(registry.search('no such thing')).toEqual([]);
  });

  it('validates params with defaults applied, or gives zod issues', () => {
    expect(registry.validate('research-contact', { contactId: 'c1' })).toEqual({ ok: true, params: { contactId: 'c1', depth: 'detailed', sources: ['web', 'social', 'emails'] } });
    const bad = registry.validate('research-contact', { depth: 'deep' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.issues.map((i) => i.path[0]).sort()).toEqual(['contactId', 'depth']);
    expect(registry.validate('nope', {})).toEqual({ ok: false, issues: [{ path: ['skill'], message: 'Unknown skill "nope"' }] });
  });

  it('registers custom skills', () => {
    const r = createSkillRegistry().register(defineSkill({
      id: 'echo', name: 'Echo', description: 'Says it back', category: 'productivity', requiredTools: [], docs: 'Echo.',
      params: z.object({ text: z.string().default('hi') }), examples: [{ description: 'hi', params: {} }],
      execute: async (p) => ({ success: true, output: p }),
    }));
    expect(r.validate('echo', {})).toEqual({ ok: true, params: { text: 'hi' } });
  });
});

describe('research-contact', () => {
  const skill = createBuiltinSkillRegistry().get('research-contact')!;

  it('returns profile, insights and recommendations, remembers findings and reports contact.updated', async () => {
    const fake = createFakeSkillPorts({ contacts: [ada], emails });
    const res = await skill.execute(skill.params.parse({ contactId: 'c1' }), fake.context());
    expect(res.success).toBe(true);
    const out = res.output as { profile: Record<string, unknown>; insights: string[]; recommendations: string[] };
    expect(out.profile).toMatchObject({ name: 'Ada Lovelace', company: 'Analytical Engines', emailCount: 2, inboundEmails: 1 });
    expect(out.insights).toContain('CTO at Analytical Engines');
    expect(res.sideEffects).toEqual([{ type: 'contact.updated', data: { contactId: 'c1', enrichedData: out.profile } }]);
    expect(res.suggestedNextSteps).toEqual(out.recommendations);
    expect(fake.memory.get('research:c1')).toMatchObject({ contactId: 'c1', findings: out.insights });
  });

  it('runs the sources in parallel', async () => {
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fake = createFakeSkillPorts({
      contacts: [ada], emails,
      web: async () => { started.push('web'); await gate; return []; },
      social: async () => { started.push('social'); await gate; return []; },
    });
    const orig = fake.ports.crm.searchEmails;
    fake.ports.crm.searchEmails = async (q) => { started.push('emails'); await gate; return orig(q); };
    const p = skill.execute(skill.params.parse({ contactId: 'c1' }), fake.context());
    await new Promise((r) => setTimeout(r, 10));
    expect(started.sort()).toEqual(['emails', 'social', 'web']); // all three started before any finished
    release();
    expect((await p).success).toBe(true);
  });

  it('keys results by source: a skipped or failing source never shifts the others', async () => {
    const fake = createFakeSkillPorts({ contacts: [ada], emails, web: async () => { throw new Error('search is down'); } });
    const only = await skill.execute(skill.params.parse({ contactId: 'c1', sources: ['emails'] }), fake.context());
    expect((only.output as { profile: { emailCount: number; social: unknown[] } }).profile).toMatchObject({ emailCount: 2, social: [] });
    const failing = await skill.execute(skill.params.parse({ contactId: 'c1', sources: ['web', 'emails'] }), fake.context());
    expect(failing.output).toMatchObject({ sources: ['emails'], sourceErrors: { web: 'search is down' }, profile: { emailCount: 2 } });
  });

  it('an unknown contact gives success false with "Contact not found"', async () => {
    const res = await skill.execute(skill.params.parse({ contactId: 'invalid-id' }), createFakeSkillPorts().context());
    expect(res).toMatchObject({ success: false, output: { error: 'Contact not found' } });
  });
});

describe('other built-in skills (offline model)', () => {
  const r = createBuiltinSkillRegistry();
  const run = async (id: string, params: unknown, fake = createFakeSkillPorts({ contacts: [ada], emails }), trigger?: unknown) => {
    const v = r.validate(id, params);
    if (!v.ok) throw new Error(JSON.stringify(v.issues));
    return { res: await r.get(id)!.execute(v.params, fake.context(trigger === undefined ? {} : { trigger })), fake };
  };

  it('draft-email replies to the triggering email with a draft', async () => {
    const { res, fake } = await run('draft-email', { tone: 'friendly' }, undefined, { from: 'ada@analytical.test', subject: 'Pricing', body: 'Hi', threadId: 't1' });
    expect(res.success).toBe(true);
    expect(fake.effects).toEqual([{ kind: 'draft', data: expect.objectContaining({ to: ['ada@analytical.test'], subject: 'Re: Pricing', threadId: 't1', contactId: 'c1' }) }]);
    expect((res.output as { body: string }).body).toMatch(/^Hi Ada!/);
  });

  it('draft-email offline writes a readable email from instructions with research findings, never pasting the instructions', async () => {
    const instructions = 'Introduce yourself and suggest a short call next week. Personalize it with what the research found: CTO at Analytical Engines; Strong relationship (0.80); 1 web mention found';
    const { res } = await run('draft-email', { to: 'ada@analytical.test', subject: 'A note for Ada Lovelace', instructions, tone: 'professional' });
    expect((res.output as { body: string }).body).toBe([
      'Dear Ada,', 'I wanted to reach out to you personally.',
      // The CRM's own figures (relationship score, mention counts) are notes for the user, never told the contact.
      'From what I have gathered: CTO at Analytical Engines.',
      'Would you be open to a short call next week?', 'Kind regards,',
    ].join('\n\n'));
    const many = await run('draft-email', { to: 'ada@analytical.test', subject: 'Hello', tone: 'professional', instructions: 'Write. Personalize it with what the research found: CTO at Analytical Engines; Weak relationship (0.20); 4 emails exchanged, 1 from them; linkedin: Spoke at PyCon' });
    expect((many.res.output as { body: string }).body).toContain('From what I have gathered:\n- CTO at Analytical Engines\n- linkedin: Spoke at PyCon\n\n');
    expect((many.res.output as { body: string }).body).not.toMatch(/relationship|exchanged/i);
    // The findings of an older template (a JSON list) read the same; what to say and what to mention are kept, as sentences.
    const listed = await run('draft-email', { to: 'ada@analytical.test', subject: 'Quick question', tone: 'concise', instructions: 'Draft an email saying the demo moved to Friday. Personalize it with what the research found: ["CTO at Analytical Engines"]' });
    expect((listed.res.output as { body: string }).body).toBe('Hi Ada,\n\nI\'m writing about "Quick question". The demo moved to Friday.\n\nFrom what I have gathered: CTO at Analytical Engines.\n\nThanks,');
    const mention = await run('draft-email', { to: 'ada@analytical.test', instructions: 'Mention the Q3 roadmap' });
    expect((mention.res.output as { body: string }).body).toBe('Dear Ada,\n\nI wanted to reach out to you personally. I wanted to mention the Q3 roadmap.\n\nKind regards,');
    for (const body of [res, listed.res, mention.res].map((r) => (r.output as { body: string }).body)) {
      expect(body).not.toMatch(/Personali[sz]e it|Introduce yourself|suggest a|Draft an email|found:|\["/i);
    }
  });

  it('draft-sales-email uses the research in memory', async () => {
    const fake = createFakeSkillPorts({ contacts: [ada], emails });
    await fake.ports.memory.remember('research:c1', { findings: ['Recently changed jobs'] });
    const { res } = await run('draft-sales-email', { contactId: 'c1', product: 'Switchyard Pro' }, fake);
    expect((res.output as { body: string }).body).toContain('Recently changed jobs');
  });

  it('summarize-thread finds action items; schedule-follow-up and analyze-deal-probability work on CRM data', async () => {
    const { res } = await run('summarize-thread', { threadId: 't1' });
    expect((res.output as { actionItems: string[] }).actionItems[0]).toMatch(/Could you send the pricing\?/);
    const f = await run('schedule-follow-up', { contactId: 'c1', dueIn: '2 days' });
    expect(f.fake.effects[0]).toMatchObject({ kind: 'followUp', data: { email: 'ada@analytical.test', dueAt: '2026-01-09T15:00:00.000Z' } });
    const d = await run('analyze-deal-probability', { contactId: 'c1', stage: 'negotiation', dealValue: 1000 });
    const out = d.res.output as { probability: number; expectedValue: number };
    expect(out.probability).toBeGreaterThan(0.7);
    expect(out.expectedValue).toBe(Math.round(1000 * out.probability));
  });

  it('meeting skills: intent, free slots around busy time, invite refused on a clash', async () => {
    const intent = await run('extract-meeting-intent', { text: 'Could we do a 45 minute call next week about pricing?' });
    expect(intent.res.output).toMatchObject({ wantsMeeting: true, durationMinutes: 45, timeframe: 'next week' });
    const busy = [{ id: 'ev1', title: 'Standup', startsAt: '2026-01-07T16:00:00.000Z', endsAt: '2026-01-07T17:00:00.000Z', attendees: [] }];
    const slots = freeSlots({ now: Date.UTC(2026, 0, 7, 15, 0), events: busy, durationMinutes: 30, days: 2, count: 3, timezone: 'UTC', workdayStart: 9, workdayEnd: 18 });
    expect(slots.map((s) => s.startsAt)).toEqual(['2026-01-07T17:00:00.000Z', '2026-01-07T17:30:00.000Z', '2026-01-08T09:00:00.000Z']);
    const fake = createFakeSkillPorts({ contacts: [ada], events: busy });
    const clash = await run('send-calendar-invite', { title: 'Call', startsAt: '2026-01-07T16:30:00Z', attendees: ['ada@analytical.test'] }, fake);
    expect(clash.res).toMatchObject({ success: false, error: 'Conflicts with "Standup"' });
    const ok = await run('send-calendar-invite', { title: 'Call', startsAt: '2026-01-07T18:00:00Z', attendees: ['ada@analytical.test'] }, fake);
    expect(ok.res.success).toBe(true);
    expect(fake.effects).toHaveLength(1);
  });
});
