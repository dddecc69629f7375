import { describe, expect, it } from 'vitest';
import { createActor, waitFor, type AnyActorRef } from 'xstate';
import type { CompiledMachine } from './compiler/types';
import { createRunMachine, runStatusOf, type RunContext } from './machine';
import type { RunPorts } from './ports';
import { compiled, doc } from './testing/docs';
import { createFakePorts } from './testing/fake-ports';

/** A task, a one-hour delay, a notification: the delay's work is under way until the test lets it end. */
const delayed = doc('delayed', [
  { id: 'start', type: 'trigger.manual' },
  { id: 'task', type: 'action.createTask', params: { title: 'Call {{ trigger.name }}' } },
  { id: 'wait', type: 'flow.delay', params: { duration: '1 hour' } },
  { id: 'note', type: 'action.sendNotification', params: { title: 'Called {{ trigger.name }}?' } },
], [['start', 'task'], ['task', 'wait'], ['wait', 'note']]);

/**
 * Fake ports whose timers sleep until the test ends them: every sleep is recorded with its signal.
 * `obeysAbort: false` makes a sleep that ends when told even after its signal fired (a port that
 * ignores the signal), to show a stale end is not applied.
 */
function heldTimers(options: { obeysAbort?: boolean } = {}) {
  const fake = createFakePorts();
  const sleeps: { key: string; signal: AbortSignal; end: () => void }[] = [];
  const ports: RunPorts = {
    ...fake.ports,
    timers: {
      sleep: (t, _ms, signal) => new Promise<void>((resolve, reject) => {
        sleeps.push({ key: t.key, signal: signal!, end: resolve });
        if (options.obeysAbort !== false) signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    },
  };
  return { ...fake, ports, sleeps };
}

const start = (c: CompiledMachine, ports: RunPorts, snapshot?: unknown) => {
  const actor = createActor(createRunMachine(c, ports), {
    input: { runId: 'r1', userId: 'u1', triggerNodeId: 'start', payload: { name: 'Ada' } },
    ...(snapshot ? { snapshot: snapshot as never } : {}),
  });
  actor.start();
  return actor;
};
const children = (actor: AnyActorRef) => Object.keys((actor.getPersistedSnapshot() as unknown as { children: object }).children);
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(check()).toBe(true);
};

describe('format 5: the run machine does its nodes\' work itself', () => {
  it('has no actor per node: every snapshot is free of node children, and the run ends as format 4\'s does', async () => {
    const current = compiled(delayed);
    const invoked = compiled(delayed, { invokedNodes: true });
    expect([current.format, invoked.format]).toEqual(['switchyard.machine/5', 'switchyard.machine/4']);
    const ends: unknown[] = [];
    for (const c of [current, invoked]) {
      const held = heldTimers();
      const actor = start(c, held.ports);
      const seen: string[][] = [];
      actor.subscribe(() => seen.push(children(actor)));
      await until(() => held.sleeps.length === 1);
      // At the delay: format 4 persists the delay's actor, format 5 nothing but the state.
      expect(children(actor)).toEqual(c === current ? [] : ['wait']);
      held.sleeps[0]!.end();
      const end = await waitFor(actor, (s) => s.status !== 'active', { timeout: 5000 });
      if (c === current) expect(seen.every((ids) => ids.length === 0)).toBe(true);
      const context = end.context as RunContext;
      ends.push({ status: runStatusOf(end), nodes: context.nodes, effects: held.effects.map((e) => [e.kind, e.key]) });
    }
    expect(ends[0]).toEqual(ends[1]);
    expect(ends[0]).toMatchObject({ status: 'completed' });
  });

  it('stopping the actor stops the work under way; a restored snapshot starts it again, once, and the run ends with one effect each', async () => {
    const held = heldTimers();
    const first = start(compiled(delayed), held.ports);
    await until(() => held.sleeps.length === 1);
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    expect(held.sleeps[0]!.signal.aborted).toBe(true);

    // A restart: the stored snapshot, a new actor (a new process would bind the machine anew).
    const again = start(compiled(delayed), held.ports, persisted);
    await until(() => held.sleeps.length === 2);
    await new Promise((r) => setTimeout(r, 10));
    expect(held.sleeps).toHaveLength(2);
    expect(held.sleeps[1]!.key).toBe(held.sleeps[0]!.key);
    held.sleeps[1]!.end();
    const end = await waitFor(again, (s) => s.status !== 'active', { timeout: 5000 });
    expect(runStatusOf(end)).toBe('completed');
    expect(held.effects.map((e) => e.kind)).toEqual(['task', 'notification']);
  });

  it('a work whose state was left (an event arrived before its timeout) is stopped, and its late end changes nothing', async () => {
    const d = doc('reply', [
      { id: 'start', type: 'trigger.manual' },
      { id: 'reply', type: 'flow.waitForEvent', params: { event: 'email.received', field: 'threadId', key: 't-1', timeout: '2 days' } },
      { id: 'note', type: 'action.sendNotification', params: { title: 'Replied' } },
    ], [['start', 'reply'], ['reply', 'note']]);
    const held = heldTimers({ obeysAbort: false });
    const actor = start(compiled(d), held.ports);
    await until(() => held.sleeps.length === 1);
    actor.send({ type: 'event.deliver', nodeId: 'reply', eventId: 'ev-1', eventType: 'email.received', payload: { threadId: 't-1' } });
    const end = await waitFor(actor, (s) => s.status !== 'active', { timeout: 5000 });
    expect(held.sleeps[0]!.signal.aborted).toBe(true);
    // The timer ends anyway (a port that ignored the signal): the run stays as the event left it.
    held.sleeps[0]!.end();
    await new Promise((r) => setTimeout(r, 10));
    const context = end.context as RunContext;
    expect(runStatusOf(actor.getSnapshot())).toBe('completed');
    expect(context.nodes.reply).toMatchObject({ status: 'succeeded', handles: ['out'] });
    expect(held.effects.map((e) => e.kind)).toEqual(['notification']);
  });

  it('cancelling a run stops the work under way and nothing after it acts', async () => {
    const held = heldTimers({ obeysAbort: false });
    const actor = start(compiled(delayed), held.ports);
    await until(() => held.sleeps.length === 1);
    actor.send({ type: 'run.cancel' });
    expect(held.sleeps[0]!.signal.aborted).toBe(true);
    held.sleeps[0]!.end();
    await new Promise((r) => setTimeout(r, 10));
    expect(runStatusOf(actor.getSnapshot())).toBe('cancelled');
    expect(held.effects.map((e) => e.kind)).toEqual(['task']);
  });

  it('a retried node runs again after its backoff, with the attempt in its input, as format 4 does', async () => {
    const d = doc('retry', [
      { id: 'start', type: 'trigger.manual' },
      { id: 'w', type: 'action.webhook', params: { url: 'https://example.test/x', continueOnError: true, retry: { maxAttempts: 3, backoffMs: 100, factor: 2 } } },
      { id: 't', type: 'action.createTask', params: { title: 'after {{ nodes.w.error.message }}' } },
    ], [['start', 'w'], ['w', 't']]);
    const outcomes: unknown[] = [];
    for (const options of [{}, { invokedNodes: true }]) {
      const fake = createFakePorts({ webhookStatus: 500 });
      const actor = start(compiled(d, options), fake.ports);
      const end = await waitFor(actor, (s) => s.status !== 'active', { timeout: 5000 });
      outcomes.push({ status: runStatusOf(end), w: (end.context as RunContext).nodes.w, effects: fake.effects.map((e) => e.key) });
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0]).toMatchObject({ status: 'completed', w: { status: 'failed', attempts: 3 } });
    // The attempts share the webhook's effect key (one record), then the task.
    expect((outcomes[0] as { effects: string[] }).effects).toHaveLength(2);
  });
});
