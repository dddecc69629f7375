import { createActor } from 'xstate';
import { compile, createFakePorts, createRunMachine } from '@switchyard/actors';
import { chainDoc } from './graphs';
for (const n of [10, 20, 60]) {
  const c = compile(chainDoc(n, 'condition.expression', 'x')).machine!;
  const m = createRunMachine(c, createFakePorts().ports);
  const reps = 100;
  const t = performance.now();
  for (let i = 0; i < reps; i++) {
    await new Promise<void>((res) => { const a = createActor(m, { input: { runId: 'r', userId: 'u', triggerNodeId: 'start', payload: {} } }); a.subscribe({ complete: () => res() }); a.start(); });
  }
  const ms = (performance.now() - t) / reps;
  console.log(n, 'nodes: ms/run', ms.toFixed(2), 'steps/s', ((n) / (ms / 1000)).toFixed(0));
}
