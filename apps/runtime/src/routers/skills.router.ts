import { z } from 'zod';
import { SKILL_CATEGORIES, SkillIdSchema, SwitchyardError } from '@switchyard/schema';
import { manifestOf, type Skill } from '@switchyard/actors';
import { agentsOf } from '../agents/wiring';
import { authedProcedure, router } from '../trpc';

/** A manifest as JSON: params as JSON Schema (what the editor generates the inspector form from). */
const describe = (s: Skill) => {
  const m = manifestOf(s);
  return { ...m, requiredTools: [...m.requiredTools], params: z.toJSONSchema(m.params, { io: 'input', unrepresentable: 'any' }) };
};

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
