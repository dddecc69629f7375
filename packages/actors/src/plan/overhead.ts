import { createActor, toPromise } from 'xstate';
import { analyzePlan } from './analyze';
import { createPlanMachine, planStepActor } from './machine';

/** A plan of `branches` independent chains of `depth` steps each (20 steps in 5 branches by default). */
export function branchedPlan(branches = 5, depth = 4) {
  const nodes: { id: string; type: string; params: Record<string, unknown> }[] = [];
  const edges: { id: string; source: string; target: string }[] = [];
  for (let b = 0; b < branches; b++) {
    for (let d = 0; d < depth; d++) {
      const id = `b${b}s${d}`;
      nodes.push({ id, type: 'plan.step', params: { name: id, skill: 'research-contact', params: d ? { prev: `{{ steps.b${b}s${d - 1}.output.n }}` } : {} } });
      if (d) edges.push({ id: `e${id}`, source: `b${b}s${d - 1}`, target: id });
    }
  }
  return { schemaVersion: 1, id: 'bench-plan', kind: 'plan', name: 'Bench plan', nodes, edges };
}

/**
 * Runs a branched plan against a port whose every step takes `stepMs`, and reports the wall time
 * against the sum of the steps' own time and against the critical path (what a perfect scheduler
 * needs): `overheadMs = wallMs - criticalPathMs` is what the machine itself costs.
 */
export async function measurePlanOverhead(opts: { branches?: number; depth?: number; stepMs?: number } = {}) {
  const branches = opts.branches ?? 5;
  const depth = opts.depth ?? 4;
  const stepMs = opts.stepMs ?? 20;
  const { plan } = analyzePlan(branchedPlan(branches, depth));
  let stepTime = 0;
  const machine = createPlanMachine(plan!).provide({
    actors: {
      runStep: planStepActor({
        async runStep(req) {
          const t0 = performance.now();
          await new Promise((r) => setTimeout(r, stepMs));
          stepTime += performance.now() - t0;
          return { n: req.name };
        },
      }),
    },
  });
  const t0 = performance.now();
  const out = await toPromise(createActor(machine, { input: {} }).start());
  const wallMs = performance.now() - t0;
  const criticalPathMs = (stepTime / (branches * depth)) * depth;
  return { steps: branches * depth, status: out.status, wallMs, sumOfStepsMs: stepTime, criticalPathMs, overheadMs: wallMs - criticalPathMs };
}
