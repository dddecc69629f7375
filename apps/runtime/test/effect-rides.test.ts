import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { compile, createFakePorts, type EffectMeta, type Ride } from '@switchyard/actors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../src/host/clock';
import { sql } from '../src/host/db';
import { createEffects, riderSql, type Fence } from '../src/host/effects';
import { createHost } from '../src/host/host';
import { createRunStore, type Rider, type RiderWrite, type RunStore, type SnapshotWrite } from '../src/host/run-store';
import { backends, openStoreFixture, runsCompleted } from './support/test-db';

/**
 * An effect that is one ledger statement (a task, a notification, a memory entry) goes with the
 * step that started its node: the run store's statement for that step writes it too, kept only
 * where the step's fence holds, so the effect never stands without its cause and costs no commit
 * of its own. A step already on its way, a rider the statement cannot take, or a second rider with
 * the same key: the effect is written on its own once the step committed, as before.
 */
describe.each(backends())('effects going with their step (%s)', (kind) => {
  let fixture: Awaited<ReturnType<typeof openStoreFixture>>;
  let em: () => EntityManager;
  let userId: string;
  let flowId: string;
  beforeAll(async () => {
    fixture = await openStoreFixture(kind, 'rides');
    ({ em, userId, flowId } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  const lost: string[] = [];
  const fence: Fence = { check: async () => undefined, claim: () => ({ owner: 'me', epoch: 1 }), lost: (id) => void lost.push(id) };
  const effects = () => createEffects({ em, clock: createClock(), outbound: { request: async () => ({ status: 200, body: '' }) }, fence, groupCommit: { lanes: 1 } });

  const newRun = async (owner = 'me') => {
    const runId = randomUUID();
    await sql(em(), `insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot_version, started_at, updated_at, owner, lease_epoch)
      values (?, ?, ?, 1, 'running', 'start', '{}', 0, now(), now(), ?, 1)`, [runId, userId, flowId, owner]);
    return runId;
  };
  const step = (runId: string, version: number): SnapshotWrite => ({
    runId, version, snapshot: { status: 'active', value: `s${version}`, context: {} }, status: 'running', reason: null, error: null,
    at: new Date().toISOString(), finished: false, touchRun: false, journal: { kind: 'state', eventType: `step.${version}`, nodeId: null, data: null },
    fence: { owner: 'me', epoch: 1 },
  });
  /** What the host hands a node that may ride (host.ts `durability.ride`), on `store` for `runId`. */
  const rideOn = (store: RunStore, runId: string, committed: () => Promise<unknown>): Ride => ({
    async attach(write) {
      await Promise.resolve();
      let settle!: Pick<Rider, 'resolve' | 'reject'>;
      const outcome = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
      return store.ride(runId, { ...(write as RiderWrite), ...settle }) ? { outcome } : null;
    },
    committed: async () => void (await committed()),
  });
  const meta = (runId: string, nodeId: string, ride?: Ride): EffectMeta => ({
    runId, userId, nodeId, nodeType: 'action.createTask', effectKey: `${runId}|${nodeId}`, ...(ride ? { ride } : {}),
  });
  const task = { title: 'Call back', description: '', dueAt: '2026-01-08T15:00:00.000Z', priority: 'medium' as const };
  /** The transaction (xmin) that wrote a run's ledger rows, and each of its journal rows, by seq. */
  const xmins = async (runId: string) => ({
    effects: (await sql<{ node_id: string; x: string }>(em(), 'select node_id, xmin::text as x from effects where run_id = ? order by node_id', [runId])).map((r) => [r.node_id, r.x]),
    journal: Object.fromEntries((await sql<{ seq: number; x: string }>(em(), 'select seq, xmin::text as x from run_journal where run_id = ?', [runId])).map((r) => [Number(r.seq), r.x])),
  });

  it('a task handed over while its step is queued is written by that step\'s statement (one transaction), and answers its record', async () => {
    const store = createRunStore(em, { riders: riderSql });
    const runId = await newRun();
    // Step 1 is on its way (a round trip at least); step 2 waits in the queue behind it.
    const first = store.write(step(runId, 1));
    const second = store.write(step(runId, 2));
    const created = await effects().crm.createTask(meta(runId, 'task', rideOn(store, runId, () => second)), task);
    expect(await Promise.all([first, second])).toEqual(['stored', 'stored']);
    const tasks = await sql<{ id: string }>(em(), 'select id from tasks where source_run_id = ?', [runId]);
    expect(tasks).toEqual([{ id: created.id }]);
    const x = await xmins(runId);
    expect(x.effects).toEqual([['task', x.journal[2]]]);
    expect(x.journal[1]).not.toBe(x.journal[2]);
  });

  it('a step refused by its fence takes its riders with it: nothing written, CONFLICT, the host told', async () => {
    const store = createRunStore(em, { riders: riderSql });
    const runId = await newRun('someone-else');
    const first = store.write(step(runId, 1));
    const second = store.write(step(runId, 2));
    const done = effects().crm.createTask(meta(runId, 'task', rideOn(store, runId, () => second)), task);
    await expect(done).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await Promise.all([first, second])).toEqual(['fenced', 'fenced']);
    expect(lost).toContain(runId);
    expect(await sql(em(), 'select id from tasks where source_run_id = ?', [runId])).toEqual([]);
    expect(await sql(em(), 'select 1 from effects where run_id = ?', [runId])).toEqual([]);
  });

  it('a rider the database refuses never fails its step: the step is stored without it, and the effect fails on its own', async () => {
    const store = createRunStore(em, { riders: riderSql });
    const runId = await newRun();
    const other = await newRun();
    const first = store.write(step(runId, 1));
    const second = store.write(step(runId, 2));
    const neighbour = store.write(step(other, 1));
    // A NUL character: JSON carries it, jsonb refuses it, so the statement holding this entry fails.
    const remembered = effects().memory.remember(meta(runId, 'mem', rideOn(store, runId, () => second)), `k-${runId}`, 'bad \u0000 value');
    await expect(remembered).rejects.toThrow(/unicode|\\u0000|escape/i);
    expect(await Promise.all([first, second, neighbour])).toEqual(['stored', 'stored', 'stored']);
    expect(await sql(em(), 'select 1 from effects where run_id = ?', [runId])).toEqual([]);
    expect(await sql(em(), 'select 1 from memory_entries where user_id = ? and key = ?', [userId, `k-${runId}`])).toEqual([]);
    // The run is not broken: its next step is taken.
    expect(await store.write(step(runId, 3))).toBe('stored');
    expect((await sql<{ seq: number }>(em(), 'select seq from run_journal where run_id = ? order by seq', [runId])).map((r) => Number(r.seq))).toEqual([1, 2, 3]);
  });

  it('two effects with one key never share a statement: the second waits for the step and finds the first\'s record', async () => {
    const store = createRunStore(em, { riders: riderSql });
    const runId = await newRun();
    const first = store.write(step(runId, 1));
    const second = store.write(step(runId, 2));
    const fx = effects();
    const ride = rideOn(store, runId, () => second);
    const [a, b] = await Promise.all([fx.crm.createTask(meta(runId, 'task', ride), task), fx.crm.createTask(meta(runId, 'task', ride), task)]);
    expect(a).toEqual(b);
    await Promise.all([first, second]);
    expect(await sql(em(), 'select id from tasks where source_run_id = ?', [runId])).toEqual([{ id: a.id }]);
    expect((await xmins(runId)).effects).toHaveLength(1);
  });

  it('a step dropped before it was sent (its run halted) rejects its riders: nothing written', async () => {
    const store = createRunStore(em, { riders: riderSql });
    const runId = await newRun();
    const first = store.write(step(runId, 1));
    const second = store.write(step(runId, 2));
    const ride = rideOn(store, runId, () => second);
    const done = effects().crm.createTask(meta(runId, 'task', ride), task);
    // Once the task is on the queued step, the run is halted here (its queued writes dropped).
    await new Promise((r) => setImmediate(r));
    store.discard(runId, () => new Error('halted here'));
    await expect(done).rejects.toThrow('halted here');
    await expect(second).rejects.toThrow('halted here');
    expect(await first).toBe('stored');
    expect(await sql(em(), 'select 1 from effects where run_id = ?', [runId])).toEqual([]);
    expect(await sql(em(), 'select id from tasks where source_run_id = ?', [runId])).toEqual([]);
  });

  it('through the host: 20 runs of task, notification and memory entry started together, and one alone: each effect once, every one written with the step that started its node', async () => {
    const doc = {
      schemaVersion: 1, id: 'rides', kind: 'workflow', name: 'Three effects',
      nodes: [
        { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
        { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Reply to {{ trigger.n }}' } },
        { id: 'note', type: 'action.sendNotification', position: { x: 400, y: 0 }, params: { title: 'Note {{ trigger.n }}' } },
        { id: 'mem', type: 'action.setMemory', position: { x: 600, y: 0 }, params: { key: 'last', value: '{{ trigger.n }}' } },
      ],
      edges: [
        { id: 'e1', source: 'start', target: 'task' }, { id: 'e2', source: 'task', target: 'note' }, { id: 'e3', source: 'note', target: 'mem' },
      ],
    };
    const compiled = compile(doc).machine!;
    const fx = createEffects({
      em, clock: createClock(), outbound: { request: async () => ({ status: 200, body: '' }) }, groupCommit: { lanes: 1 },
      fence: { check: async () => undefined, claim: () => null, lost: () => undefined },
    });
    const host = createHost({ em, clock: createClock(), ports: { ...createFakePorts().ports, crm: fx.crm, memory: fx.memory }, verifyDeltas: 'throw' });
    const runIds = await Promise.all(Array.from({ length: 20 }, async () => newRun(null as never)));
    for (const [i, id] of runIds.entries()) {
      host.launch({ id, user_id: userId, trigger_node_id: 'start', trigger: { type: 'manual', payload: { n: i } }, snapshot: null, snapshot_version: 0 } as never, compiled);
    }
    await runsCompleted(em, runIds);
    await host.stop();
    const ledger = await sql<{ run_id: string; node_id: string; n: number }>(em(),
      'select run_id, node_id, count(*)::int as n from effects where run_id = any(?::uuid[]) group by run_id, node_id', [`{${runIds.join(',')}}`]);
    expect(ledger).toHaveLength(60);
    expect(ledger.every((l) => l.n === 1)).toBe(true);
    expect((await sql<{ n: number }>(em(), 'select count(*)::int as n from tasks where source_run_id = any(?::uuid[])', [`{${runIds.join(',')}}`]))[0]!.n).toBe(20);
    // Every effect went with the step that started its node: its ledger row and that journal row
    // have one xmin (a step that starts such a node waits a turn of the event loop on an idle lane,
    // and queues behind the statement in flight on a busy one).
    expect(await rodeWithTheirStep(runIds)).toBe(60);

    // A run alone, on an idle runtime: the same, three effects, three commits fewer.
    const host2 = createHost({ em, clock: createClock(), ports: { ...createFakePorts().ports, crm: fx.crm, memory: fx.memory }, verifyDeltas: 'throw' });
    const alone = await newRun(null as never);
    host2.launch({ id: alone, user_id: userId, trigger_node_id: 'start', trigger: { type: 'manual', payload: { n: 99 } }, snapshot: null, snapshot_version: 0 } as never, compiled);
    await runsCompleted(em, [alone]);
    await host2.stop();
    expect(await rodeWithTheirStep([alone])).toBe(3);
  });

  /** How many of these runs' effects share the xmin of the journal row of the step that started their node. */
  async function rodeWithTheirStep(runIds: string[]) {
    let rode = 0;
    for (const id of runIds) {
      const started = await sql<{ node: string; x: string }>(em(),
        `select k as node, j.xmin::text as x from run_journal j, jsonb_each(j.data->'changed') c(k, v) where j.run_id = ? and v->>'state' = 'running'`, [id]);
      const x = await xmins(id);
      for (const [node, effectX] of x.effects) if (started.some((s) => s.node === node && s.x === effectX)) rode++;
    }
    return rode;
  }
});
