import { describe, expect, it } from 'vitest';
import { compile } from '@switchyard/actors';
import type { Diagnostic, FlowDocument } from '@switchyard/schema';
import { agentSteps, agentStepsKey, currentAgentDiagnostics, mergeDiagnostics, runtimeOnly } from './agent-diagnostics';

const doc = (nodes: FlowDocument['nodes']): FlowDocument =>
  ({ schemaVersion: 1, id: 'f', kind: 'workflow', name: 'F', description: '', version: 1, nodes, edges: [], settings: {} }) as unknown as FlowDocument;
const node = (id: string, type: string, params: Record<string, unknown> = {}) => ({ id, type, typeVersion: 1, position: { x: 0, y: 0 }, params });
const missingTools = (nodeId: string, index: number): Diagnostic => ({
  code: 'invalid-params', severity: 'error', nodeId, path: ['nodes', index, 'params', 'skill'],
  message: 'Agent "Sam" may not use getContact, which Draft Email needs: allow it on the agent\'s page',
});

describe('agent step diagnostics from the runtime (issue 9: the canvas showed "0 problems")', () => {
  it('asks only about documents with Run agent skill steps, and only when their agent or skill changes', () => {
    expect(agentStepsKey(agentSteps(doc([node('t', 'trigger.manual')])))).toBe('[]');
    const a = doc([node('t', 'trigger.manual'), node('ask', 'agent.runSkill', { agentId: 'A', skill: 'draft-email', params: { to: 'x' } })]);
    const sameStep = doc([node('t', 'trigger.manual', { moved: true }), node('ask', 'agent.runSkill', { agentId: 'A', skill: 'draft-email', params: { to: 'y' } })]);
    const otherSkill = doc([node('t', 'trigger.manual'), node('ask', 'agent.runSkill', { agentId: 'A', skill: 'research-contact' })]);
    expect(agentStepsKey(agentSteps(a))).toBe(agentStepsKey(agentSteps(sameStep)));
    expect(agentStepsKey(agentSteps(a))).not.toBe(agentStepsKey(agentSteps(otherSkill)));
  });

  it('keeps only what the compiler does not already say about the sent document', () => {
    const sent = doc([node('ask', 'agent.runSkill', { agentId: 'A', skill: 'draft-email' })]);
    const fromCompiler = compile(sent).diagnostics;
    expect(fromCompiler.length).toBeGreaterThan(0); // no trigger, at least
    expect(runtimeOnly(sent, [...fromCompiler, missingTools('ask', 0)])).toEqual([missingTools('ask', 0)]);
  });

  it('drops an answer about a step whose agent or skill changed since, and follows a step that moved', () => {
    const sent = doc([node('t', 'trigger.manual'), node('ask', 'agent.runSkill', { agentId: 'A', skill: 'draft-email' })]);
    const check = { steps: agentSteps(sent), diagnostics: [missingTools('ask', 1)] };
    expect(currentAgentDiagnostics(check, sent)).toEqual([missingTools('ask', 1)]);
    // The trigger deleted: the step is node 0 now.
    expect(currentAgentDiagnostics(check, doc([node('ask', 'agent.runSkill', { agentId: 'A', skill: 'draft-email' })]))).toEqual([missingTools('ask', 0)]);
    // Another agent chosen, or the step deleted: the old answer no longer applies.
    expect(currentAgentDiagnostics(check, doc([node('ask', 'agent.runSkill', { agentId: 'B', skill: 'draft-email' })]))).toEqual([]);
    expect(currentAgentDiagnostics(check, doc([node('t', 'trigger.manual')]))).toEqual([]);
    expect(currentAgentDiagnostics(null, sent)).toEqual([]);
  });

  it('merges without repeating a diagnostic both sides gave', () => {
    const local: Diagnostic[] = [{ code: 'no-trigger', severity: 'error', message: 'Add a trigger', path: [] } as unknown as Diagnostic];
    expect(mergeDiagnostics(local, [])).toBe(local);
    expect(mergeDiagnostics(local, [...local, missingTools('ask', 0)])).toEqual([...local, missingTools('ask', 0)]);
  });
});
