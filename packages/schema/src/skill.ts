import type { z } from 'zod';
import type { AgentTool } from './agent';

export const SKILL_CATEGORIES = ['enrichment', 'communication', 'analysis', 'scheduling', 'productivity'] as const;
export type SkillCategory = (typeof SKILL_CATEGORIES)[number];

export interface SkillExample {
  description: string;
  params: Record<string, unknown>;
}

/**
 * What a skill is, without how it runs: the registry, the API (`skills.*`), the editor's skill
 * picker and the `agent.runSkill` inspector read this. Implementations live in packages/actors.
 */
export interface SkillManifest<P extends z.ZodType = z.ZodType> {
  id: string;
  name: string;
  description: string;
  category: SkillCategory;
  /** Tools the skill may use; the runtime checks each use against the agent's allow-list. */
  requiredTools: readonly AgentTool[];
  /** Params with defaults; validated before every run. */
  params: P;
  examples: SkillExample[];
  /** Markdown shown in the skill picker. */
  docs: string;
}

export const defineSkillManifest = <P extends z.ZodType>(m: SkillManifest<P>) => m;
