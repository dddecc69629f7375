import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compile } from './compile';
import type { RunContext } from '../machine';
import { createFakePorts } from '../testing/fake-ports';
import { simulateRun } from '../testing/run';

/** Kinds a random branch may hold, with params valid by construction; `effect`: it writes one effect when it succeeds. */
const KINDS = [
  { type: 'action.createTask', params: { title: 'Task {{ item }}', dueIn: '2 hours' }, effect: true },
  { type: 'action.sendNotification', params: { title: 'Same title for every item' }, effect: true },
  { type: 'condition.expression', params: { expression: 'index % 2 == 0' }, effect: false },
  { type: 'condition.if', params: { expression: 'item > 1' }, effect: false },
  { type: 'flow.delay', params: { duration: '10 minutes' }, effect: false },
  { type: 'action.setMemory', params: { key: 'k{{ index }}', value: '{{ json(trigger) }}' }, effect: true },
] as const;

const outputsOf = (type: string) => (type === 'condition.if' ? ['true', 'false'] : ['out']);

/**
 * A random for-each with a random branch: n0 (trigger) -> n1 (for-each); every branch node gets
 * 1-2 parents among the for-each (its `each` output) and the earlier branch nodes; `after` takes
 * the for-each's results. Items: 0-4 numbers.
 */
const branchGraph = fc.integer({ min: 1, max: 8 }).chain((n) =>
  fc.tuple(
    fc.array(fc.integer({ min: 0, max: KINDS.length - 1 }), { minLength: n, maxLength: n }),
    fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.boolean()), { minLength: n, maxLength: n }),
    fc.constantFrom('parallel', 'sequential'),
    fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 }),
  ).map(([kinds, links, mode, items]) => {
    const nodes: { id: string; type: string; params: Record<string, unknown> }[] = [
      { id: 'n0', type: 'trigger.manual', params: {} },
      { id: 'n1', type: 'flow.forEach', params: { items: '{{ trigger.items }}', mode } },
      { id: 'after', type: 'action.createTask', params: { title: 'After {{ nodes.n1.count }}' } },
    ];
    const edges: { id: string; source: string; sourceHandle: string; target: string }[] = [
      { id: 'e0', source: 'n0', sourceHandle: 'out', target: 'n1' },
      { id: 'e1', source: 'n1', sourceHandle: 'out', target: 'after' },
    ];
    const body: string[] = [];
    kinds.forEach((k, i) => {
      const id = `b${i}`;
      nodes.push({ id, type: KINDS[k]!.type, params: { ...KINDS[k]!.params } });
      const [p1, p2, h, two] = links[i]!;
      const parents = new Set([p1 % (i + 1), ...(two ? [p2 % (i + 1)] : [])]);
      for (const p of parents) {
        const src = p === 0 ? 'n1' : body[p - 1]!;
        const outs = p === 0 ? ['each'] : outputsOf(nodes.find((x) => x.id === src)!.type);
        edges.push({ id: `e${edges.length}`, source: src, sourceHandle: outs[h % outs.length]!, target: id });
      }
      body.push(id);
    });
    return { doc: { schemaVersion: 1, id: 'random-branch', kind: 'workflow', name: 'Random branch', nodes, edges }, items, kinds };
  }),
);

describe('for-each branch properties', () => {
  it('random branches compile deterministically, run once per item with keys of their own, and agree across machine shapes', async () => {
    await fc.assert(
      fc.asyncProperty(branchGraph, async ({ doc, items }) => {
        const a = compile(doc);
        expect(a.diagnostics).toEqual([]);
        expect(JSON.stringify(compile(structuredClone(doc)).machine)).toBe(JSON.stringify(a.machine));
        const fake = createFakePorts();
        const r = await simulateRun(a.machine!, fake.ports, { triggerNodeId: 'n0', payload: { items } });
        expect(r.status).toBe('completed');
        const state = (r.context as RunContext).each!.n1!;
        expect(state.items.map((i) => i.index)).toEqual(items.map((_, i) => i));
        // Every item ended, and every branch node of it is resolved.
        const body = doc.nodes.filter((n) => n.id.startsWith('b')).map((n) => n.id);
        for (const item of state.items) {
          expect(['succeeded', 'skipped']).toContain(item.status);
          for (const id of body) expect(['succeeded', 'failed', 'skipped']).toContain(item.nodes[id]);
        }
        // One effect per succeeded effect node per item, plus the task after: no two items share a key.
        const effectNodes = new Set(doc.nodes.filter((n) => KINDS.some((k) => k.type === n.type && k.effect)).map((n) => n.id));
        const expected = state.items.reduce((sum, i) => sum + body.filter((id) => effectNodes.has(id) && i.nodes[id] === 'succeeded').length, 0);
        expect(fake.effects).toHaveLength(expected + 1);
        expect(new Set(fake.effects.map((e) => e.key)).size).toBe(fake.effects.length);
        expect(r.context.nodes.n1!.output).toMatchObject({ count: items.length, total: items.length, skipped: 0 });

        // The one-region-per-node shape decides the same.
        const legacy = compile(doc, undefined, { legacyShape: true }).machine!;
        const b = await simulateRun(legacy, createFakePorts().ports, { triggerNodeId: 'n0', payload: { items } });
        expect(b.status).toBe(r.status);
        expect((b.context as RunContext).each!.n1!.items.map((i) => [i.status, i.nodes])).toEqual(state.items.map((i) => [i.status, i.nodes]));
      }),
      { numRuns: 40 },
    );
  });
});
