import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor, toPromise } from 'xstate';
import { analyzePlan } from './analyze';
import { createPlanMachine, planStepActor } from './machine';

/**
 * Random plans: a DAG of steps (each depends on 0-2 earlier ones), some failing, some critical.
 * Every one compiles and runs to its final state; a step runs only after its dependencies are
 * done; the outcome agrees with what each step did. Random bad documents give diagnostics, never a crash.
 */
const randomPlan = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.array(fc.record({ parents: fc.array(fc.nat(), { maxLength: 2 }), fails: fc.boolean(), critical: fc.boolean() }), { minLength: n, maxLength: n }),
).map((specs) => {
  const nodes = specs.map((s, i) => ({
    id: `s${i}`, type: 'plan.step',
    params: { name: `s${i}`, skill: 'research-contact', critical: s.critical, params: s.fails ? { fail: true } : { from: i > 0 ? `{{ steps.s${s.parents[0] !== undefined ? s.parents[0] % i : 0}.status }}` : 'none' } },
  }));
  const edges: { id: string; source: string; target: string }[] = [];
  specs.forEach((s, i) => {
    if (i === 0) return;
    for (const p of new Set(s.parents.map((x) => x % i))) edges.push({ id: `e${edges.length}`, source: `s${p}`, target: `s${i}` });
    // The reference above names a parent: make sure it is one.
    if (!s.fails && !edges.some((e) => e.target === `s${i}` && e.source === `s${s.parents[0] !== undefined ? s.parents[0] % i : 0}`)) {
      edges.push({ id: `e${edges.length}`, source: `s${s.parents[0] !== undefined ? s.parents[0] % i : 0}`, target: `s${i}` });
    }
  });
  return { doc: { schemaVersion: 1, id: 'p', kind: 'plan', name: 'P', nodes, edges }, specs };
});

describe('plan machine, property tests', () => {
  it('random valid plans run to the end; dependencies first; the outcome matches the steps', async () => {
    await fc.assert(fc.asyncProperty(randomPlan, async ({ doc }) => {
      const a = analyzePlan(doc);
      expect(a.diagnostics).toEqual([]);
      const order: string[] = [];
      const machine = createPlanMachine(a.plan!).provide({
        actors: {
          runStep: planStepActor({
            async runStep(req) {
              const step = a.plan!.steps.find((s) => s.name === req.name)!;
              for (const d of step.dependsOn) expect(order).toContain(d);
              await new Promise((r) => setTimeout(r, 0));
              if (req.params.fail) throw new Error(`${req.name} failed`);
              order.push(req.name);
              return { ok: req.name };
            },
          }),
        },
      });
      const actor = createActor(machine, { input: {} }).start();
      const out = await toPromise(actor);
      const steps = actor.getSnapshot().context.steps;
      for (const s of a.plan!.steps) {
        const st = steps[s.name]!.status;
        expect(['done', 'failed', 'skipped', 'cancelled']).toContain(st);
        expect(st === 'done').toBe(s.name in out.results);
        if (st === 'failed') expect(out.errors.map((e) => e.step)).toContain(s.name);
      }
      const criticalMissed = a.plan!.steps.some((s) => s.critical && steps[s.name]!.status !== 'done');
      expect(out.status).toBe(criticalMissed ? 'failed' : 'success');
    }), { numRuns: 60 });
  });

  it('random bad documents give diagnostics, never a crash', () => {
    const anything = fc.oneof(fc.anything(), fc.record({
      schemaVersion: fc.constant(1), id: fc.constant('p'), kind: fc.constantFrom('plan', 'workflow'), name: fc.string({ minLength: 1 }),
      nodes: fc.array(fc.record({ id: fc.stringMatching(/^[a-c]$/), type: fc.constantFrom('plan.step', 'trigger.manual'), params: fc.record({ name: fc.stringMatching(/^[a-c]$/), skill: fc.constantFrom('research-contact', 'BAD'), params: fc.dictionary(fc.constantFrom('x', 'y'), fc.constantFrom('{{ steps.a.output }}', '{{ steps.zz }}', '{{ (( }}', 'plain')) }) }), { maxLength: 5 }),
      edges: fc.array(fc.record({ id: fc.stringMatching(/^e[0-9]$/), source: fc.stringMatching(/^[a-d]$/), target: fc.stringMatching(/^[a-d]$/) }), { maxLength: 6 }),
    }));
    fc.assert(fc.property(anything, (doc) => {
      const a = analyzePlan(doc);
      expect(Array.isArray(a.diagnostics)).toBe(true);
      if (a.plan === null) expect(a.diagnostics.some((d) => d.severity === 'error')).toBe(true);
      else createPlanMachine(a.plan);
    }), { numRuns: 300 });
  });
});

