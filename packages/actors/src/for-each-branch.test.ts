import { describe, expect, it } from 'vitest';
import { createActor, waitFor, type AnyActorRef } from 'xstate';
import { compile } from './compiler/compile';
import { branchNodesOf, createRunMachine, nodeStatesOf, nodeStatesOfSnapshot, runStatusOf, type RunContext } from './machine';
import type { RunPorts } from './ports';
import { createFakePorts } from './testing/fake-ports';
import { simulateRun } from './testing/run';

const people = [
  { name: 'Ada', email: 'ada@x.test', active: true },
  { name: 'Grace', email: 'grace@x.test', active: false },
  { name: 'Linus', email: 'linus@x.test', active: true },
];

type Node = { id: string; type: string; params?: Record<string, unknown>; label?: string };
type Edge = { id: string; source: string; target: string; sourceHandle?: string };

/** start -> each; each's branch: check (item.active) -> task -> notify; each's results -> done. */
function branchDoc(mode: 'parallel' | 'sequential', extra: { nodes?: Node[]; edges?: Edge[]; each?: Record<string, unknown>; kind?: string } = {}) {
  return {
    schemaVersion: 1, id: `branch-${mode}`, kind: extra.kind ?? 'workflow', name: 'Branch',
    nodes: [
      { id: 'start', type: extra.kind === 'behavior' ? 'trigger.condition' : 'trigger.manual', params: {} },
      { id: 'each', type: 'flow.forEach', params: { items: '{{ trigger.people }}', mode, ...extra.each } },
      { id: 'check', type: 'condition.if', params: { expression: 'item.active' } },
      { id: 'task', type: 'action.createTask', params: { title: 'Call {{ item.name }} (#{{ index }})' } },
      { id: 'notify', type: 'action.sendNotification', params: { title: 'Task {{ nodes.task.taskId }} for {{ item.name }}', body: 'from {{ trigger.from }}' } },
      { id: 'done', type: 'action.sendNotification', params: { title: '{{ nodes.each.count }} of {{ nodes.each.total }} done' } },
      ...(extra.nodes ?? []),
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'each' },
      { id: 'e2', source: 'each', sourceHandle: 'each', target: 'check' },
      { id: 'e3', source: 'check', sourceHandle: 'true', target: 'task' },
      { id: 'e4', source: 'task', target: 'notify' },
      { id: 'e5', source: 'each', sourceHandle: 'out', target: 'done' },
      ...(extra.edges ?? []),
    ],
  };
}

const codesOf = (doc: unknown) => compile(doc).diagnostics.map((d) => ({ code: d.code, nodeId: d.nodeId }));

/** Fake ports whose task and notification effects take turns the test controls: proves order and overlap. */
function recordingPorts() {
  const fake = createFakePorts();
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  const tick = () => new Promise((r) => setTimeout(r, 1));
  const wrap = <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    const meta = a[0] as { nodeId: string };
    log.push(`start ${name} ${meta.nodeId}`);
    active++;
    maxActive = Math.max(maxActive, active);
    await tick();
    const r = await fn(...a);
    active--;
    log.push(`end ${name} ${meta.nodeId}`);
    return r;
  };
  const ports: RunPorts = {
    ...fake.ports,
    crm: { ...fake.ports.crm, createTask: wrap('task', fake.ports.crm.createTask), createNotification: wrap('notify', fake.ports.crm.createNotification) },
  };
  return { ...fake, ports, log, maxActive: () => maxActive };
}

