import { MAX_PLAN_STEPS } from '@switchyard/schema';
import { describe, expect, it } from 'vitest';
import { checkDraft } from './draft-check';

const plan = (steps: number) => ({
  schemaVersion: 1, id: 'big-plan', kind: 'plan', name: 'Big plan', edges: [],
  nodes: Array.from({ length: steps }, (_, i) => ({ id: `s${i}`, type: 'plan.step', position: { x: 0, y: 0 }, params: { name: `s${i}`, skill: 'research-contact' } })),
});

describe('the canvas check of a plan draft', () => {
  it('a plan of at most MAX_PLAN_STEPS steps is analysed; one more step is the size problem alone', () => {
    expect(checkDraft(plan(MAX_PLAN_STEPS)).diagnostics).toEqual([]);
    const big = checkDraft(plan(MAX_PLAN_STEPS + 1));
    expect(big.diagnostics).toEqual([{ code: 'invalid-document', severity: 'error', path: ['nodes'], message: `A plan holds at most ${MAX_PLAN_STEPS} steps (this one has ${MAX_PLAN_STEPS + 1}): split it into smaller plans` }]);
    expect(big.document).toBeNull();
  });
});
