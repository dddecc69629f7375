import { describe, expect, it } from 'vitest';
import { BUILTIN_SKILLS } from './index';
import { matchSkill, paramsFromRequest } from './route';

const pick = (request: string) => matchSkill(request, BUILTIN_SKILLS)?.skill.id ?? null;
const skill = (id: string) => BUILTIN_SKILLS.find((s) => s.id === id)!;

describe('offline routing of a request to a skill (issue 9: the offline provider must act)', () => {
  it('picks the skill whose manifest the request names', () => {
    expect(pick('Research Ada Lovelace')).toBe('research-contact');
    expect(pick('Can you draft an email to ada@analytical.test about the renewal?')).toBe('draft-email');
    expect(pick('Write a sales pitch to Ada for Switchyard Pro')).toBe('draft-sales-email');
    expect(pick('Summarise my thread with ada@analytical.test')).toBe('summarize-thread');
    expect(pick('Schedule a follow-up with Ada in a week')).toBe('schedule-follow-up');
    expect(pick("What's on my calendar this week?")).toBe('check-calendar');
    expect(pick('What is the deal probability for Ada?')).toBe('analyze-deal-probability');
  });

  it('routes nowhere when nothing matches', () => {
    expect(pick('Hello!')).toBeNull();
    expect(matchSkill('research her', [])).toBeNull();
  });

  it('fills params from the contact and the request; only keys the skill accepts', () => {
    const contact = { id: 'c1', email: 'ada@analytical.test' };
    expect(paramsFromRequest('Research Ada', skill('research-contact'), { contact, email: null })).toEqual({ contactId: 'c1' });
    expect(paramsFromRequest('Draft an email to ada@analytical.test', skill('draft-email'), { contact, email: 'ada@analytical.test' }))
      .toEqual({ to: 'ada@analytical.test', instructions: 'Draft an email to ada@analytical.test' });
    expect(paramsFromRequest('Write a sales email to Ada to pitch Switchyard Pro', skill('draft-sales-email'), { contact, email: null }))
      .toEqual({ contactId: 'c1', product: 'Switchyard Pro' });
    expect(paramsFromRequest('Research someone', skill('research-contact'), { contact: null, email: null })).toEqual({});
  });
});