describe('for-each running a branch per item', () => {
  it('compiles a for-each with a branch: the branch is a machine of its own, not in the run\'s nodes', () => {
    const r = compile(branchDoc('parallel'));
    expect(r.diagnostics).toEqual([]);
    const m = r.machine!;
    expect(Object.keys(m.nodes).sort()).toEqual(['done', 'each', 'start']);
    expect(Object.keys(m.bodies!.each!.nodes).sort()).toEqual(['check', 'notify', 'task']);
    expect(m.bodies!.each!.nodes.check!.incoming).toEqual([{ source: 'each', handle: 'each' }]);
    expect(JSON.stringify(compile(branchDoc('parallel')).machine)).toBe(JSON.stringify(m));
  });

  it('one-action for-each documents compile exactly as before (no bodies, same config)', () => {
    const doc = {
      schemaVersion: 1, id: 'one', kind: 'workflow', name: 'One',
      nodes: [
        { id: 'start', type: 'trigger.manual' },
        { id: 'each', type: 'flow.forEach', params: { items: '{{ trigger.people }}', action: 'action.createTask', with: { title: 'Call {{ item.name }}' } } },
      ],
      edges: [{ id: 'e1', source: 'start', target: 'each' }],
    };
    const m = compile(doc, undefined, { chainShape: true }).machine!;
    expect(m.bodies).toBeUndefined();
    // Format 3: the same, without the one trigger's region (the run starts with it recorded).
    const m3 = compile(doc).machine!;
    expect(m3.bodies).toBeUndefined();
    const { start: _trigger, ...withoutTrigger } = (m.config.states as { active: { states: Record<string, unknown> } }).active.states;
    expect(m3.config.states).toEqual({ ...(m.config.states as object), active: { ...(m.config.states as { active: object }).active, states: withoutTrigger } });
    // The exact compiled config of this document before branches existed (format 2, one region per node).
    expect(JSON.stringify(m.config.states)).toBe(
      '{"active":{"type":"parallel","states":{"start":{"initial":"pending","states":{"pending":{"always":[{"guard":{"type":"isFiredTrigger","params":{"nodeId":"start"}},"target":"succeeded","actions":{"type":"recordTrigger","params":{"nodeId":"start"}}},{"target":"skipped","actions":{"type":"recordSkip","params":{"nodeId":"start"}}}]},"succeeded":{"type":"final"},"skipped":{"type":"final"}}},"each":{"initial":"pending","states":{"pending":{"always":[{"guard":{"type":"inputsDead","params":{"incoming":[{"source":"start","handle":"out"}]}},"target":"skipped","actions":{"type":"recordSkip","params":{"nodeId":"each"}}},{"guard":{"type":"inputsReady","params":{"incoming":[{"source":"start","handle":"out"}]}},"target":"running"}]},"running":{"tags":["running"],"invoke":{"id":"each","src":"flow.forEach","input":{"nodeId":"each","expressionParams":["with","where"]},"onDone":{"target":"succeeded","actions":{"type":"recordOutcome","params":{"nodeId":"each"}}},"onError":[{"target":"#run.failed","actions":{"type":"recordFailure","params":{"nodeId":"each","continueOnError":false}}}]}},"succeeded":{"type":"final"},"failed":{"type":"final"},"skipped":{"type":"final"}}}},"onDone":{"target":"finalize"}},"finalize":{"always":[{"guard":{"type":"nothingRan","params":{"workNodes":["each"]}},"target":"skipped"},{"target":"completed"}]},"completed":{"type":"final"},"skipped":{"type":"final"},"failed":{"type":"final"},"cancelled":{"type":"final"}}',
    );
  });

  it('diagnostics: a branch node fed from outside, a branch leading into the rest, waits and nested branches in a branch, no list', () => {
    // The for-each's results also lead into the branch.
    expect(codesOf(branchDoc('parallel', { edges: [{ id: 'x', source: 'each', sourceHandle: 'out', target: 'task' }] })))
      .toEqual([{ code: 'foreach-body-entry', nodeId: 'task' }]);
    // A branch edge leads out into a node the rest of the drawing also feeds.
    expect(codesOf(branchDoc('parallel', { edges: [{ id: 'x', source: 'notify', target: 'done' }] })))
      .toEqual([{ code: 'foreach-body-entry', nodeId: 'done' }]);
    // The trigger feeds a branch node directly.
    expect(codesOf(branchDoc('parallel', { edges: [{ id: 'x', source: 'start', target: 'check' }] })))
      .toEqual([{ code: 'foreach-body-entry', nodeId: 'check' }]);
    // An approval, a wait for an event and a for-each with its own branch inside the branch.
    expect(codesOf(branchDoc('parallel', {
      nodes: [
        { id: 'ok', type: 'flow.approval', params: {} },
        { id: 'reply', type: 'flow.waitForEvent', params: {} },
        { id: 'inner', type: 'flow.forEach', params: { items: '{{ item.tags }}' } },
        { id: 'tag', type: 'action.createTask', params: { title: 'x' } },
      ],
      edges: [
        { id: 'x1', source: 'notify', target: 'ok' },
        { id: 'x2', source: 'ok', sourceHandle: 'approved', target: 'reply' },
        { id: 'x3', source: 'task', target: 'inner' },
        { id: 'x4', source: 'inner', sourceHandle: 'each', target: 'tag' },
      ],
    }))).toEqual([
      { code: 'kind-not-allowed', nodeId: 'ok' },
      { code: 'kind-not-allowed', nodeId: 'reply' },
      { code: 'kind-not-allowed', nodeId: 'inner' },
    ]);
    // A trigger cannot be in a branch: it takes no input.
    expect(codesOf(branchDoc('parallel', { nodes: [{ id: 'hook', type: 'trigger.manual' }], edges: [{ id: 'x', source: 'task', target: 'hook' }] })))
      .toEqual([{ code: 'unknown-handle', nodeId: 'hook' }]);
    // A for-each without a list input.
    expect(codesOf(branchDoc('parallel', { each: { items: ' ' } }))).toEqual([{ code: 'invalid-params', nodeId: 'each' }]);
    // A loop from the branch back into the for-each is a cycle.
    expect(codesOf(branchDoc('parallel', { edges: [{ id: 'x', source: 'notify', target: 'each' }] })).map((d) => d.code)).toContain('cycle');
  });

  it('a behavior for everyone: the branch\'s nodes are checked like any other, the unused action is not', () => {
    const everyone = (extra: Parameters<typeof branchDoc>[1] = {}) => ({ ...branchDoc('parallel', { kind: 'behavior', ...extra }), settings: { audience: 'everyone' } });
    expect(codesOf(everyone({ each: { action: 'action.webhook', with: { url: 'https://x.test' } } }))).toEqual([]);
    expect(codesOf(everyone({ nodes: [{ id: 'mail', type: 'action.sendEmail', params: { to: '{{ item.email }}', subject: 'Hi', body: 'x' } }], edges: [{ id: 'x', source: 'notify', target: 'mail' }] })))
      .toEqual([{ code: 'kind-not-allowed', nodeId: 'mail' }]);
  });

  for (const mode of ['sequential', 'parallel'] as const) {
    it(`${mode}: each picked item runs the branch once, with item, index, upstream and trigger in scope`, async () => {
      const fake = recordingPorts();
      const r = await simulateRun(compile(branchDoc(mode)).machine!, fake.ports, { triggerNodeId: 'start', payload: { people, from: 'boss' } });
      expect(r.status).toBe('completed');
      const tasks = fake.effects.filter((e) => e.kind === 'task').map((e) => (e.data as { title: string }).title);
      const notes = fake.effects.filter((e) => e.kind === 'notification').map((e) => (e.data as { title: string; body: string }));
      expect(tasks.sort()).toEqual(['Call Ada (#0)', 'Call Linus (#2)']);
      expect(notes.filter((n) => n.title.startsWith('Task')).map((n) => [n.title.replace(/task-\d+/, 'T'), n.body]).sort())
        .toEqual([['Task T for Ada', 'from boss'], ['Task T for Linus', 'from boss']]);
      // Every item has its own effect keys.
      const keys = fake.effects.map((e) => e.key);
      expect(new Set(keys).size).toBe(keys.length);
      const out = r.context.nodes.each!.output as { count: number; total: number; skipped: number; results: { index: number; status: string; nodes: Record<string, unknown> }[] };
      expect(out).toMatchObject({ count: 3, total: 3, skipped: 0 });
      // Grace's branch stopped at the condition (it took its false output): her item did only the check.
      expect(out.results.map((x) => [x.index, x.status, Object.keys(x.nodes).sort()])).toEqual([
        [0, 'succeeded', ['check', 'notify', 'task']], [1, 'succeeded', ['check']], [2, 'succeeded', ['check', 'notify', 'task']],
      ]);
      expect((fake.effects.at(-1)!.data as { title: string }).title).toBe('3 of 3 done');
      // A run view shows the branch's nodes as the last item left them.
      const last = branchNodesOf(r.context);
      expect(last.notify).toMatchObject({ state: 'succeeded', forEach: 'each', item: 2, error: null });
      expect((last.task!.output as { title: string }).title).toBe('Call Linus (#2)');
      if (mode === 'sequential') {
        // In order: an item's task and notification end before the next item's start.
        expect(fake.log).toEqual([
          'start task each[0].task', 'end task each[0].task', 'start notify each[0].notify', 'end notify each[0].notify',
          'start task each[2].task', 'end task each[2].task', 'start notify each[2].notify', 'end notify each[2].notify',
          'start notify done', 'end notify done',
        ]);
        expect(fake.maxActive()).toBe(1);
      } else {
        // Concurrently: both items' tasks start before either ends.
        expect(fake.log.slice(0, 2).sort()).toEqual(['start task each[0].task', 'start task each[2].task']);
        expect(fake.maxActive()).toBe(2);
      }
    });
  }

  it('where and maxItems pick the items; the item\'s place in the list stays its index', async () => {
    const fake = createFakePorts();
    const r = await simulateRun(compile(branchDoc('parallel', { each: { where: 'item.name !== "Ada"', maxItems: 1 } })).machine!, fake.ports, { triggerNodeId: 'start', payload: { people: people.map((p) => ({ ...p, active: true })) } });
    expect(r.status).toBe('completed');
    expect(fake.effects.filter((e) => e.kind === 'task').map((e) => (e.data as { title: string }).title)).toEqual(['Call Grace (#1)']);
    expect(r.context.nodes.each!.output).toMatchObject({ count: 1, total: 3, skipped: 1 });
  });

  it('items that are not a list are a typed failure of the for-each; nothing runs', async () => {
    const fake = createFakePorts();
    const r = await simulateRun(compile(branchDoc('parallel')).machine!, fake.ports, { triggerNodeId: 'start', payload: { people: 'Ada' } });
    expect(r.status).toBe('failed');
    expect(r.context.failure).toMatchObject({ nodeId: 'each', code: 'BAD_INPUT' });
    expect(r.context.failure!.message).toContain('"items" must be a list');
    expect(fake.effects).toEqual([]);
  });

  it('a failed item fails the for-each with the item named; in order, the items after it do not start', async () => {
    const doc = branchDoc('sequential');
    // Updating a contact that is not in the CRM fails (NOT_FOUND); only Grace is unknown.
    doc.nodes.push({ id: 'upd', type: 'action.updateContact', params: { email: '{{ item.email }}' } });
    doc.edges.push({ id: 'x', source: 'check', sourceHandle: 'false', target: 'upd' });
    const fake = createFakePorts();
    const r = await simulateRun(compile(doc).machine!, fake.ports, { triggerNodeId: 'start', payload: { people } });
    expect(r.status).toBe('failed');
    expect(r.context.failure).toMatchObject({ nodeId: 'each' });
    expect(r.context.failure!.message).toMatch(/^Item 2 \(upd\): /);
    expect(branchNodesOf(r.context).upd).toMatchObject({ state: 'failed', item: 1, error: { code: r.context.failure!.code } });
    expect(fake.effects.filter((e) => e.kind === 'task').map((e) => (e.data as { title: string }).title)).toEqual(['Call Ada (#0)']);
  });

  it('a behavior: each activation\'s items have keys of their own', async () => {
    const compiled = compile(branchDoc('parallel', { kind: 'behavior' })).machine!;
    expect(compiled.kind).toBe('behavior');
    const fake = createFakePorts();
    const actor = createActor(createRunMachine(compiled, fake.ports), { input: { runId: 'b', userId: 'u', triggerNodeId: 'start', payload: null } });
    actor.start();
    for (const n of [1, 2]) {
      actor.send({ type: 'behavior.activate', activationId: `a${n}`, triggerNodeId: 'start', payload: { people } });
      await waitFor(actor, (s) => s.value === 'idle' && (s.context as RunContext).lastActivation?.n === n, { timeout: 5000 });
    }
    actor.stop();
    expect(fake.effects.filter((e) => e.kind === 'task')).toHaveLength(4);
    expect(new Set(fake.effects.map((e) => e.key)).size).toBe(fake.effects.length);
  });

  it('restored mid-way from a persisted snapshot, every item\'s effects happen once', async () => {
    const compiled = compile(branchDoc('sequential')).machine!;
    const fake = createFakePorts();
    // The ports hold item 2's task until the test has persisted the run; the first actor is then stopped (a crash).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = true;
    const ports: RunPorts = {
      ...fake.ports,
      crm: {
        ...fake.ports.crm,
        createTask: async (m, t) => {
          if (m.nodeId === 'each[2].task' && holding) await held;
          return fake.ports.crm.createTask(m, t);
        },
      },
    };
    const input = { runId: 'r1', userId: 'u', triggerNodeId: 'start', payload: { people } };
    const first = createActor(createRunMachine(compiled, ports), { input });
    first.start();
    const mid = await waitFor(first, (s) => (s.context as RunContext).each?.each?.items.find((i) => i.index === 2)?.nodes.task === 'running', { timeout: 5000 });
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot())) as { children: Record<string, { src: string }> };
    // The running item is a child of the run in its persisted snapshot.
    expect(Object.keys(persisted.children)).toContain('each.item.2');
    expect(persisted.children['each.item.2']!.src).toBe('sys.forEach.body.each');
    expect(nodeStatesOf(mid.value).each).toBe('running');
    expect(nodeStatesOfSnapshot(mid as never)).toMatchObject({ each: 'running', task: 'running' });
    // The item under way shows the nodes it ran: the condition, with its output; the task still runs.
    expect(branchNodesOf(mid.context)).toMatchObject({ check: { state: 'succeeded', output: { value: true }, item: 2 }, task: { state: 'running', output: null, item: 2 } });
    expect(mid.context.nodes.each!.output).toEqual({ count: 2, total: 3, skipped: 0, pending: 1 });
    // Item 0's effects are done; the crash comes before item 2's task.
    expect(fake.effects.map((e) => e.key.includes('each[0]'))).toEqual([true, true]);
    first.stop();
    holding = false;
    release();

    const second = createActor(createRunMachine(compiled, ports), { input, snapshot: persisted as never });
    second.start();
    const end = await waitFor(second, (s) => s.status === 'done', { timeout: 5000 });
    expect(runStatusOf(end)).toBe('completed');
    const byItem = fake.effects.map((e) => `${e.kind} ${/each\[(\d)\]/.exec(e.key)?.[1] ?? '-'}`);
    expect(byItem).toEqual(['task 0', 'notification 0', 'task 2', 'notification 2', 'notification -']);
    // Restoring again from the same snapshot (a second crash) adds nothing: the keys are stable.
    const third = createActor(createRunMachine(compiled, ports), { input, snapshot: persisted as never });
    third.start();
    await waitFor(third, (s) => s.status === 'done', { timeout: 5000 });
    expect(fake.effects).toHaveLength(5);
    expect((third.getSnapshot().context as RunContext).nodes.each!.output).toMatchObject({ count: 3 });
    for (const a of [second, third] as AnyActorRef[]) a.stop();
  });

  it('persist before effect: an item\'s effect starts only once a run snapshot holding that step was reported', async () => {
    const compiled = compile(branchDoc('parallel')).machine!;
    const fake = createFakePorts();
    // What the host journals: the run's persisted snapshot at each of its snapshots.
    let journaled: { children: Record<string, { snapshot: { value: unknown } }> } | null = null;
    const seen: string[] = [];
    const check = (nodeId: string) => {
      const [, index, node] = /^each\[(\d+)\]\.(\w+)$/.exec(nodeId)!;
      const child = journaled?.children[`each.item.${index}`];
      seen.push(`${nodeId}:${child ? nodeStatesOf(child.snapshot.value)[node!] : 'absent'}`);
    };
    const ports: RunPorts = {
      ...fake.ports,
      durability: { committed: async () => undefined },
      crm: {
        ...fake.ports.crm,
        createTask: async (m, t) => (check(m.nodeId), fake.ports.crm.createTask(m, t)),
        createNotification: async (m, n) => (check(m.nodeId), fake.ports.crm.createNotification(m, n)),
      },
    };
    const actor: AnyActorRef = createActor(createRunMachine(compiled, ports), {
      input: { runId: 'p', userId: 'u', triggerNodeId: 'start', payload: { people } },
      inspect: (ev) => {
        if (ev.type === '@xstate.snapshot' && ev.actorRef === actor) journaled = JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
      },
    });
    actor.start();
    await waitFor(actor, (st) => st.status === 'done', { timeout: 5000 });
    expect(seen.filter((x) => x.startsWith('each[')).sort()).toEqual(['each[0].notify:running', 'each[0].task:running', 'each[2].notify:running', 'each[2].task:running']);
  });

  it('a restored run whose item is under way is not changed by starting: the item reports where it was, no new step', async () => {
    const compiled = compile(branchDoc('parallel')).machine!;
    const fake = createFakePorts();
    const ports: RunPorts = { ...fake.ports, crm: { ...fake.ports.crm, createTask: () => new Promise(() => undefined) } };
    const input = { runId: 'q', userId: 'u', triggerNodeId: 'start', payload: { people } };
    const first = createActor(createRunMachine(compiled, ports), { input });
    first.start();
    await waitFor(first, (st) => (st.context as RunContext).each?.each?.items.filter((i) => i.nodes.task === 'running').length === 2, { timeout: 5000 });
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot())) as unknown;
    first.stop();
    // As the host does: the restored snapshot is the last known one; a later different snapshot would be a new step.
    const steps: string[] = [];
    const second: AnyActorRef = createActor(createRunMachine(compiled, ports), {
      input, snapshot: persisted as never,
      inspect: (ev) => {
        if (ev.type === '@xstate.snapshot' && ev.actorRef === second && ev.snapshot !== last) steps.push((ev.event as { type: string }).type);
      },
    });
    const last = second.getSnapshot();
    second.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(steps).toEqual([]);
    expect(Object.keys(second.getSnapshot().children).sort()).toEqual(['each.item.0', 'each.item.2']);
    second.stop();
  });

  it('a cancel stops the items still running', async () => {
    const compiled = compile(branchDoc('parallel')).machine!;
    const fake = createFakePorts();
    let aborted = 0;
    const ports: RunPorts = {
      ...fake.ports,
      crm: { ...fake.ports.crm, createTask: (_m, _t) => new Promise(() => undefined) },
      durability: { committed: async (_r, signal) => void signal.addEventListener('abort', () => aborted++) },
    };
    const actor = createActor(createRunMachine(compiled, ports), { input: { runId: 'c', userId: 'u', triggerNodeId: 'start', payload: { people } } });
    actor.start();
    await waitFor(actor, (s) => (s.context as RunContext).each?.each?.items.filter((i) => i.nodes.task === 'running').length === 2, { timeout: 5000 });
    actor.send({ type: 'run.cancel' });
    expect(actor.getSnapshot().value).toBe('cancelled');
    expect(aborted).toBe(2);
    expect(Object.keys(actor.getSnapshot().children)).toEqual([]);
  });
});
