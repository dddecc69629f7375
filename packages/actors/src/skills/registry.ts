import { issuesFromZod, type ErrorIssue, type SkillCategory, type SkillManifest } from '@switchyard/schema';
import type { Skill } from './types';

export type SkillValidation =
  | { ok: true; params: Record<string, unknown> }
  | { ok: false; issues: ErrorIssue[] };

/** The skill library (seed days 1-2): register, get, by category, text search, validate params. */
export function createSkillRegistry(initial: Skill[] = []) {
  const skills = new Map<string, Skill>();
  const registry = {
    register(skill: Skill) {
      if (skills.has(skill.id)) throw new Error(`Skill "${skill.id}" is already registered`);
      skills.set(skill.id, skill);
      return registry;
    },
    get: (id: string): Skill | undefined => skills.get(id),
    list: (): Skill[] => [...skills.values()],
    byCategory: (category: SkillCategory): Skill[] => [...skills.values()].filter((s) => s.category === category),
    /** Case-insensitive substring match over name and description; every word must match. */
    search(query: string): Skill[] {
      const words = query.toLowerCase().split(/\s+/).filter(Boolean);
      return [...skills.values()].filter((s) => {
        const text = `${s.id} ${s.name} ${s.description}`.toLowerCase();
        return words.every((w) => text.includes(w));
      });
    },
    /** Params with defaults applied, or zod issues; an unknown skill is an issue at `skill`. */
    validate(id: string, params: unknown): SkillValidation {
      const skill = skills.get(id);
      if (!skill) return { ok: false, issues: [{ path: ['skill'], message: `Unknown skill "${id}"` }] };
      const parsed = skill.params.safeParse(params ?? {});
      if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error.issues) };
      return { ok: true, params: parsed.data as Record<string, unknown> };
    },
  };
  for (const s of initial) registry.register(s);
  return registry;
}
export type SkillRegistry = ReturnType<typeof createSkillRegistry>;

/** The manifest without the implementation, for APIs. */
export const manifestOf = (s: Skill): SkillManifest => ({
  id: s.id, name: s.name, description: s.description, category: s.category,
  requiredTools: s.requiredTools, params: s.params, examples: s.examples, docs: s.docs,
});
