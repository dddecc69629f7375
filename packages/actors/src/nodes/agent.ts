import { SwitchyardError } from '@switchyard/schema';
import { pass, type InvokeImplementation } from './types';

const MAX_RETRY_AFTER_MS = 3_600_000;

/** `retryAfterMs` of a retryable failure that carries one (a model server's 429 `retry-after`). */
function retryAfterOf(e: unknown): number | null {
  if (!(e instanceof SwitchyardError) || e.nonRetryable) return null;
  const ms = (e as SwitchyardError & { retryAfterMs?: unknown }).retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : null;
}

/**
 * Hands the request to the agent (its mailbox in the runtime) and continues with the result. When
 * the agent proposed effects that need a person's approval, the step waits for the decisions and
 * continues with them in its output (`approvals`).
 */
export const runSkill: InvokeImplementation<'agent.runSkill'> = {
  kind: 'invoke',
  async run(inv, { agents, timers }) {
    const meta = { runId: inv.runId, userId: inv.userId, nodeId: inv.nodeId, nodeType: inv.nodeType, effectKey: inv.effectKey, ...(inv.activation ? { activation: inv.activation } : {}) };
    let result: Awaited<ReturnType<typeof agents.runSkill>>;
    try {
      result = await agents.runSkill(meta, {
        agentId: inv.params.agentId, skill: inv.params.skill, params: inv.params.params, grantEffects: inv.params.grantEffects,
        trigger: inv.scope.trigger, signal: inv.signal, attempt: inv.attempt,
      });
    } catch (e) {
      // A rate-limited model says when to come back: the next attempt starts no earlier than that
      // (a durable timer, on top of the node's own backoff). Not worth waiting when no attempt is left.
      const wait = retryAfterOf(e);
      if (wait !== null && inv.attempt + 1 < inv.params.retry.maxAttempts) {
        await timers.sleep({ runId: inv.runId, key: `${inv.nodeId}:retry-after:${inv.attempt}` }, Math.min(wait, MAX_RETRY_AFTER_MS), inv.signal);
      }
      throw e;
    }
    // A skill that reports failure is a node failure: retry / continue-on-error apply to it. Its code
    // is the runtime's when it caught a typed error (FORBIDDEN: a tool outside an install's grant), else BAD_INPUT.
    if (!result.success) throw new SwitchyardError(result.errorCode ?? 'BAD_INPUT', result.error ?? `Skill ${inv.params.skill} failed`, { nonRetryable: true });
    const approvals = result.pendingApprovals.length
      ? await agents.awaitApprovals(meta, result.pendingApprovals.map((a) => a.id), inv.signal)
      : [];
    return pass({ ...result, approvals });
  },
};
