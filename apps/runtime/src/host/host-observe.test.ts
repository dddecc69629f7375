import { describe, expect, it } from 'vitest';
import { compile, createFakePorts, type CompiledMachine } from '@switchyard/actors';
import { createClock } from './clock';
import { createHost } from './host';
import { memoryRunStore } from './memory-store';
import type { SnapshotWrite } from './run-store';

/** A run store that keeps the writes it is given, in memory (the host's observation, without a database). */
function memoryStore() {
  const writes: SnapshotWrite[] = [];
  return { store: memoryRunStore((w) => writes.push(w)), writes };
}

const approvalsDoc = {
  schemaVersion: 1, id: 'observe', kind: 'workflow', name: 'Two approvals',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'a', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'First' } },
    { id: 'b', type: 'flow.approval', position: { x: 400, y: 0 }, params: { title: 'Second' } },
  ],
  edges: [
    { id: 'e1', source: 'start', sourceHandle: 'out', target: 'a', targetHandle: 'in' },
    { id: 'e2', source: 'a', sourceHandle: 'approved', target: 'b', targetHandle: 'in' },
  ],
};

const compiled = (): CompiledMachine => {
  const r = compile(approvalsDoc);
  if (!r.machine) throw new Error(JSON.stringify(r.diagnostics));
  return r.machine;
};

const row = (id: string) => ({ id, user_id: 'u', trigger_node_id: 'start', trigger: { type: 'manual' as const, payload: { n: 1 } }, snapshot: null, snapshot_version: 0 });

/** The state a new run of the flow rests at (waiting on its first approval), as its first write stored it. */
async function firstSnapshot() {
  const { store, writes } = memoryStore();
  const host = createHost({ em: () => { throw new Error('no database here'); }, clock: createClock(), ports: createFakePorts().ports, store });
  host.launch(row('seed') as never, compiled());
  await host.flush();
  await host.stop();
  expect(writes[0]).toMatchObject({ version: 1, status: 'waiting' });
  return writes[0]!.snapshot;
}

