import { SwitchyardError } from '@switchyard/schema';
import { pass, type InvokeImplementation } from './types';

/** Hands the request to the agent (its mailbox in the runtime) and continues with the result. */
export const runSkill: InvokeImplementation<'agent.runSkill'> = {
  kind: 'invoke',
  async run(inv, { agents }) {
    const result = await agents.runSkill(
      { runId: inv.runId, userId: inv.userId, nodeId: inv.nodeId, nodeType: inv.nodeType, effectKey: inv.effectKey },
      { agentId: inv.params.agentId, skill: inv.params.skill, params: inv.params.params, grantEffects: inv.params.grantEffects, trigger: inv.scope.trigger, signal: inv.signal },
    );
    // A skill that reports failure is a node failure: retry / continue-on-error apply to it.
    if (!result.success) throw new SwitchyardError('BAD_INPUT', result.error ?? `Skill ${inv.params.skill} failed`, { nonRetryable: true });
    return pass(result);
  },
};
