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
