import { describe, expect, it } from 'vitest';
import { missingTools, neededBy, toggleSkill } from './skill-tools';

const draftEmail = { id: 'draft-email', name: 'Draft Email', requiredTools: ['getContact', 'createDraft'] };
const research = { id: 'research-contact', name: 'Research Contact', requiredTools: ['getContact', 'memory', 'searchWeb'] };

describe('a skill brings its required tools (issue 9: Draft Email without getContact failed at run time)', () => {
  it('choosing a skill grants its tools once; removing it keeps them', () => {
    const one = toggleSkill({ skills: [], tools: ['getContact'] }, draftEmail);
    expect(one).toEqual({ skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    const two = toggleSkill(one, research);
    expect(two.tools).toEqual(['getContact', 'createDraft', 'memory', 'searchWeb']);
    expect(toggleSkill(two, draftEmail)).toEqual({ skills: ['research-contact'], tools: two.tools });
  });

  it('lists chosen skills that lack tools, and which skills need a tool', () => {
    const draft = { skills: ['draft-email', 'research-contact'], tools: ['getContact' as const] };
    expect(missingTools(draft, [draftEmail, research])).toEqual([
      { skill: draftEmail, tools: ['createDraft'] }, { skill: research, tools: ['memory', 'searchWeb'] },
    ]);
    expect(neededBy('getContact', draft, [draftEmail, research])).toEqual(['Draft Email', 'Research Contact']);
    expect(missingTools({ skills: [], tools: [] }, [draftEmail])).toEqual([]);
  });
});
