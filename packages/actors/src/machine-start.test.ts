import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { compile } from './compiler/compile';
import type { CompiledMachine } from './compiler/types';
import { createRunMachine } from './machine';
import { createFakePorts } from './testing/fake-ports';

type Node = { id: string; type: string; params?: Record<string, unknown> };
const doc = (id: string, nodes: Node[], edges: [string, string, string?][], kind = 'workflow') => ({
  schemaVersion: 1, id, kind, name: id,
  nodes: nodes.map((n, i) => ({ ...n, params: n.params ?? {}, position: { x: i * 100, y: 0 } })),
  edges: edges.map(([source, target, sourceHandle], i) => ({ id: `e${i}`, source, target, ...(sourceHandle ? { sourceHandle } : {}) })),
});

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

const compiled = (d: unknown) => {
  const r = compile(d);
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
  it.each(docs.map((d) => [d.id, d] as const))('%s: the same snapshots, in the same order, and the same effects as the full start', async (_id, d) => {
    const c = compiled(d);
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
