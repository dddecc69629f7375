import type { FlowDocument } from '@switchyard/schema';
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { COMPILE_DEBOUNCE_MS, IMMEDIATE_COMPILE_MAX_NODES, editorSessionMachine, type DeployOutput, type RunStarted, type SaveOutput } from './session.machine';

const empty: FlowDocument = {
  schemaVersion: 1, id: 'test-flow', kind: 'workflow', name: 'Test', description: '', version: 1, nodes: [], edges: [], settings: {},
};
const valid: FlowDocument = {
  ...empty,
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', typeVersion: 1, position: { x: 200, y: 0 }, params: { title: 'Hi' } },
  ],
  edges: [{ id: 'e1', source: 'start', sourceHandle: 'out', target: 'task', targetHandle: 'in' }],
};

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function start(overrides: {
  save?: (input: { document: FlowDocument; expectedVersion: number }) => Promise<SaveOutput>;
  deploy?: () => Promise<DeployOutput>;
  startRun?: () => Promise<RunStarted>;
} = {}) {
  const saves: { document: FlowDocument; expectedVersion: number }[] = [];
  const machine = editorSessionMachine.provide({
    actors: {
      save: fromPromise(async ({ input }) => {
        saves.push(input);
        return overrides.save ? overrides.save(input) : { version: input.expectedVersion + 1 };
      }),
      deploy: fromPromise(async () => (overrides.deploy ? overrides.deploy() : { version: 2, deployedVersion: 2 })),
      startRun: fromPromise(async () => (overrides.startRun ? overrides.startRun() : { runId: 'r1', savedVersion: null })),
    },
  });
  const actor = createActor(machine, { input: { document: empty, version: 1, deployedVersion: null } }).start();
  return { actor, saves };
}

