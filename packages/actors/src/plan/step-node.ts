import { ANY_AGENT, SwitchyardError } from '@switchyard/schema';
import { pass, type InvokeImplementation } from '../nodes/types';

/**
 * A plan step dropped into a workflow runs like `agent.runSkill` with its named agent: the skill
 * through the agent's mailbox, a reported failure a node failure. "Any capable agent" is only
 * resolved by a plan run, so in a workflow it is a clear failure instead of a guess.
 */
export const planStepInWorkflow: InvokeImplementation<'plan.step'> = {
  kind: 'invoke',
  async run(inv, { agents }) {
    if (inv.params.agent === ANY_AGENT) {
      throw new SwitchyardError('BAD_INPUT', 'Choose an agent for this step: "any capable agent" is resolved only when a plan runs', { nonRetryable: true });
    }
    const meta = { runId: inv.runId, userId: inv.userId, nodeId: inv.nodeId, nodeType: inv.nodeType, effectKey: inv.effectKey };
    const result = await agents.runSkill(meta, {
      agentId: inv.params.agent, skill: inv.params.skill, params: inv.params.params, grantEffects: false, trigger: inv.scope.trigger, signal: inv.signal, attempt: inv.attempt,
    });
    // A refusal keeps its code (FORBIDDEN: a tool outside an installed template's grant); a skill that failed on its own is BAD_INPUT.
    if (!result.success) throw new SwitchyardError(result.errorCode ?? 'BAD_INPUT', result.error ?? `Skill ${inv.params.skill} failed`, { nonRetryable: true });
    return pass(result);
  },
};
