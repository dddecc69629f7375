import { describe, expect, it } from 'vitest';
import { createFakePorts } from '../testing/fake-ports';
import type { Invocation } from '../nodes/types';
import { planStepInWorkflow } from './step-node';

/** A plan step dropped into a workflow fails with the code its agent's refusal carries. */
describe('plan step in a workflow', () => {
  const inv = (): Invocation<never> => ({
    runId: 'r', userId: 'u', nodeId: 'research', nodeType: 'plan.step', scope: { trigger: {}, nodes: {} }, attempt: 0, effectKey: 'k',
    signal: new AbortController().signal, params: { agent: 'a1', skill: 'research-contact', params: { contactId: 'c1' } } as never,
  });
  const failed = { success: false, output: {}, sideEffects: [], suggestedNextSteps: [], pendingApprovals: [] };

  it('a refusal keeps its code (FORBIDDEN); a skill that failed on its own is BAD_INPUT', async () => {
    const fake = createFakePorts();
    fake.ports.agents.runSkill = async () => ({ ...failed, error: 'Not granted: email.send', errorCode: 'FORBIDDEN' });
    await expect(planStepInWorkflow.run(inv(), fake.ports)).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'Not granted: email.send' });
    fake.ports.agents.runSkill = async () => ({ ...failed, error: 'Contact not found' });
    await expect(planStepInWorkflow.run(inv(), fake.ports)).rejects.toMatchObject({ code: 'BAD_INPUT', message: 'Contact not found' });
  });
});
