import { createActor, waitFor } from 'xstate';
import type { CompiledMachine } from '../compiler/types';
import { createRunMachine, runStatusOf, waitingApprovals, type RunContext } from '../machine';
import type { RunPorts } from '../ports';

/**
 * Runs a compiled machine to its end in memory, answering approvals with `decide`.
 * For simulation and tests; the runtime has its own durable host.
 */
export async function simulateRun(
  compiled: CompiledMachine,
  ports: RunPorts,
  input: { triggerNodeId: string; payload: unknown; decide?: (nodeId: string) => 'approve' | 'reject' },
) {
  const actor = createActor(createRunMachine(compiled, ports), {
    input: { runId: 'sim', userId: 'sim-user', triggerNodeId: input.triggerNodeId, payload: input.payload },
  });
  actor.start();
  for (let guard = 0; guard < 10_000; guard++) {
    const snap = await waitFor(actor, (s) => s.status !== 'active' || s.hasTag('approval') || false, { timeout: 10_000 });
    if (snap.status !== 'active') break;
    for (const nodeId of waitingApprovals(compiled, snap.value)) {
      actor.send({ type: 'approval.decide', nodeId, decision: input.decide?.(nodeId) ?? 'approve', by: 'simulator' });
    }
  }
  const snap = actor.getSnapshot();
  actor.stop();
  return { status: runStatusOf(snap), context: snap.context as RunContext, value: snap.value };
}