describe('editor session machine', () => {
  it('goes dirty on edit and clean after a save that sends the expected version', async () => {
    const { actor, saves } = start();
    expect(actor.getSnapshot().matches({ doc: 'clean' })).toBe(true);
    actor.send({ type: 'EDIT', document: valid });
    expect(actor.getSnapshot().matches({ doc: 'dirty' })).toBe(true);
    actor.send({ type: 'SAVE' });
    expect(actor.getSnapshot().matches({ doc: 'saving' })).toBe(true);
    await waitFor(actor, (s) => s.matches({ doc: 'clean' }));
    expect(saves).toEqual([{ document: valid, expectedVersion: 1 }]);
    expect(actor.getSnapshot().context.version).toBe(2);
  });

  it('stays dirty when the user edits during a save, and keeps the error of a failed save', async () => {
    const gate = deferred<SaveOutput>();
    const { actor } = start({ save: () => gate.promise });
    actor.send({ type: 'EDIT', document: valid });
    actor.send({ type: 'SAVE' });
    actor.send({ type: 'EDIT', document: { ...valid, name: 'Changed' } });
    gate.resolve({ version: 2 });
    await waitFor(actor, (s) => !s.matches({ doc: 'saving' }));
    expect(actor.getSnapshot().matches({ doc: 'dirty' })).toBe(true);

    const failing = start({ save: () => Promise.reject(new Error('The flow changed since you opened it')) });
    failing.actor.send({ type: 'EDIT', document: valid });
    failing.actor.send({ type: 'SAVE' });
    await waitFor(failing.actor, (s) => !s.matches({ doc: 'saving' }));
    expect(failing.actor.getSnapshot().matches({ doc: 'dirty' })).toBe(true);
    expect(failing.actor.getSnapshot().context.error).toMatch(/changed since/);
  });

  it('issue 9: validation follows the typing: a small document is checked on every edit, with no delay', () => {
    const { actor } = start();
    actor.send({ type: 'EDIT', document: { ...valid, nodes: valid.nodes.map((n) => (n.id === 'task' ? { ...n, params: {} } : n)) } });
    expect(actor.getSnapshot().matches({ check: 'checked' })).toBe(true);
    expect(actor.getSnapshot().context.diagnostics.map((d) => d.nodeId)).toContain('task');
    actor.send({ type: 'EDIT', document: valid });
    expect(actor.getSnapshot().context.diagnostics).toEqual([]);
    expect(actor.getSnapshot().can({ type: 'DEPLOY' })).toBe(true);
  });

  it('refuses to deploy with errors or while the diagnostics of a big document are being recomputed', async () => {
    const { actor } = start();
    // The empty document has a missing-trigger error.
    expect(actor.getSnapshot().can({ type: 'DEPLOY' })).toBe(false);
    const tasks = Array.from({ length: IMMEDIATE_COMPILE_MAX_NODES }, (_, i) => ({
      id: `t${i}`, type: 'action.createTask', typeVersion: 1, position: { x: 200 * (i + 2), y: 0 }, params: { title: 'Hi' },
    }));
    const big: FlowDocument = {
      ...valid,
      nodes: [...valid.nodes, ...tasks],
      edges: [...valid.edges, ...tasks.map((t, i) => ({ id: `x${i}`, source: i === 0 ? 'task' : `t${i - 1}`, sourceHandle: 'out', target: t.id, targetHandle: 'in' }))],
    };
    actor.send({ type: 'EDIT', document: big });
    expect(actor.getSnapshot().matches({ check: 'compiling' })).toBe(true);
    expect(actor.getSnapshot().can({ type: 'DEPLOY' })).toBe(false);
    await new Promise((r) => setTimeout(r, COMPILE_DEBOUNCE_MS + 50));
    expect(actor.getSnapshot().context.diagnostics).toEqual([]);
    expect(actor.getSnapshot().can({ type: 'DEPLOY' })).toBe(true);
    actor.send({ type: 'DEPLOY' });
    expect(actor.getSnapshot().matches({ activity: 'deploying' })).toBe(true);
    await waitFor(actor, (s) => s.matches({ activity: 'idle' }));
    // Deploy saved the dirty document, so the session is clean again.
    expect(actor.getSnapshot().matches({ doc: 'clean' })).toBe(true);
    expect(actor.getSnapshot().context.deployedVersion).toBe(2);
  });

  it('runs: starting, watching with the run id, back to idle when the run ends', async () => {
    const { actor } = start();
    actor.send({ type: 'RUN', request: { payload: {}, eventType: null, triggerNodeId: 'start', asEvent: false } });
    expect(actor.getSnapshot().matches({ activity: { running: 'starting' } })).toBe(true);
    await waitFor(actor, (s) => s.matches({ activity: { running: 'watching' } }));
    expect(actor.getSnapshot().context.runId).toBe('r1');
    actor.send({ type: 'RUN_ENDED' });
    expect(actor.getSnapshot().matches({ activity: 'idle' })).toBe(true);
  });

  it('issue 13: follows a run started elsewhere (no start, no save), another one after it, and a new run here replaces it', async () => {
    const starts: string[] = [];
    const { actor, saves } = start({ startRun: async () => (starts.push('start'), { runId: 'r-new', savedVersion: null }) });
    actor.send({ type: 'EDIT', document: valid });
    actor.send({ type: 'FOLLOW', runId: 'r-monitor' });
    let snap = actor.getSnapshot();
    expect(snap.matches({ activity: { running: 'watching' } })).toBe(true);
    expect(snap.context.runId).toBe('r-monitor');
    expect([starts, saves]).toEqual([[], []]);
    // Another run opened while following: the session follows that one.
    actor.send({ type: 'FOLLOW', runId: 'r-other' });
    expect(actor.getSnapshot().context.runId).toBe('r-other');
    // A finished run: the session is idle again and keeps the run it showed.
    actor.send({ type: 'RUN_ENDED' });
    snap = actor.getSnapshot();
    expect(snap.matches({ activity: 'idle' })).toBe(true);
    expect(snap.context.runId).toBe('r-other');
    // Running from the canvas starts a run of its own and follows it instead.
    actor.send({ type: 'RUN', request: { payload: {}, eventType: null, triggerNodeId: 'start', asEvent: false } });
    expect(actor.getSnapshot().context.runId).toBeNull();
    await waitFor(actor, (s) => s.matches({ activity: { running: 'watching' } }));
    expect(actor.getSnapshot().context.runId).toBe('r-new');
    expect(starts).toEqual(['start']);
  });

  it('undeployed (issue 9: undeploy from the editor): the deployed version goes, unsaved edits stay unsaved', async () => {
    const { actor } = start();
    actor.send({ type: 'EDIT', document: valid });
    actor.send({ type: 'DEPLOY' });
    await waitFor(actor, (s) => s.matches({ activity: 'idle' }) && s.context.deployedVersion === 2);
    actor.send({ type: 'EDIT', document: { ...valid, name: 'Renamed' } });
    actor.send({ type: 'UNDEPLOYED' });
    const snap = actor.getSnapshot();
    expect(snap.context.deployedVersion).toBeNull();
    expect(snap.matches({ doc: 'dirty' })).toBe(true);
    expect(snap.context.document.name).toBe('Renamed');
    expect(snap.context.version).toBe(2);
  });
});
