import { z } from 'zod';
import { IN, OUT, RetryPolicySchema, defineNodeKind } from './common';

/** The agent value that means "any capable agent", resolved when the plan starts. */
export const ANY_AGENT = 'any' as const;

/** A step's result name: the key in the plan's `results` and in `{{ steps.<name>.output }}`. */
export const StepNameSchema = z
  .string()
  .regex(/^[a-z][A-Za-z0-9_]{0,63}$/, 'Use 1-64 letters, digits or "_", starting with a lower-case letter');

/**
 * One step of a multi-agent plan (`kind: 'plan'`): a skill run by an agent. Edges into a step are
 * its dependencies; it starts once they are all done, alongside every other step that is ready.
 */
export const planStepNode = defineNodeKind({
  type: 'plan.step', typeVersion: 1, category: 'agent', label: 'Plan step', effect: true,
  description: 'A skill one of your agents runs as part of a plan; starts when the steps it depends on are done.',
  params: z.object({
    name: StepNameSchema.describe('Result name: the key in the results and in {{ steps.<name>.output }}'),
    skill: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'Choose a skill'),
    agent: z.string().trim().min(1).max(100).default(ANY_AGENT)
      .describe('An agent id, or "any" for the capable agent with the shortest mailbox when the plan starts'),
    params: z.record(z.string(), z.unknown()).default({})
      .describe('Skill parameters; strings may use {{ steps.<name>.output... }} of upstream steps'),
    critical: z.boolean().default(true).describe('A failure stops the whole plan (otherwise only the steps that depend on it are skipped)'),
    retry: RetryPolicySchema,
    timeoutMs: z.number().int().min(100).max(3_600_000).default(120_000).describe('Per attempt'),
  }),
  inputs: [IN], outputs: [OUT],
});
