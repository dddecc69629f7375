import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import type { CompiledMachine } from './compiler/types';
import { createRunMachine, runStatusOf, type RunContext } from './machine';
import { compiled, doc } from './testing/docs';
import { createFakePorts } from './testing/fake-ports';

/** 19 filters on the trigger's payload, then a task: a chain the runtime would journal step by step. */
const filters = doc('filters', [
  { id: 'start', type: 'trigger.manual' },
  ...Array.from({ length: 19 }, (_, i) => ({ id: `f${i + 1}`, type: 'condition.expression', params: { expression: `trigger.n > ${i}` } })),
  { id: 'task', type: 'action.createTask', params: { title: 'Follow up {{ trigger.n }}' } },
], [['start', 'f1'], ...Array.from({ length: 18 }, (_, i) => [`f${i + 1}`, `f${i + 2}`] as [string, string]), ['f19', 'task']]);

/** Every persisted snapshot a run reports (each is a step the runtime journals), the end, and the effects. */
async function trace(c: CompiledMachine, payload: unknown) {
  const fake = createFakePorts();
  const actor = createActor(createRunMachine(c, fake.ports), { input: { runId: 'r1', userId: 'u1', triggerNodeId: 'start', payload } });
  let steps = 0;
  actor.subscribe(() => steps++);
  actor.start();
  const end = await waitFor(actor, (s) => s.status !== 'active', { timeout: 5000 });
  const context = end.context as RunContext;
  return {
    steps, status: runStatusOf(end), failure: context.failure, skipReason: context.skipReason,
    nodes: Object.fromEntries(Object.entries(context.nodes).map(([id, n]) => [id, { status: n.status, handles: n.handles, output: n.output ?? null, error: n.error ?? null }])),
    effects: fake.effects.map((e) => e.key),
  };
}

describe('format 4: pure nodes decided in the step that reaches them', () => {
  it('a chain of 19 filters costs one step, not one per filter, and ends exactly as the invoked filters of format 3 do', async () => {
    const decided = compiled(filters);
    const invoked = compiled(filters, { flatShape: true });
    expect([decided.format, invoked.format]).toEqual(['switchyard.machine/5', 'switchyard.machine/3']);
    for (const payload of [{ n: 100 }, { n: 7 }]) {
      const a = await trace(decided, payload);
      const b = await trace(invoked, payload);
      expect({ ...a, steps: 0 }).toEqual({ ...b, steps: 0 });
      // Format 3: a step per filter that ran; format 4: the start decides them all.
      expect(b.steps).toBeGreaterThan(payload.n > 19 ? 19 : payload.n);
      expect(a.steps).toBeLessThanOrEqual(2);
    }
    const passed = await trace(decided, { n: 100 });
    expect(passed.status).toBe('completed');
    expect(passed.effects).toHaveLength(1);
    const stopped = await trace(decided, { n: 7 });
    expect(stopped.status).toBe('skipped');
    expect(stopped.skipReason).toBe('Filter "trigger.n > 7" was false');
    expect(stopped.nodes.f9).toMatchObject({ status: 'skipped' });
    expect(stopped.effects).toEqual([]);
  });

  it('a filter whose expression fails at run time (a hostile payload) fails the run with BAD_INPUT, as an invoked one does, and nothing after it acts', async () => {
    const d = doc('hostile', [
      { id: 'start', type: 'trigger.manual' },
      { id: 'f', type: 'condition.expression', params: { expression: 'trigger[trigger.key] == 1' } },
      { id: 'task', type: 'action.createTask', params: { title: 'x' } },
    ], [['start', 'f'], ['f', 'task']]);
    const a = await trace(compiled(d), { key: '__proto__' });
    const b = await trace(compiled(d, { flatShape: true }), { key: '__proto__' });
    expect(a.status).toBe('failed');
    expect(a.failure).toEqual({ nodeId: 'f', code: 'BAD_INPUT', message: 'That property is not accessible' });
    expect(a.nodes.f).toMatchObject({ status: 'failed', error: { code: 'BAD_INPUT' } });
    expect(a.effects).toEqual([]);
    expect({ ...a, steps: 0 }).toEqual({ ...b, steps: 0 });
  });

  it('an if on its own (a fork) takes one output; the other path is skipped and the join after them sees both resolved', async () => {
    const d = doc('fork', [
      { id: 'start', type: 'trigger.manual' },
      { id: 'vip', type: 'condition.if', params: { expression: 'trigger.amount >= 1000' } },
      { id: 'call', type: 'action.createTask', params: { title: 'Call' } },
      { id: 'mail', type: 'action.sendNotification', params: { title: 'Mail' } },
    ], [['start', 'vip'], ['vip', 'call', 'true'], ['vip', 'mail', 'false']]);
    for (const amount of [5000, 10]) {
      const a = await trace(compiled(d), { amount });
      const b = await trace(compiled(d, { flatShape: true }), { amount });
      expect({ ...a, steps: 0 }).toEqual({ ...b, steps: 0 });
      expect(a.status).toBe('completed');
      expect(a.nodes.vip!.handles).toEqual([amount >= 1000 ? 'true' : 'false']);
      expect(a.nodes[amount >= 1000 ? 'mail' : 'call']!.status).toBe('skipped');
      expect(a.effects).toHaveLength(1);
    }
  });

  it('in a behavior, each activation decides its filters anew (on its own trigger payload)', async () => {
    const d = doc('watch', [
      { id: 'on', type: 'trigger.condition', params: {} },
      { id: 'big', type: 'condition.expression', params: { expression: 'trigger.amount > 100' } },
      { id: 'note', type: 'action.sendNotification', params: { title: 'Big deal {{ trigger.amount }}' } },
    ], [['on', 'big'], ['big', 'note']], 'behavior');
    const fake = createFakePorts();
    const actor = createActor(createRunMachine(compiled(d), fake.ports), { input: { runId: 'b1', userId: 'u1', triggerNodeId: 'on', payload: null } });
    actor.start();
    const ended = async (n: number) => ((await waitFor(actor, (s) => s.value === 'idle' && ((s.context as RunContext).lastActivation?.n ?? 0) >= n, { timeout: 5000 })).context as RunContext).lastActivation;
    actor.send({ type: 'behavior.activate', activationId: 'a1', triggerNodeId: 'on', payload: { amount: 500 } });
    expect(await ended(1)).toMatchObject({ n: 1, status: 'completed' });
    actor.send({ type: 'behavior.activate', activationId: 'a2', triggerNodeId: 'on', payload: { amount: 5 } });
    expect(await ended(2)).toMatchObject({ n: 2, status: 'skipped', reason: 'Filter "trigger.amount > 100" was false' });
    actor.send({ type: 'behavior.activate', activationId: 'a3', triggerNodeId: 'on', payload: { amount: 900 } });
    expect(await ended(3)).toMatchObject({ n: 3, status: 'completed' });
    actor.stop();
    expect(fake.effects.map((e) => (e.data as { title?: string }).title)).toEqual(['Big deal 500', 'Big deal 900']);
  });
});
