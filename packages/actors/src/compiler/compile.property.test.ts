import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compile } from './compile';
import { createFakePorts } from '../testing/fake-ports';
import { simulateRun } from '../testing/run';

/** Node kinds a random graph may use, with params that are valid by construction. */
const KINDS = [
  { type: 'action.createTask', params: { title: 'Task {{ run.id }}', dueIn: '2 hours' } },
  { type: 'action.sendNotification', params: { title: 'Hello', priority: 'high' } },
  { type: 'condition.expression', params: { expression: 'true' } },
  { type: 'condition.expression', params: { expression: '1 > 2' } },
  { type: 'condition.if', params: { expression: 'len(nodes) % 2 == 0' } },
  { type: 'flow.delay', params: { duration: '10 minutes' } },
  { type: 'flow.approval', params: { title: 'OK?' } },
  { type: 'action.webhook', params: { url: 'https://example.test', continueOnError: true } },
  { type: 'action.setMemory', params: { key: 'k', value: '{{ json(trigger) }}' } },
] as const;

const outputsOf = (type: string) => (type === 'condition.if' ? ['true', 'false'] : type === 'flow.approval' ? ['approved', 'rejected'] : ['out']);

/** A random DAG: every node gets 1-2 parents among the earlier nodes, so all are reachable. */
const validGraph = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc.tuple(
    fc.array(fc.integer({ min: 0, max: KINDS.length - 1 }), { minLength: n, maxLength: n }),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.boolean()), { minLength: n, maxLength: n }),
  ).map(([kinds, links]) => {
    const nodes: { id: string; type: string; params: Record<string, unknown> }[] = [{ id: 'n0', type: 'trigger.manual', params: {} }];
    const edges: { id: string; source: string; sourceHandle: string; target: string }[] = [];
    kinds.forEach((k, i) => {
      const id = `n${i + 1}`;
      nodes.push({ id, type: KINDS[k]!.type, params: { ...KINDS[k]!.params } });
      const [p1, p2, h, two] = links[i]!;
      const parents = new Set([p1 % (i + 1), ...(two ? [p2 % (i + 1)] : [])]);
      for (const p of parents) {
        const src = nodes[p]!;
        const outs = outputsOf(src.type);
        edges.push({ id: `e${edges.length}`, source: src.id, sourceHandle: outs[h % outs.length]!, target: id });
      }
    });
    return { schemaVersion: 1, id: 'random', kind: 'workflow', name: 'Random', nodes, edges };
  }),
);

