import { createActor, createMachine, fromPromise, setup } from 'xstate';
import { compile, createFakePorts, createRunMachine, type CompiledMachine } from '@switchyard/actors';
import { FlowDocumentSchema } from '@switchyard/schema';
import { createClock } from '../apps/runtime/src/host/clock';
import { createHost } from '../apps/runtime/src/host/host';
import { memoryRunStore } from '../apps/runtime/src/host/memory-store';
import { chainDoc, meshDoc } from './graphs';
import { compare, type Figure } from './harness';

const compiled = (doc: unknown): CompiledMachine => {
  const r = compile(doc);
  if (!r.machine) throw new Error(JSON.stringify(r.diagnostics.slice(0, 3)));
  return r.machine;
};

/** A hand-written machine with `n` states advanced by NEXT events. */
const handChain = (n: number) =>
  createMachine({
    id: 'hand', initial: 's0',
    states: Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, i === n - 1 ? { type: 'final' as const } : { on: { NEXT: `s${i + 1}` } }])),
  });

export async function memoryBenchmarks(): Promise<Figure[]> {
  const figures: Figure[] = [];

  for (const n of [10, 100, 1000]) {
    const doc = meshDoc(n);
    const reps = Math.max(3, Math.round(2000 / n));
    const r = await compare({
      ours: () => { for (let i = 0; i < reps; i++) compile(doc); return reps; },
      baseline: () => { for (let i = 0; i < reps; i++) FlowDocumentSchema.parse(doc); return reps; },
    });
    figures.push({ group: 'compile', name: `compile ${n}-node graph`, unit: 'ms', ours: 1000 / r.ours, baseline: 1000 / r.baseline, baselineName: 'zod parse of the document', ratio: r.ours / r.baseline });
  }

  // Events through the host (inspect, journal entry built, persistence queued) vs raw actor.send on the same machine;
  // then with a 50 KB trigger payload in every run's state: a step's journal delta costs what it changed, not the state's size.
  for (const big of [false, true]) {
    const payload = big ? { body: 'x'.repeat(50_000), list: Array.from({ length: 200 }, (_, i) => ({ i, name: `n${i}` })) } : {};
    const steps = 20;
    const machineDoc = compiled(chainDoc(steps, 'flow.approval', 'approvals'));
    const ports = createFakePorts().ports;
    const runs = 200;
    const ours = async () => {
      const host = createHost({ em: () => { throw new Error('no db'); }, clock: createClock(), ports, store: memoryRunStore() });
      const ids: string[] = [];
      for (let i = 0; i < runs; i++) {
        const id = `r${i}`;
        ids.push(id);
        host.launch({ id, user_id: 'u', trigger_node_id: 'start', trigger: { type: 'manual', payload }, snapshot: null, snapshot_version: 0 }, machineDoc);
      }
      for (let s = 1; s < steps; s++) for (const id of ids) host.deliver(id, { type: 'approval.decide', nodeId: `n${s}`, decision: 'approve' });
      await host.flush();
      return runs * (steps - 1);
    };
    const machine = createRunMachine(machineDoc, ports);
    const baseline = () => {
      for (let i = 0; i < runs; i++) {
        const a = createActor(machine, { input: { runId: `r${i}`, userId: 'u', triggerNodeId: 'start', payload } }).start();
        for (let s = 1; s < steps; s++) a.send({ type: 'approval.decide', nodeId: `n${s}`, decision: 'approve' });
        a.stop();
      }
      return runs * (steps - 1);
    };
    const r = await compare({ ours, baseline, rounds: 7 });
    figures.push({ group: 'events', name: `events/s through the host (in memory${big ? ', 50 KB trigger payload' : ''})`, unit: 'ev/s', ours: r.ours, baseline: r.baseline, baselineName: 'raw actor.send, same machine', ratio: r.ours / r.baseline, target: 0.7 });
  }

  // Start+stop of a compiled 20-node workflow vs a raw 20-state machine.
  {
    const c = compiled(chainDoc(20, 'flow.approval', 'startstop'));
    const ports = createFakePorts().ports;
    const machine = createRunMachine(c, ports);
    const hand = handChain(20);
    const reps = 2000;
    const r = await compare({
      rounds: 7,
      ours: () => {
        for (let i = 0; i < reps; i++) createActor(machine, { input: { runId: 'r', userId: 'u', triggerNodeId: 'start', payload: {} } }).start().stop();
        return reps;
      },
      baseline: () => { for (let i = 0; i < reps; i++) createActor(hand).start().stop(); return reps; },
    });
    figures.push({ group: 'actors', name: 'start+stop, compiled 20-node flow', unit: '/s', ours: r.ours, baseline: r.baseline, baselineName: 'raw createActor+start+stop, 20 states', ratio: r.ours / r.baseline, target: 0.3 });
  }

  // A 10-step run to completion vs a hand-written machine of the same shape with the same work.
  {
    const c = compiled(chainDoc(11, 'action.createTask', 'ten'));
    const fake = createFakePorts();
    const machine = createRunMachine(c, fake.ports);
    const work = fromPromise(async ({ input }: { input: { i: number } }) => fake.ports.crm.createTask(
      { runId: 'r', userId: 'u', nodeId: `n${input.i}`, nodeType: 'action.createTask', effectKey: `k${Math.random()}` },
      { title: `Step ${input.i}`, description: '', dueAt: new Date().toISOString(), priority: 'medium' }));
    const hand = setup({ actors: { work } }).createMachine({
      id: 'hand', initial: 's0',
      states: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`s${i}`, i === 10 ? { type: 'final' as const } : { invoke: { src: 'work', input: { i }, onDone: `s${i + 1}` } }])),
    });
    const reps = 300;
    const runTo = async (m: typeof machine | typeof hand, input?: unknown) => {
      await new Promise<void>((resolve) => {
        const a = createActor(m as typeof machine, input ? { input: input as never } : undefined);
        a.subscribe({ complete: () => resolve() });
        a.start();
      });
    };
    const r = await compare({
      rounds: 7,
      ours: async () => { for (let i = 0; i < reps; i++) await runTo(machine, { runId: `r${i}`, userId: 'u', triggerNodeId: 'start', payload: {} }); return reps; },
      baseline: async () => { for (let i = 0; i < reps; i++) await runTo(hand); return reps; },
    });
    figures.push({ group: 'actors', name: '10-step run to completion', unit: 'runs/s', ours: r.ours, baseline: r.baseline, baselineName: 'hand-written 10-state machine', ratio: r.ours / r.baseline, target: 0.5 });
  }
  return figures;
}
