import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { compile } from './compiler/compile';
import type { CompiledMachine } from './compiler/types';
import { createRunMachine, nodeStatesOf, waitingApprovals } from './machine';
import { doc } from './testing/docs';
import { createFakePorts } from './testing/fake-ports';

/** Shapes the start shortcut touches (chains, single nodes, forks and joins, branches) and ones it leaves alone. */
const docs = [
  doc('approvals', [{ id: 'start', type: 'trigger.manual' }, { id: 'a', type: 'flow.approval', params: { title: 'Go?' } }, { id: 'b', type: 'flow.approval', params: { title: 'Sure?' } }], [['start', 'a'], ['a', 'b', 'approved']]),
  doc('chain', [{ id: 'start', type: 'trigger.manual' }, { id: 'c', type: 'condition.if', params: { expression: 'trigger.go' } }, { id: 't', type: 'action.createTask', params: { title: 'x' } }], [['start', 'c'], ['c', 't', 'true']]),
  doc('fork-join', [
    { id: 'start', type: 'trigger.manual' }, { id: 'x', type: 'action.createTask', params: { title: 'x' } }, { id: 'y', type: 'action.createTask', params: { title: 'y' } },
    { id: 'j', type: 'action.sendNotification', params: { title: 'both' } },
  ], [['start', 'x'], ['start', 'y'], ['x', 'j'], ['y', 'j']]),
  doc('branch', [
    { id: 'start', type: 'trigger.manual' }, { id: 'each', type: 'flow.forEach', params: { items: '{{ trigger.people }}' } },
    { id: 't', type: 'action.createTask', params: { title: 'Call {{ item }}' } },
  ], [['start', 'each'], ['each', 't', 'each']]),
  doc('two-triggers', [
    { id: 'start', type: 'trigger.manual' }, { id: 'mail', type: 'trigger.emailReceived' }, { id: 't', type: 'action.createTask', params: { title: 'x' } },
  ], [['start', 't'], ['mail', 't']]),
];

const compiled = (d: unknown, format: 4 | 3 | 2 = 4) => {
  const r = compile(d, undefined, { chainShape: format === 2, flatShape: format === 3 });
  if (!r.machine) throw new Error(JSON.stringify(r.diagnostics));
  return r.machine;
};
const input = { runId: 'r1', userId: 'u1', triggerNodeId: 'start', payload: { go: true, people: ['Ada', 'Grace'] } };

/** Every persisted snapshot a run reports, from its start to its end (or to where it waits). */
async function trace(c: CompiledMachine, startShortcut: boolean) {
  const fake = createFakePorts();
  const actor = createActor(createRunMachine(c, fake.ports, { startShortcut }), { input });
  const seen: string[] = [];
  actor.subscribe(() => seen.push(JSON.stringify(actor.getPersistedSnapshot())));
  actor.start();
  seen.unshift(JSON.stringify(actor.getPersistedSnapshot()));
  await waitFor(actor, (s) => s.status !== 'active' || s.hasTag('approval'), { timeout: 5000 });
  actor.stop();
  return { seen, effects: fake.effects.map((e) => e.key) };
}

describe('the start shortcut of single-trigger workflows', () => {
  it.each(docs.flatMap((d) => [[d.id, 4, d], [d.id, 3, d], [d.id, 2, d]] as const))('%s (format %i): the same snapshots, in the same order, and the same effects as the full start', async (_id, format, d) => {
    const c = compiled(d, format);
    const full = await trace(c, false);
    const short = await trace(c, true);
    expect(short.seen).toEqual(full.seen);
    expect(short.effects).toEqual(full.effects);
    expect(full.seen.length).toBeGreaterThan(1);
  });

  it('a run told to start from a node that is not the flow\'s trigger fails with BAD_INPUT instead of running', () => {
    const c = compiled(docs[1]);
    const actor = createActor(createRunMachine(c, createFakePorts().ports), { input: { ...input, triggerNodeId: 'c' } });
    actor.subscribe({ error: () => undefined });
    actor.start();
    expect(actor.getSnapshot().status).toBe('error');
    expect((actor.getSnapshot().error as Error).message).toContain('is not the trigger');
  });
});

describe('format 3 and 4 state values', () => {
  /** Runs the document until it waits on an approval (or ends) and returns the state value there. */
  async function valueAt(d: unknown, format: 4 | 3 | 2 = 4) {
    const c = compiled(d, format);
    const actor = createActor(createRunMachine(c, createFakePorts().ports), { input }).start();
    const snap = await waitFor(actor, (s) => s.status !== 'active' || s.hasTag('approval'), { timeout: 5000 });
    actor.stop();
    return { c, value: snap.value, context: snap.context as { nodes: Record<string, { status: string }> } };
  }

  it('a chain\'s node of one step is that state; the one trigger has no region and is recorded in context', async () => {
    const flat = await valueAt(docs[0]);
    expect(flat.value).toEqual({ active: { a: 'a' } });
    expect(flat.context.nodes.start?.status).toBe('succeeded');
    expect(nodeStatesOf(flat.value)).toEqual({ a: 'running' });
    expect(waitingApprovals(flat.c, flat.value)).toEqual(['a']);
    // The same run on a format-2 machine: nested node states and the trigger's region.
    const nested = await valueAt(docs[0], 2);
    expect(nested.value).toEqual({ active: { start: 'succeeded', a: { a: 'running' } } });
    expect(nodeStatesOf(nested.value)).toEqual({ start: 'succeeded', a: 'running' });
    expect(waitingApprovals(nested.c, nested.value)).toEqual(['a']);
  });

  it('a chain\'s node named like a step (running, succeeded) keeps its nested state, so values stay unambiguous', async () => {
    const named = doc('named', [
      { id: 'start', type: 'trigger.manual' }, { id: 'check', type: 'condition.if', params: { expression: 'trigger.go' } },
      { id: 'running', type: 'flow.approval', params: { title: 'Go?' } }, { id: 'succeeded', type: 'flow.approval', params: { title: 'Sure?' } },
    ], [['start', 'check'], ['check', 'running', 'true'], ['running', 'succeeded', 'approved']]);
    const c = compiled(named);
    const fake = createFakePorts();
    const actor = createActor(createRunMachine(c, fake.ports), { input }).start();
    let snap = await waitFor(actor, (s) => s.hasTag('approval'), { timeout: 5000 });
    expect(snap.value).toEqual({ active: { check: { running: 'running' } } });
    expect(nodeStatesOf(snap.value)).toEqual({ running: 'running' });
    expect(waitingApprovals(c, snap.value)).toEqual(['running']);
    actor.send({ type: 'approval.decide', nodeId: 'running', decision: 'approve' });
    snap = actor.getSnapshot();
    expect(snap.value).toEqual({ active: { check: { succeeded: 'running' } } });
    expect(waitingApprovals(c, snap.value)).toEqual(['succeeded']);
    actor.send({ type: 'approval.decide', nodeId: 'succeeded', decision: 'approve' });
    expect(actor.getSnapshot().value).toBe('completed');
    actor.stop();
  });
});
