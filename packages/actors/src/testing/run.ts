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
  // A behavior idles until activated: one activation, done when it is idle again.
  const behavior = compiled.kind === 'behavior';
  if (behavior) actor.send({ type: 'behavior.activate', activationId: 'sim-1', triggerNodeId: input.triggerNodeId, payload: input.payload });
  const idleAgain = (s: { value: unknown; context: unknown }) => behavior && s.value === 'idle' && ((s.context as RunContext).activation ?? 0) >= 1;
  for (let guard = 0; guard < 10_000; guard++) {
    const snap = await waitFor(actor, (s) => s.status !== 'active' || s.hasTag('approval') || idleAgain(s), { timeout: 10_000 });
    if (snap.status !== 'active' || idleAgain(snap)) break;
    for (const nodeId of waitingApprovals(compiled, snap.value)) {
      actor.send({ type: 'approval.decide', nodeId, decision: input.decide?.(nodeId) ?? 'approve', by: 'simulator' });
    }
  }
  const snap = actor.getSnapshot();
  actor.stop();
  const context = snap.context as RunContext;
  return { status: behavior && context.lastActivation ? context.lastActivation.status : runStatusOf(snap), context, value: snap.value };
}
