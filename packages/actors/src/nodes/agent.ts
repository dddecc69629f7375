import { SwitchyardError } from '@switchyard/schema';
import { pass, type InvokeImplementation } from './types';

/**
 * Hands the request to the agent (its mailbox in the runtime) and continues with the result. When
 * the agent proposed effects that need a person's approval, the step waits for the decisions and
 * continues with them in its output (`approvals`).
 */
export const runSkill: InvokeImplementation<'agent.runSkill'> = {
  kind: 'invoke',
  async run(inv, { agents }) {
    const meta = { runId: inv.runId, userId: inv.userId, nodeId: inv.nodeId, nodeType: inv.nodeType, effectKey: inv.effectKey };
    const result = await agents.runSkill(meta, {
      agentId: inv.params.agentId, skill: inv.params.skill, params: inv.params.params, grantEffects: inv.params.grantEffects,
      trigger: inv.scope.trigger, signal: inv.signal, attempt: inv.attempt,
    });
    // A skill that reports failure is a node failure: retry / continue-on-error apply to it.
    if (!result.success) throw new SwitchyardError('BAD_INPUT', result.error ?? `Skill ${inv.params.skill} failed`, { nonRetryable: true });
    const approvals = result.pendingApprovals.length
      ? await agents.awaitApprovals(meta, result.pendingApprovals.map((a) => a.id), inv.signal)
      : [];
    return pass({ ...result, approvals });
  },
};
