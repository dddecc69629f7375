import { z } from 'zod';
import { SKILL_CATEGORIES, SkillIdSchema, SwitchyardError, type AgentTool, type SkillCategory } from '@switchyard/schema';
import { asJsonObject, type JsonObject, type JsonSchema } from '../agents/json';
import { manifestOf, type Skill } from '@switchyard/actors';
import { agentsOf } from '../agents/wiring';
import { authedProcedure, router } from '../trpc';

/** A manifest as JSON: params as JSON Schema (what the editor generates the inspector form from). */
const describe = (s: Skill): SkillDescription => {
  const m = manifestOf(s);
  return {
    id: m.id, name: m.name, description: m.description, category: m.category, requiredTools: [...m.requiredTools], docs: m.docs,
    // Plain JSON Schema on the wire (zod's result also carries a `~standard` validator in its type).
    params: JSON.parse(JSON.stringify(z.toJSONSchema(m.params, { io: 'input', unrepresentable: 'any' }))) as JsonSchema,
    examples: m.examples.map((e) => ({ description: e.description, params: asJsonObject(e.params) })),
  };
};

/** A skill's manifest as `skills.list/search/get` send it. */
export interface SkillDescription {
  id: string;
  name: string;
  description: string;
  category: SkillCategory;
  requiredTools: AgentTool[];
  params: JsonSchema;
  examples: { description: string; params: JsonObject }[];
  docs: string;
}

/** `skills.*`: the skill library (the same for every user). */
export const skillsRouter = router({
  list: authedProcedure
    .input(z.object({ category: z.enum(SKILL_CATEGORIES).optional() }).prefault({}))
    .query(({ ctx, input }) => {
      const r = agentsOf(ctx.services).registry;
      return { items: (input.category ? r.byCategory(input.category) : r.list()).map(describe) };
    }),
  search: authedProcedure
    .input(z.object({ query: z.string().max(200) }))
    .query(({ ctx, input }) => ({ items: agentsOf(ctx.services).registry.search(input.query).map(describe) })),
  get: authedProcedure.input(z.object({ id: SkillIdSchema })).query(({ ctx, input }) => {
    const s = agentsOf(ctx.services).registry.get(input.id);
    if (!s) throw new SwitchyardError('NOT_FOUND', `Unknown skill "${input.id}"`);
    return describe(s);
  }),
  /** Params with defaults applied, or the issues (as data: validating is the point of the call). */
  validate: authedProcedure
    .input(z.object({ skill: SkillIdSchema, params: z.unknown() }))
    .query(({ ctx, input }) => {
      const r = agentsOf(ctx.services).registry;
      if (!r.get(input.skill)) throw new SwitchyardError('NOT_FOUND', `Unknown skill "${input.skill}"`);
      return r.validate(input.skill, input.params);
    }),
});
