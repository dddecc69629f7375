import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createActor } from 'xstate';
import type { EntityManager } from '@mikro-orm/postgresql';
import { compile, createFakePorts, createRunMachine } from '@switchyard/actors';
import { openDatabase, MEMORY_DATA_DIR, type Database } from '../apps/runtime/src/db/database';
import { createClock } from '../apps/runtime/src/host/clock';
import { sql } from '../apps/runtime/src/host/db';
import { POSTGRES_WRITE_LANES, createHost, type RunUpdate } from '../apps/runtime/src/host/host';
import { chainDoc } from './graphs';
import { compare, type Figure } from './harness';

export async function open(kind: 'pglite' | 'postgres'): Promise<{ db: Database; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const db = await openDatabase({ databaseUrl: undefined, dataDir: MEMORY_DATA_DIR });
    return { db, drop: () => db.close() };
  }
  const base = process.env.DATABASE_URL!;
  const name = `sy_bench_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), dataDir: '' });
  return {
    db,
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Saves a flow version row the host can compile (no API layer in the way). */
export async function seedFlow(em: EntityManager, userId: string, doc: ReturnType<typeof chainDoc>) {
  const flowId = randomUUID();
  await sql(em, 'insert into flows (id, user_id, doc_id, kind, name, description, current_version, status) values (?, ?, ?, ?, ?, ?, 1, ?)', [flowId, userId, doc.id, 'workflow', doc.name, '', 'deployed']);
  await sql(em, 'insert into flow_versions (flow_id, version, document) values (?, 1, ?)', [flowId, { ...doc, version: 1 }]);
  return flowId;
}

/** A node that is a durable step of its own (it reads the clock): the per-step figures chain it. */
const STEP_NODE = 'condition.businessHours';
/** Wednesday 2026-12-02 12:00 UTC: inside the all-week business hours of the chains' checks. */
const BENCH_NOON = Date.UTC(2026, 11, 2, 12);

export async function durableBenchmarks(kind: 'pglite' | 'postgres'): Promise<Figure[]> {
  const { db, drop } = await open(kind);
  const figures: Figure[] = [];
  try {
    const em = () => db.orm.em.fork() as unknown as EntityManager;
    const userId = randomUUID();
    await sql(em(), 'insert into users (id, name, token_hash) values (?, ?, ?)', [userId, 'bench', randomUUID()]);
    await sql(em(), 'create table bench_raw (id bigserial primary key, run_id uuid, seq int, data jsonb)');
    const fake = createFakePorts();
    // Configured as the runtime configures it for this backend (services.ts, wiring.ts).
    // The clock starts on a Wednesday at noon (UTC), inside the business hours the chain checks.
    const host = createHost({ em, clock: createClock(BENCH_NOON), ports: fake.ports, writeLanes: kind === 'postgres' ? POSTGRES_WRITE_LANES : 1 });
    trackEnds(host);
    const steps = 20;
    // A chain of 19 business-hours checks as the current compiler makes it: each reads the clock,
    // so each is a node of its own and a durable step (a filter is decided in the step that
    // reaches it; that is the figure after these). The figures below measure what one step costs.
    const chain = chainDoc(steps, STEP_NODE, 'durable-chain');
    const flowId = await seedFlow(em(), userId, chain);
    // A snapshot-sized payload for the raw inserts, so both sides move the same bytes.
    // A mid-run snapshot of the same flow, so both sides write rows of the same size.
    const probe = await host.startRun({ userId, flowId, version: 1, triggerNodeId: 'start', trigger: { type: 'manual', payload: {} } });
    await finished(host, probe.runId);
    const payload = (await sql<{ payload: unknown }>(em(),
      `select jsonb_build_object('state', coalesce(snapshot, delta), 'value', value, 'data', data) as payload from run_journal where run_id = ? and seq = ?`,
      [probe.runId, Math.floor(steps / 2)]))[0]!.payload;

    const sequential = 10;
    const one = await compare({
      rounds: 5,
      ours: async () => {
        const ids: string[] = [];
        for (let i = 0; i < sequential; i++) {
          const { runId } = await host.startRun({ userId, flowId, version: 1, triggerNodeId: 'start', trigger: { type: 'manual', payload: {} } });
          await finished(host, runId);
          ids.push(runId);
        }
        return count(em, ids);
      },
      baseline: async () => {
        for (let r = 0; r < sequential; r++) {
          const runId = randomUUID();
          for (let i = 0; i < steps; i++) await sql(em(), 'insert into bench_raw (run_id, seq, data) values (?, ?, ?)', [runId, i, payload]);
        }
        return sequential * steps;
      },
    });
    figures.push({ group: 'durable', backend: kind, name: 'one workflow, durable steps/s', unit: 'steps/s', ours: one.ours, baseline: one.baseline, baselineName: 'raw single-row autocommit insert loop', ratio: one.ours / one.baseline, target: 0.85 });

    const parallel = 100;
    /** `parallel` runs of a flow started at once, waited to their ends: their ids. */
    const startParallel = async (id: string) => {
      const ids = await Promise.all(Array.from({ length: parallel }, () => host.startRun({ userId, flowId: id, version: 1, triggerNodeId: 'start', trigger: { type: 'manual', payload: {} } })));
      await Promise.all(ids.map((r) => finished(host, r.runId)));
      return ids.map((r) => r.runId);
    };
    /** The raw side: a row per step of `parallel` runs, as `steps` multi-row inserts of `parallel` rows. */
    const rawParallel = async () => {
      for (let step = 0; step < steps; step++) {
        const params = Array.from({ length: parallel }, () => [randomUUID(), step, payload]).flat();
        await sql(em(), `insert into bench_raw (run_id, seq, data) values ${Array.from({ length: parallel }, () => '(?, ?, ?)').join(', ')}`, params);
      }
    };
    const hundred = await compare({
      rounds: 3,
      ours: async () => count(em, await startParallel(flowId)),
      baseline: async () => {
        await rawParallel();
        return parallel * steps;
      },
    });
    figures.push({ group: 'durable', backend: kind, name: `${parallel} workflows in parallel, aggregate steps/s`, unit: 'steps/s', ours: hundred.ours, baseline: hundred.baseline, baselineName: `raw ${parallel}-row multi-row insert`, ratio: hundred.ours / hundred.baseline, target: 0.4 });

    // The same drawing as the current compiler makes it (format 5): its 20 filters are decided in
    // the steps that reach them, so a run is one step. Counted in runs to completion, beside the
    // raw inserts of one row per node for as many runs (20 statements of 100 rows).
    const decidedFlowId = await seedFlow(em(), userId, chainDoc(steps, 'condition.expression', 'decided-chain'));
    const decided = await compare({
      rounds: 3,
      ours: async () => countEnded(em, await startParallel(decidedFlowId)),
      baseline: async () => {
        await rawParallel();
        return parallel;
      },
    });
    figures.push({
      group: 'durable', backend: kind, name: `${parallel} workflows of ${steps - 1} filters in parallel (decided in one step), runs/s`, unit: 'runs/s',
      ours: decided.ours, baseline: decided.baseline, baselineName: `raw ${parallel}-row multi-row insert per node (${steps} per ${parallel} runs)`, ratio: decided.ours / decided.baseline,
    });

    figures.push(await journalBytes(kind, em, userId, host, 50));
    figures.push(await journalBytes(kind, em, userId, host, 100));
    figures.push(...(await rehydration(kind, em, userId, fake.ports)));
    figures.push(await wakeParked(kind, em, userId, fake.ports));
  } finally {
    await drop();
  }
  return figures;
}

/**
 * Bytes the journal holds for one n-node run (checkpoints, deltas, state values and step data),
 * beside the size of that run's final snapshot: the ratio says how many full snapshots the journal
 * costs. Printed for 50 and 100 nodes: linear growth doubles the bytes, quadratic quadruples them.
 */
async function journalBytes(kind: string, em: () => EntityManager, userId: string, host: ReturnType<typeof createHost>, nodes: number): Promise<Figure> {
  // Each business-hours check is a step (filters would all be decided in one).
  const doc = chainDoc(nodes, STEP_NODE, `journal-bytes-${nodes}`);
  const flowId = await seedFlow(em(), userId, doc);
  const { runId } = await host.startRun({ userId, flowId, version: 1, triggerNodeId: 'start', trigger: { type: 'manual', payload: {} } });
  await finished(host, runId);
  const row = (await sql<{ journal: string; final: string }>(em(),
    `select (select sum(coalesce(octet_length(snapshot::text), 0) + coalesce(octet_length(delta::text), 0) + coalesce(octet_length(value::text), 0)
                        + coalesce(octet_length(data::text), 0)) from run_journal where run_id = ?) as journal,
            (select octet_length(snapshot::text) from runs where id = ?) as final`, [runId, runId]))[0]!;
  const bytes = Number(row.journal);
  const final = Number(row.final);
  return { group: 'durable', backend: kind, name: `journal bytes of one ${nodes}-node run`, unit: 'bytes', ours: bytes, baseline: final, baselineName: 'its final snapshot alone', ratio: bytes / final };
}

const ENDED = ['completed', 'failed', 'skipped', 'cancelled'];
const trackers = new WeakMap<ReturnType<typeof createHost>, (runId: string) => Promise<void>>();

/** Records the runs a host ends from now on (`finished` waits on them), so a run that ended before anyone waited is not missed. */
function trackEnds(host: ReturnType<typeof createHost>) {
  const ended = new Set<string>();
  const waiters = new Map<string, () => void>();
  host.updates.on('update', (u: RunUpdate) => {
    if (!ENDED.includes(u.status)) return;
    ended.add(u.runId);
    waiters.get(u.runId)?.();
    waiters.delete(u.runId);
  });
  const wait = (id: string) => (ended.has(id) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(id, resolve)));
  trackers.set(host, wait);
  return wait;
}

/**
 * Resolves when the host has persisted the run's final state (no polling: the host's update
 * events), also when it ended before this call: runs started together end while the last of them
 * is still being inserted.
 */
const finished = (host: ReturnType<typeof createHost>, runId: string) => (trackers.get(host) ?? trackEnds(host))(runId);
/** The runs that ended (one query), to be sure each counted run is stored as ended. */
const countEnded = async (em: () => EntityManager, runIds: string[]) =>
  Number((await sql<{ n: string }>(em(), `select count(*) as n from runs where id = any(?::uuid[]) and status = 'completed'`, [`{${runIds.join(',')}}`]))[0]!.n);
/** The steps the runs stored (one query: counting is measurement, not the work measured). */
const count = async (em: () => EntityManager, runIds: string[]) =>
  Number((await sql<{ n: string }>(em(), 'select count(*) as n from run_journal where run_id = any(?::uuid[])', [`{${runIds.join(',')}}`]))[0]!.n);

/**
 * 1,000 runs of an n-node approval chain, each waiting on its first approval; and the issue's
 * baseline over them: the raw read of their stored snapshots, then createActor({ snapshot }).
 */
async function seedApprovalWaits(em: () => EntityManager, userId: string, ports: ReturnType<typeof createFakePorts>['ports'], nodes: number, id: string) {
  const doc = chainDoc(nodes, 'flow.approval', `${id}-${Date.now()}`);
  const flowId = await seedFlow(em(), userId, doc);
  const n = 1000;
  const seeder = createHost({ em, clock: createClock(), ports });
  for (let i = 0; i < n; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, n - i) }, () => seeder.startRun({ userId, flowId, version: 1, triggerNodeId: 'start', trigger: { type: 'manual', payload: {} } })));
  }
  await seeder.flush();
  await seeder.stop();
  const machine = createRunMachine(compile(doc).machine!, ports);
  const baseline = async () => {
    const texts = (await sql<{ s: string }>(em(), `select snapshot::text as s from runs where flow_id = ? and status = 'waiting'`, [flowId])).map((x) => x.s);
    for (const t of texts) createActor(machine, { snapshot: JSON.parse(t) }).start().stop();
    return texts.length;
  };
  return { flowId, n, baseline };
}

const BASELINE_NAME = 'raw select of the snapshots + JSON.parse + createActor({snapshot})';

/** 1,000 runs waiting on an approval, restored by a fresh host vs raw JSON.parse + createActor({ snapshot }). */
export async function rehydration(kind: string, em: () => EntityManager, userId: string, ports: ReturnType<typeof createFakePorts>['ports']): Promise<Figure[]> {
  const { n, baseline } = await seedApprovalWaits(em, userId, ports, 5, 'rehydrate');
  const figures: Figure[] = [];
  // Without leases (one process, reads the active runs), then with a lease as the runtime is
  // deployed: each restore claims the runs (a new epoch each) and its stop releases them. Both wake
  // every run into an actor, as the baseline does. Then the restart as deployed, parking on
  // (services.ts): runs that only wait for a person stay parked, so it only claims them; printed
  // beside the same baseline but without a target, as it creates no actor.
  const variants = [
    { leased: false, parks: false, name: `rehydrate ${n} active runs`, target: 0.5 as number | undefined },
    { leased: true, parks: false, name: `rehydrate ${n} active runs, with a lease`, target: 0.5 as number | undefined },
    { leased: true, parks: true, name: `restart as deployed: ${n} approval waits claimed and left parked (no actor)`, target: undefined },
  ];
  for (const v of variants) {
    let round = 0;
    const r = await compare({
      rounds: 3,
      ours: async () => {
        const lease = v.leased ? { lease: { instanceId: `bench-rehydrate-${round++}`, leaseMs: 30_000 }, adoptAll: true } : {};
        const park = v.parks ? { park: { afterMs: 2000, armed: () => ({ count: 0, nextDue: null }) } } : {};
        const host = createHost({ em, clock: createClock(), ports, ...lease, ...park });
        const { restored, parked } = await host.restoreAll();
        await host.flush();
        await host.stop();
        return restored + parked;
      },
      baseline,
    });
    figures.push({
      group: 'durable', backend: kind, name: v.name, unit: 'runs/s', ours: r.ours, baseline: r.baseline,
      baselineName: BASELINE_NAME, ratio: r.ours / r.baseline, ...(v.target ? { target: v.target } : {}),
    });
  }
  return figures;
}

/**
 * 1,000 parked runs woken at once, as a poll that finds them due does (here: a decision stored for
 * each through another process, found by one poll): from the poll to the last of them back in an
 * actor, beside the same raw read + createActor({ snapshot }) baseline. Each round decides the
 * approval each run waits on, so the next round finds them parked on the next one.
 */
export async function wakeParked(kind: string, em: () => EntityManager, userId: string, ports: ReturnType<typeof createFakePorts>['ports']): Promise<Figure> {
  const { flowId, n, baseline } = await seedApprovalWaits(em, userId, ports, 7, 'wake');
  let round = 0;
  const ours = async () => {
    const clock = createClock();
    // Parking on, as deployed: the restart claims the approval waits and leaves them parked.
    const host = createHost({ em, clock, ports, lease: { instanceId: `bench-wake-${round++}`, leaseMs: 30_000 }, adoptAll: true,
      park: { afterMs: 60_000, pollMs: 60_000, armed: () => ({ count: 0, nextDue: null }) } });
    const { restored, parked } = await host.restoreAll();
    if (restored !== 0 || parked < n) throw new Error(`wake bench: expected ${n} parked runs, got ${restored} live and ${parked} parked`);
    const waiting = await sql<{ id: string; node: string }>(em(),
      `select r.id, (select j.node_id from run_journal j where j.run_id = r.id and j.kind = 'state' order by j.seq desc limit 1) as node from runs r where r.flow_id = ?`, [flowId]);
    const next = (node: string) => `n${node === 'start' || node === null ? 1 : Number(node.slice(1)) + 1}`;
    // The decisions, stored as another process stores them (run_commands), in one statement.
    await sql(em(), `insert into run_commands (run_id, payload, created_at)
      select id, jsonb_build_object('type', 'approval.decide', 'nodeId', node, 'decision', 'approve', 'by', 'bench'), now()
        from jsonb_to_recordset(?::jsonb) as x(id uuid, node text)`, [waiting.map((w) => ({ id: w.id, node: next(w.node) }))]);
    const woken = () => host.parkingStats().woken;
    const t0 = performance.now();
    clock.set(clock.now()); // a poll, now
    while (woken() < n) {
      if (performance.now() - t0 > 60_000) throw new Error(`wake bench: ${woken()} of ${n} woken after a minute`);
      await new Promise((r) => setImmediate(r));
    }
    const seconds = (performance.now() - t0) / 1000;
    // Not measured: the decisions are applied and stored before the next round.
    for (let until = Date.now() + 60_000; ;) {
      const [left] = await sql<{ n: string }>(em(), `select count(*) as n from run_commands c join runs r on r.id = c.run_id where r.flow_id = ? and c.applied_at is null`, [flowId]);
      if (Number(left!.n) === 0) break;
      if (Date.now() > until) throw new Error('wake bench: decisions not applied after a minute');
      await new Promise((r) => setTimeout(r, 20));
    }
    await host.flush();
    await host.stop();
    return { ops: n, seconds };
  };
  const r = await compare({ rounds: 3, ours, baseline });
  return {
    group: 'durable', backend: kind, name: `wake ${n} parked runs (one poll finds a decision for each)`, unit: 'runs/s', ours: r.ours, baseline: r.baseline,
    baselineName: BASELINE_NAME, ratio: r.ours / r.baseline, target: 0.5,
  };
}