describe('the host observes each step with the event that made it', () => {
  it('journals every step under its event, in order, with the decision it carried', async () => {
    const { store, writes } = memoryStore();
    const host = createHost({ em: () => { throw new Error('no database here'); }, clock: createClock(), ports: createFakePorts().ports, store });
    host.launch(row('r1') as never, compiled());
    host.deliver('r1', { type: 'approval.decide', nodeId: 'a', decision: 'approve', by: 'ann' });
    host.deliver('r1', { type: 'approval.decide', nodeId: 'b', decision: 'reject', comment: 'no' });
    await host.flush();
    expect(writes.map((w) => [w.version, w.journal.eventType, w.status])).toEqual([
      [1, 'xstate.init', 'waiting'],
      [2, 'approval.decide', 'waiting'],
      [3, 'approval.decide', 'completed'],
    ]);
    expect(writes[1]!.journal.data).toMatchObject({ decision: 'approve', by: 'ann' });
    // Still waiting after the first decision: journaled as a delta, and the run row takes the state
    // it rests at (a wake or restart reads the row alone). Moving on (completed) rewrites the row anyway.
    expect(writes[1]).toMatchObject({ snapshot: null, touchRun: false, rowSnapshot: { value: writes[1]!.value } });
    expect(writes[1]!.delta).toBeTruthy();
    expect(writes[2]!.rowSnapshot).toBeUndefined();
    expect(writes[2]!.journal.data).toMatchObject({ decision: 'reject', comment: 'no' });
    // An event the run does not handle changes nothing and writes nothing.
    host.launch(row('r2') as never, compiled());
    host.deliver('r2', { type: 'approval.decide', nodeId: 'nope', decision: 'approve' });
    await host.flush();
    expect(writes.filter((w) => w.runId === 'r2').map((w) => w.journal.eventType)).toEqual(['xstate.init']);
  });

  it('a machine that throws while it steps ends its run failed, stored as such, and nothing escapes as an unhandled error', async () => {
    const { store, writes } = memoryStore();
    const host = createHost({ em: () => { throw new Error('no database here'); }, clock: createClock(), ports: createFakePorts().ports, store });
    // A machine whose transition throws (a guard it does not implement): before, XState reported the
    // error as unhandled, thrown out of the process a tick later (vitest fails the run on it).
    const broken = compiled();
    const json = JSON.stringify(broken.config).replaceAll('"isDecisionFor"', '"noSuchGuard"');
    const run = host.launch(row('r3') as never, { ...broken, config: JSON.parse(json) as CompiledMachine['config'] });
    host.deliver('r3', { type: 'approval.decide', nodeId: 'a', decision: 'approve' });
    await host.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(run.actor.getSnapshot().status).toBe('error');
    expect(writes.map((w) => [w.journal.eventType, w.status, w.finished])).toEqual([
      ['xstate.init', 'waiting', false],
      ['approval.decide', 'failed', true],
    ]);
  });
  it('a step that cannot be recorded halts the run here (to resume from what was stored), logged, never thrown out of the process', async () => {
    const { store, writes } = memoryStore();
    const errors: string[] = [];
    const log = { error: (_o: unknown, msg: string) => errors.push(msg), warn: () => undefined, info: () => undefined };
    let resumed = 0;
    const host = createHost({
      em: () => { throw new Error('no database here'); }, clock: createClock(), ports: createFakePorts().ports, log: log as never,
      store: { ...store, resumable: async () => { resumed++; return null; } }, verifyDeltas: false,
    });
    const run = host.launch(row('r4') as never, compiled());
    // A value JSON cannot hold (a BigInt) in the step's output: its journal delta cannot be made.
    host.deliver('r4', { type: 'approval.decide', nodeId: 'a', decision: 'approve', by: 10n as never });
    await host.flush();
    await new Promise((r) => setTimeout(r, 400));
    expect(run.halted).toBe(true);
    expect(writes.map((w) => w.journal.eventType)).toEqual(['xstate.init']);
    expect(errors).toContain('could not record a step of a run; resuming it from what was stored');
    expect(resumed).toBe(1);
  });

  it('a relaunched run journals its restart with its next step, in the same batch; one that never moves writes nothing', async () => {
    const snapshot = await firstSnapshot();
    const restoredRow = (id: string) => ({ ...row(id), status: 'waiting', snapshot, snapshot_version: 1, state_seq: 1 });
    const { store, writes } = memoryStore();
    const host = createHost({ em: () => { throw new Error('no database here'); }, clock: createClock(), ports: createFakePorts().ports, store });
    host.launch(restoredRow('r5') as never, compiled());
    host.launch(restoredRow('r6') as never, compiled());
    await host.flush();
    // Restoring is not a step: nothing written yet, for either run.
    expect(writes).toEqual([]);
    host.deliver('r5', { type: 'approval.decide', nodeId: 'a', decision: 'approve', by: 'ann' });
    await host.flush();
    expect(writes.map((w) => [w.runId, w.version, w.journal.kind, w.journal.eventType])).toEqual([
      ['r5', 2, 'restored', null],
      ['r5', 3, 'state', 'approval.decide'],
    ]);
    expect(writes[0]).toMatchObject({ snapshot: null, touchRun: false, finished: false });
    expect(writes[0]!.delta ?? null).toBeNull();
    expect(Date.parse(writes[0]!.at)).toBeLessThanOrEqual(Date.parse(writes[1]!.at));
    // The marker goes once: the next step is written alone.
    host.deliver('r5', { type: 'approval.decide', nodeId: 'b', decision: 'approve', by: 'ann' });
    await host.flush();
    expect(writes.map((w) => w.journal.kind)).toEqual(['restored', 'state', 'state']);
    // r6 never moved: stopping writes nothing for it (no marker, no stopped snapshot).
    await host.stop();
    expect(writes.filter((w) => w.runId === 'r6')).toEqual([]);
  });

  it('parked runs found due together are read back by one statement, and each is woken once', async () => {
    const snapshot = await firstSnapshot();
    const ids = Array.from({ length: 25 }, (_, i) => `p${i}`);
    const reads: string[][] = [];
    const { store } = memoryStore();
    const clock = createClock();
    const host = createHost({
      em: () => { throw new Error('no database here'); }, clock, ports: createFakePorts().ports,
      store: {
        ...store,
        // Every parked run is due; one of them is another process's, one is gone.
        wakeable: async () => [...ids, 'gone'],
        resumableMany: async (runIds: string[]) => {
          reads.push([...runIds]);
          return runIds.filter((id) => id !== 'gone').map((id) => ({
            ...row(id), flow_id: 'f', flow_version: 1, status: 'waiting', snapshot, snapshot_version: 1, state_seq: 1,
          })) as never;
        },
      },
      machines: { compiledFor: async () => compiled() } as never,
      park: { afterMs: 60_000, pollMs: 60_000, armed: () => ({ count: 0, nextDue: null }) },
    });
    clock.set(clock.now());
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toEqual([[...ids, 'gone']]);
    expect(host.parkingStats()).toMatchObject({ live: 25, woken: 25 });
    // Due again while live: the live runs are not read again (only the one that was not found).
    clock.set(clock.now());
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toEqual([[...ids, 'gone'], ['gone']]);
    expect(host.parkingStats()).toMatchObject({ live: 25, woken: 25 });
    await host.stop();
  });
});