describe('compiler properties', () => {
  it('random valid graphs compile deterministically and run to a final state', async () => {
    await fc.assert(
      fc.asyncProperty(validGraph, fc.boolean(), async (doc, approve) => {
        const a = compile(doc);
        expect(a.diagnostics).toEqual([]);
        expect(JSON.stringify(compile(structuredClone(doc)).machine)).toBe(JSON.stringify(a.machine));
        const r = await simulateRun(a.machine!, createFakePorts().ports, { triggerNodeId: 'n0', payload: { x: 1 }, decide: () => (approve ? 'approve' : 'reject') });
        expect(['completed', 'skipped']).toContain(r.status);
        // Every node ends resolved: nothing is left pending or running.
        for (const n of doc.nodes) expect(['succeeded', 'failed', 'skipped']).toContain(r.context.nodes[n.id]?.status);
      }),
      { numRuns: 60 },
    );
  });

  it('the machine-run (format 5), decided-in-step (format 4), flat (format 3) and chain (format 2) shapes decide exactly like the one-region-per-node shape (format 1) on random graphs', async () => {
    await fc.assert(
      fc.asyncProperty(validGraph, fc.boolean(), async (doc, approve) => {
        const current = compile(doc).machine!;
        const decided = compile(doc, undefined, { invokedNodes: true }).machine!;
        const flat = compile(doc, undefined, { flatShape: true }).machine!;
        const chained = compile(doc, undefined, { chainShape: true }).machine!;
        const legacy = compile(doc, undefined, { legacyShape: true }).machine!;
        expect(legacy.format).toBe('switchyard.machine/1');
        expect(chained.format).toBe('switchyard.machine/2');
        expect(flat.format).toBe('switchyard.machine/3');
        expect(decided.format).toBe('switchyard.machine/4');
        expect(current.format).toBe('switchyard.machine/5');
        // Format 5 binds format 4's states differently: the same config.
        expect(current.config).toEqual(decided.config);
        const input = { triggerNodeId: 'n0', payload: { x: 1 }, decide: () => (approve ? 'approve' as const : 'reject' as const) };
        const b = await simulateRun(legacy, createFakePorts().ports, input);
        const outcome = (r: typeof b) => Object.fromEntries(Object.entries(r.context.nodes).map(([id, n]) => [id, [n.status, [...n.handles].sort()]]));
        for (const m of [current, decided, flat, chained]) {
          const a = await simulateRun(m, createFakePorts().ports, input);
          expect(a.status).toBe(b.status);
          expect(outcome(a)).toEqual(outcome(b));
          expect(a.context.skipReason).toBe(b.context.skipReason);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a linear chain is one region: states that are not reached yet are not active', () => {
    const doc = {
      schemaVersion: 1, id: 'chain', kind: 'workflow', name: 'Chain',
      nodes: [{ id: 'n0', type: 'trigger.manual', params: {} }, ...Array.from({ length: 20 }, (_, i) => ({ id: `n${i + 1}`, type: 'condition.expression', params: { expression: 'true' } }))],
      edges: Array.from({ length: 20 }, (_, i) => ({ id: `e${i}`, source: `n${i}`, sourceHandle: 'out', target: `n${i + 1}` })),
    };
    const regions = Object.keys((compile(doc, undefined, { chainShape: true }).machine!.config.states as { active: { states: Record<string, unknown> } }).active.states);
    expect(regions).toEqual(['n0', 'n1']);
    // Format 3: no region for the one trigger, and each node of the chain is one state.
    type Regions = Record<string, { states: Record<string, { initial?: string; invoke?: unknown; entry?: { type: string }; always?: unknown[] }> }>;
    const regionsOf = (options: { flatShape?: boolean }) => (compile(doc, undefined, options).machine!.config.states as { active: { states: Regions } }).active.states;
    const flat = regionsOf({ flatShape: true });
    expect(Object.keys(flat)).toEqual(['n1']);
    expect(flat.n1!.states.n7!.initial).toBeUndefined();
    expect(flat.n1!.states.n7!.invoke).toBeDefined();
    // Format 4 (and 5): the same states, each filter decided on entry and left at once (nothing invoked).
    const decided = regionsOf({});
    expect(Object.keys(decided)).toEqual(['n1']);
    expect(Object.keys(decided.n1!.states)).toEqual(Object.keys(flat.n1!.states));
    expect(decided.n1!.states.n7!.invoke).toBeUndefined();
    expect(decided.n1!.states.n7!.entry).toEqual({ type: 'decide', params: { nodeId: 'n7' } });
    expect(decided.n1!.states.n7!.always).toHaveLength(3);
  });

  it('random invalid documents give diagnostics, never an exception', () => {
    const mutated = validGraph.chain((doc) =>
      fc.oneof(
        fc.constant({ ...doc, edges: [...doc.edges, { id: 'bad', source: 'n0', sourceHandle: 'out', target: 'ghost' }] }),
        fc.constant({ ...doc, nodes: doc.nodes.filter((n) => n.id !== 'n0') }),
        fc.constant({ ...doc, nodes: [...doc.nodes, { id: 'orphan', type: 'action.createTask', params: { title: 'x' } }] }),
        fc.constant({ ...doc, nodes: doc.nodes.map((n, i) => (i === doc.nodes.length - 1 ? { ...n, type: 'nope.kind' } : n)) }),
        fc.constant({ ...doc, edges: [...doc.edges, { id: 'back', source: doc.nodes.at(-1)!.id, sourceHandle: outputsOf(doc.nodes.at(-1)!.type)[0]!, target: doc.nodes.at(-1)!.id }] }),
        fc.anything().map((junk) => ({ ...doc, nodes: [...doc.nodes, junk] })),
        fc.anything(),
      ),
    );
    fc.assert(
      fc.property(mutated, (doc) => {
        const r = compile(doc);
        expect(r.machine).toBeNull();
        expect(r.diagnostics.length).toBeGreaterThan(0);
        for (const d of r.diagnostics) {
          expect(typeof d.code).toBe('string');
          expect(typeof d.message).toBe('string');
          expect(Array.isArray(d.path)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
