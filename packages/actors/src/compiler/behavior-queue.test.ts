import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { compile } from './compile';
import { MAX_QUEUED_ACTIVATIONS, createRunMachine, type RunContext } from '../machine';
import { createFakePorts } from '../testing/fake-ports';

/** Each activation asks for an approval, then creates a task naming its trigger's payload. */
const doc = {
  schemaVersion: 1, id: 'queued', kind: 'behavior', name: 'Queued',
  nodes: [
    { id: 'login', type: 'trigger.userLogin', position: { x: 0, y: 0 }, params: {} },
    { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go on?' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Login {{ trigger.n }} (#{{ run.activation }})' } },
  ],
  edges: [{ id: 'e1', source: 'login', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'task' }],
};
const activate = (n: number) => ({ type: 'behavior.activate' as const, activationId: `a${n}`, triggerNodeId: 'login', payload: { n } });

describe('a behavior queues the triggers that fire while an activation is under way', () => {
  it('runs them one after another, in order, each as its own activation; a repeated activation id is queued once', async () => {
    const compiled = compile(doc).machine!;
    const fake = createFakePorts();
    const actor = createActor(createRunMachine(compiled, fake.ports), { input: { runId: 'r1', userId: 'u1', triggerNodeId: '', payload: null } });
    actor.start();
    const ctx = () => actor.getSnapshot().context as RunContext;
    const approving = async (activation: number) => {
      await waitFor(actor, (s) => s.hasTag('approval') && (s.context as RunContext).activation === activation, { timeout: 5000 });
      actor.send({ type: 'approval.decide', nodeId: 'ok', decision: 'approve', by: 'test' });
    };
    actor.send(activate(1));
    await waitFor(actor, (s) => s.hasTag('approval'), { timeout: 5000 });
    // Two more logins (one sent twice) while the first waits: queued, not lost.
    actor.send(activate(2));
    actor.send(activate(3));
    actor.send(activate(2));
    expect(ctx().queuedActivations?.map((q) => q.activationId)).toEqual(['a2', 'a3']);
    expect(ctx().activation).toBe(1);
    await approving(1);
    await approving(2);
    await approving(3);
    await waitFor(actor, (s) => s.value === 'idle' && (s.context as RunContext).lastActivation?.n === 3, { timeout: 5000 });
    expect(fake.effects.filter((e) => e.kind === 'task').map((e) => (e.data as { title: string }).title)).toEqual(['Login 1 (#1)', 'Login 2 (#2)', 'Login 3 (#3)']);
    expect(ctx().queuedActivations).toEqual([]);
    actor.stop();
  });

  it('a full queue counts what it drops instead of growing without bound', async () => {
    const fake = createFakePorts();
    const actor = createActor(createRunMachine(compile(doc).machine!, fake.ports), { input: { runId: 'r2', userId: 'u1', triggerNodeId: '', payload: null } });
    actor.start();
    actor.send(activate(0));
    await waitFor(actor, (s) => s.hasTag('approval'), { timeout: 5000 });
    for (let i = 1; i <= MAX_QUEUED_ACTIVATIONS + 3; i++) actor.send(activate(i));
    const c = actor.getSnapshot().context as RunContext;
    expect(c.queuedActivations).toHaveLength(MAX_QUEUED_ACTIVATIONS);
    expect(c.droppedActivations).toBe(3);
    actor.stop();
  });
});
