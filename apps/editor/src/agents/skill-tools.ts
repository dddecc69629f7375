import type { AgentTool } from '@switchyard/schema';

/** What the form needs of a skill: its id, name and the tools it cannot work without. */
export interface SkillNeeds {
  id: string;
  name: string;
  requiredTools: readonly string[];
}

/**
 * Toggles a skill. Choosing one grants the tools it requires (a skill without them fails at run
 * time); removing one keeps the tools, which the person may want for other reasons.
 */
export function toggleSkill(draft: { skills: string[]; tools: AgentTool[] }, skill: SkillNeeds): { skills: string[]; tools: AgentTool[] } {
  if (draft.skills.includes(skill.id)) return { skills: draft.skills.filter((s) => s !== skill.id), tools: draft.tools };
  const added = skill.requiredTools.filter((t) => !draft.tools.includes(t as AgentTool)) as AgentTool[];
  return { skills: [...draft.skills, skill.id], tools: [...draft.tools, ...added] };
}

/** Chosen skills whose required tools are not all allowed, with the missing ones. */
export function missingTools(draft: { skills: string[]; tools: AgentTool[] }, skills: readonly SkillNeeds[]): { skill: SkillNeeds; tools: AgentTool[] }[] {
  return skills
    .filter((s) => draft.skills.includes(s.id))
    .map((s) => ({ skill: s, tools: s.requiredTools.filter((t) => !draft.tools.includes(t as AgentTool)) as AgentTool[] }))
    .filter((m) => m.tools.length > 0);
}

/** The chosen skills that need a tool (for a hint next to it). */
export const neededBy = (tool: string, draft: { skills: string[] }, skills: readonly SkillNeeds[]) =>
  skills.filter((s) => draft.skills.includes(s.id) && s.requiredTools.includes(tool)).map((s) => s.name);