/**
 * The analyser's graph checks against the plain quadratic definitions (ready steps in document
 * order, upstream as the full backwards closure): random graphs with cycles, self-loops, duplicate
 * and dangling edges, duplicate result names and references near and far give the same order and
 * the same diagnostics.
 */
describe('plan analyser, graph checks against their definitions', () => {
  const graph = fc.integer({ min: 1, max: 9 }).chain((n) => fc.record({
    n: fc.constant(n),
    names: fc.array(fc.integer({ min: 0, max: n + 1 }), { minLength: n, maxLength: n }),
    edges: fc.array(fc.tuple(fc.integer({ min: 0, max: n }), fc.integer({ min: 0, max: n - 1 })), { maxLength: 2 * n }),
    refs: fc.array(fc.array(fc.integer({ min: 0, max: n + 1 }), { maxLength: 2 }), { minLength: n, maxLength: n }),
    // Half of them valid (a DAG, unique names, no references), so there is an order to compare.
    clean: fc.boolean(),
  })).map((g) => (g.clean
    ? { ...g, names: g.names.map((_, i) => i), refs: g.refs.map(() => []), edges: g.edges.filter(([s, t]) => s < t) }
    : g));

  it('same order, cycles and upstream verdicts as the definitions', () => {
    fc.assert(fc.property(graph, ({ n, names, edges, refs, clean }) => {
      const ids = Array.from({ length: n }, (_, i) => `s${i}`);
      const nodes = ids.map((id, i) => ({ id, type: 'plan.step', params: { name: `n${names[i]}`, skill: 'research-contact', params: Object.fromEntries(refs[i]!.map((r, k) => [`p${k}`, `{{ steps.n${r}.output }}`])) } }));
      // Index n is a step that does not exist (a dangling edge).
      const doc = { schemaVersion: 1, id: 'g', kind: 'plan', name: 'G', nodes, edges: edges.map(([s, t], i) => ({ id: `e${i}`, source: s === n ? 'ghost' : `s${s}`, target: `s${t}` })) };
      const a = analyzePlan(doc);

      // The definitions.
      const deps = new Map(ids.map((id) => [id, [] as string[]]));
      for (const e of doc.edges) if (e.source !== 'ghost' && e.source !== e.target && !deps.get(e.target)!.includes(e.source)) deps.get(e.target)!.push(e.source);
      // Kahn's queue, scanning every step for each one taken: the ready ones in document order.
      const order: string[] = [];
      const indegree = new Map(ids.map((id) => [id, deps.get(id)!.length]));
      const queue = ids.filter((id) => indegree.get(id) === 0);
      while (queue.length) {
        const id = queue.shift()!;
        order.push(id);
        for (const other of ids) {
          if (!deps.get(other)!.includes(id)) continue;
          indegree.set(other, indegree.get(other)! - 1);
          if (indegree.get(other) === 0) queue.push(other);
        }
      }
      const left = new Set(ids.filter((id) => !order.includes(id)));
      const closure = (id: string) => {
        const out = new Set<string>();
        let grew = true;
        for (const d of deps.get(id)!) out.add(d);
        while (grew) {
          grew = false;
          for (const x of [...out]) for (const d of deps.get(x)!) if (!out.has(d)) { out.add(d); grew = true; }
        }
        return new Set([...out].map((x) => nodes[ids.indexOf(x)]!.params.name));
      };
      const byName = new Set(nodes.map((x) => x.params.name));
      const notUpstream = nodes.flatMap((x) => refs[ids.indexOf(x.id)]!.map((r, k) => [x.id, `n${r}`, k] as const)
        .filter(([id, name]) => byName.has(name) && !closure(id).has(name)).map(([id, , k]) => `${id}:p${k}`));

      expect(a.diagnostics.filter((d) => d.code === 'cycle' && !d.edgeId).map((d) => d.nodeId)).toEqual(ids.filter((id) => left.has(id)));
      expect(a.diagnostics.filter((d) => d.message.includes('is not upstream')).map((d) => `${d.nodeId}:${String(d.path!.at(-1))}`).sort()).toEqual(notUpstream.sort());
      if (clean) expect(a.diagnostics).toEqual([]);
      if (a.plan) {
        expect(a.plan.steps.map((s) => s.nodeId)).toEqual(order);
        expect(a.plan.steps.map((s) => s.dependsOn)).toEqual(order.map((id) => deps.get(id)!.map((d) => nodes[ids.indexOf(d)]!.params.name)));
      }
    }), { numRuns: 400 });
  });
});
