import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile';
import { createFakePorts } from '../testing/fake-ports';
import { simulateRun } from '../testing/run';

const doc = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 1, id: 'agentflow', kind: 'workflow', name: 'Agent flow',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'ask', type: 'agent.runSkill', position: { x: 200, y: 0 }, params: { agentId: 'a1', skill: 'draft-email', params: { instructions: 'For {{ trigger.name }}' }, ...extra } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'ask' }],
});

describe('agent.runSkill node', () => {
  it('compiles, renders templates inside params and continues with the agent result', async () => {
    const { machine, diagnostics } = compile(doc());
    expect(diagnostics).toEqual([]);
    const fake = createFakePorts();
    const res = await simulateRun(machine!, fake.ports, { triggerNodeId: 'start', payload: { name: 'Ada' } });
    expect(res.status).toBe('completed');
    expect(fake.effects).toEqual([{ kind: 'skill', key: expect.any(String), data: { agentId: 'a1', skill: 'draft-email', params: { instructions: 'For Ada' } } }]);
    expect(res.context.nodes.ask?.output).toMatchObject({ success: true, output: { simulated: true } });
  });

  it('a failed skill fails the node (or continues when continueOnError)', async () => {
    const { machine } = compile(doc());
    const fake = createFakePorts();
    fake.ports.agents.runSkill = async () => ({ success: false, output: { error: 'Contact not found' }, error: 'Contact not found', sideEffects: [], suggestedNextSteps: [], pendingApprovals: [] });
    expect((await simulateRun(machine!, fake.ports, { triggerNodeId: 'start', payload: {} })).status).toBe('failed');
    const cont = compile(doc({ continueOnError: true })).machine!;
    expect((await simulateRun(cont, fake.ports, { triggerNodeId: 'start', payload: {} })).status).toBe('completed');
  });

  it('a failed skill fails the node with the code the runtime gave it (FORBIDDEN), else BAD_INPUT', async () => {
    const { machine } = compile(doc());
    const fake = createFakePorts();
    const failed = { success: false, output: {}, sideEffects: [], suggestedNextSteps: [], pendingApprovals: [] };
    fake.ports.agents.runSkill = async () => ({ ...failed, error: 'Not granted: calendar.read', errorCode: 'FORBIDDEN' });
    const refused = await simulateRun(machine!, fake.ports, { triggerNodeId: 'start', payload: {} });
    expect(refused.status).toBe('failed');
    expect(refused.context.nodes.ask?.error).toMatchObject({ code: 'FORBIDDEN', message: 'Not granted: calendar.read' });
    fake.ports.agents.runSkill = async () => ({ ...failed, error: 'Contact not found' });
    expect((await simulateRun(machine!, fake.ports, { triggerNodeId: 'start', payload: {} })).context.nodes.ask?.error).toMatchObject({ code: 'BAD_INPUT', message: 'Contact not found' });
  });

  it('waits for the decisions on proposals the agent made, then continues with them', async () => {
    const { machine } = compile(doc());
    const fake = createFakePorts();
    fake.ports.agents.runSkill = async () => ({ success: true, output: {}, sideEffects: [], suggestedNextSteps: [], pendingApprovals: [{ id: 'p1', tool: 'sendEmail', reason: 'untrusted' }] });
    let release: () => void = () => undefined;
    const asked: string[][] = [];
    fake.ports.agents.awaitApprovals = async (_meta, ids) => {
      asked.push(ids);
      await new Promise<void>((r) => (release = r));
      return [{ id: 'p1', tool: 'sendEmail', status: 'rejected', result: null }];
    };
    const running = simulateRun(machine!, fake.ports, { triggerNodeId: 'start', payload: {} });
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toEqual([['p1']]);
    release();
    const res = await running;
    expect(res.status).toBe('completed');
    expect(res.context.nodes.ask?.output).toMatchObject({ approvals: [{ id: 'p1', status: 'rejected' }] });
  });

  it('needs an agent and a skill', () => {
    const bad = compile({ ...doc(), nodes: [doc().nodes[0], { id: 'ask', type: 'agent.runSkill', position: { x: 0, y: 0 }, params: { skill: 'Bad Skill' } }] });
    expect(bad.diagnostics.map((d) => d.nodeId)).toEqual(['ask', 'ask']);
  });
});
