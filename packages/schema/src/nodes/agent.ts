import { z } from 'zod';
import { IN, OUT, actionPolicy, defineNodeKind } from './common';

export const runSkillNode = defineNodeKind({
  type: 'agent.runSkill', typeVersion: 1, category: 'agent', label: 'Run agent skill', effect: true,
  description: 'Asks one of your agents to run a skill and continues with its result.',
  params: z.object({
    agentId: z.string().trim().min(1, 'Choose an agent').max(100),
    skill: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'Choose a skill'),
    params: z.record(z.string(), z.unknown()).default({}).describe('Skill parameters; strings may use {{ }} templates'),
    grantEffects: z.boolean().default(false)
      .describe('Let the agent send or change things without approval even after reading untrusted content'),
    ...actionPolicy,
  }),
  inputs: [IN], outputs: [OUT],
});
