/**
 * Queue engine evaluation (issue 8, "an existing engine, not a home-made one, where one fits").
 *
 * Runs one workload on pg-boss 10, graphile-worker 0.16 and the runtime's own pattern (a table
 * claimed with `FOR UPDATE SKIP LOCKED`, LISTEN/NOTIFY wake-ups, a poll as fallback), on
 * PostgreSQL and on PGlite served through @electric-sql/pglite-socket (as the runtime serves it):
 *
 *   1. enqueue N jobs (default 10,000), one call per job, 50 calls in flight: jobs/s;
 *   2. consume them with 50 jobs in flight, each job writing one result row: jobs/s, duplicates;
 *   3. 1,000 delayed jobs all due at the same moment, workers idle and waiting: pickup latency
 *      (the result row's write time minus the due time, both on the database clock), p50/p99/max;
 *   4. 100 jobs added one at a time (20 ms apart) while the workers are idle: pickup latency from
 *      the add (how fast a wake-up reaches an idle worker: NOTIFY or the next poll);
 *   5. what each adds to the database (schemas, tables, indexes, functions) and to node_modules.
 *
 * The engines are not dependencies of the repository. Install them in a directory outside it, then
 * run the script from the repository root:
 *
 *   mkdir -p /tmp/queue-eval && (cd /tmp/queue-eval && echo '{"private":true}' > package.json &&
 *     npm install --no-save pg-boss@10.4.2 graphile-worker@0.16.6)
 *   npx tsx bench/queue-eval.ts
 *
 * Env: QUEUE_EVAL_MODULES (where the engines are installed, default /tmp/queue-eval), DATABASE_URL (default postgres://root@127.0.0.1:5432/test; a database per engine is
 * created and dropped beside it), QUEUE_EVAL_JOBS (10000), QUEUE_EVAL_DELAYED (1000),
 * QUEUE_EVAL_ENGINES (ours,pg-boss,graphile-worker), QUEUE_EVAL_BACKENDS (postgres,pglite),
 * QUEUE_EVAL_OUT (a JSON file for the figures), QUEUE_EVAL_OURS_NOTIFY=0 (ours enqueues without NOTIFY),
 * QUEUE_EVAL_IN_FLIGHT (50), QUEUE_EVAL_TIMEOUT_MS (per phase, 240000). Not part of `npm run bench`: it needs the engines.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

const ADMIN_URL = process.env.DATABASE_URL || 'postgres://root@127.0.0.1:5432/test';
const JOBS = Number(process.env.QUEUE_EVAL_JOBS || 10_000);
const DELAYED = Number(process.env.QUEUE_EVAL_DELAYED || 1_000);
const IN_FLIGHT = Number(process.env.QUEUE_EVAL_IN_FLIGHT || 50);
const POLL_MS = 500; // pg-boss's minimum; graphile-worker is given the same
const ENGINES = (process.env.QUEUE_EVAL_ENGINES || 'ours,pg-boss,graphile-worker').split(',').map((s) => s.trim());
const BACKENDS = (process.env.QUEUE_EVAL_BACKENDS || 'postgres,pglite').split(',').map((s) => s.trim()) as Backend[];
const PHASE_TIMEOUT_MS = Number(process.env.QUEUE_EVAL_TIMEOUT_MS || 240_000);
const DELAYED_BASE = 1_000_000; // job numbers of the delayed phase
const IDLE_BASE = 2_000_000; // job numbers of the idle wake-up phase
const IDLE_JOBS = 100;

type Backend = 'postgres' | 'pglite';

/** The engines are loaded from QUEUE_EVAL_MODULES (they are not the repository's dependencies). */
const MODULES = process.env.QUEUE_EVAL_MODULES || '/tmp/queue-eval';
const fromCwd = createRequire(join(MODULES, 'noop.js'));

interface Engine {
  /** Creates the engine's schema (migrations). */
  setup(): Promise<void>;
  /** The schemas the engine owns, for counting what it adds. */
  schemas: string[];
  /** Adds one job: due now, or at `dueAt`. */
  enqueue(i: number, dueAt: Date | null): Promise<void>;
  /** Starts consuming; each job ends by writing its result row through `record`. */
  start(): Promise<void>;
  stop(): Promise<void>;
  notes(): string[];
}

interface Row { job_id: number; due_at: Date; picked_at: Date }

/** `insert into qe_results` for jobs picked up now (the database clock). */
const RECORD_SQL = `insert into qe_results (job_id, due_at, picked_at)
  select (x->>'i')::int, (x->>'due')::timestamptz, clock_timestamp() from jsonb_array_elements($1::jsonb) x`;

interface JobData { i: number; due: string }

// ---------------------------------------------------------------------------------------------
// The runtime's pattern: one statement claims due rows (SKIP LOCKED), deletes them and writes the
// effect, so consuming a job and storing what it caused commit together; NOTIFY wakes consumers,
// a timer for the earliest due row and a 250 ms poll (the runtime's wake-up period) are fallbacks.

/** QUEUE_EVAL_OURS_NOTIFY=0: enqueue without NOTIFY (a commit that notifies serializes on a global lock). */
const OURS_NOTIFY = process.env.QUEUE_EVAL_OURS_NOTIFY !== '0';

function oursEngine(url: string): Engine {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  let listener: pg.Client | null = null;
  let running = false;
  let wake: (() => void) | null = null;
  let notified = 0;
  let loop: Promise<void> | null = null;
  const CLAIM = `with c as (
      select id from qe_ours.jobs where due_at <= now() order by due_at, id limit $1 for update skip locked),
    d as (delete from qe_ours.jobs j using c where j.id = c.id returning j.payload, j.due_at)
    insert into qe_results (job_id, due_at, picked_at) select (payload->>'i')::int, due_at, clock_timestamp() from d returning job_id`;
  return {
    schemas: ['qe_ours'],
    async setup() {
      await pool.query(`create schema qe_ours;
        create table qe_ours.jobs (id bigserial primary key, due_at timestamptz not null default now(), payload jsonb not null);
        create index jobs_due on qe_ours.jobs (due_at, id);`);
    },
    async enqueue(i, dueAt) {
      const due = (dueAt ?? new Date()).toISOString();
      await pool.query(OURS_NOTIFY
        ? `with j as (insert into qe_ours.jobs (due_at, payload) values ($1, $2) returning due_at)
           select pg_notify('qe_ours', '') from j where j.due_at <= now()`
        : 'insert into qe_ours.jobs (due_at, payload) values ($1, $2)', [due, JSON.stringify({ i, due })]);
    },
    async start() {
      listener = new pg.Client({ connectionString: url });
      await listener.connect();
      listener.on('notification', () => {
        notified++;
        wake?.();
      });
      await listener.query('listen qe_ours');
      running = true;
      loop = (async () => {
        while (running) {
          const claimed = (await pool.query(CLAIM, [IN_FLIGHT])).rowCount ?? 0;
          if (claimed === IN_FLIGHT) continue;
          const next = (await pool.query<{ ms: number | null }>(`select extract(epoch from min(due_at) - now()) * 1000 as ms from qe_ours.jobs`)).rows[0]?.ms;
          const waitMs = Math.max(0, Math.min(250, next === null || next === undefined ? 250 : Number(next)));
          if (waitMs === 0 && next !== null && next !== undefined) continue;
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, waitMs);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          wake = null;
        }
      })();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await listener?.end();
      await pool.end();
    },
    notes: () => [`batch of ${IN_FLIGHT} per claim statement, ${OURS_NOTIFY ? '' : 'enqueue without NOTIFY, '}NOTIFY wake-ups received: ${notified}`],
  };
}

// ---------------------------------------------------------------------------------------------
// pg-boss 10: polling workers; a handler gets a batch and its jobs are completed afterwards.

interface PgBossJob { id: string; data: JobData }
interface PgBossLike {
  on(event: 'error', fn: (e: unknown) => void): void;
  start(): Promise<unknown>;
  stop(o: { graceful?: boolean; wait?: boolean; timeout?: number }): Promise<void>;
  createQueue(name: string): Promise<void>;
  send(name: string, data: JobData, options: { startAfter?: Date }): Promise<string | null>;
  work(name: string, options: { batchSize: number; pollingIntervalSeconds: number }, handler: (jobs: PgBossJob[]) => Promise<void>): Promise<string>;
}

function pgBossEngine(url: string): Engine {
  const PgBoss = fromCwd('pg-boss') as new (o: Record<string, unknown>) => PgBossLike;
  const boss = new PgBoss({ connectionString: url, max: 10, schema: 'pgboss', schedule: false });
  const results = new pg.Pool({ connectionString: url, max: 10 });
  const errors: string[] = [];
  boss.on('error', (e) => {
    if (errors.length < 5) errors.push(e instanceof Error ? e.message : String(e));
  });
  return {
    schemas: ['pgboss'],
    async setup() {
      await boss.start();
      await boss.createQueue('qe');
    },
    async enqueue(i, dueAt) {
      const due = (dueAt ?? new Date()).toISOString();
      await boss.send('qe', { i, due }, dueAt ? { startAfter: dueAt } : {});
    },
    async start() {
      await boss.work('qe', { batchSize: IN_FLIGHT, pollingIntervalSeconds: POLL_MS / 1000 }, async (jobs) => {
        await results.query(RECORD_SQL, [JSON.stringify(jobs.map((j) => j.data))]);
      });
    },
    async stop() {
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      await results.end();
    },
    notes: () => [`one worker, batchSize ${IN_FLIGHT}, pollingIntervalSeconds ${POLL_MS / 1000}`, ...errors.map((e) => `error: ${e}`)],
  };
}

// ---------------------------------------------------------------------------------------------
// graphile-worker 0.16: LISTEN/NOTIFY for new jobs, polling for future ones, concurrency per process.

interface GraphileRunner { stop(): Promise<void> }
interface GraphileUtils { addJob(task: string, payload: JobData, spec?: { runAt?: Date }): Promise<unknown>; release(): Promise<void> }
interface GraphileWorker {
  Logger: new (factory: () => () => void) => unknown;
  runMigrations(o: Record<string, unknown>): Promise<void>;
  makeWorkerUtils(o: Record<string, unknown>): Promise<GraphileUtils>;
  run(o: Record<string, unknown>): Promise<GraphileRunner>;
}

function graphileEngine(url: string): Engine {
  const gw = fromCwd('graphile-worker') as GraphileWorker;
  const logger = new gw.Logger(() => () => undefined);
  const results = new pg.Pool({ connectionString: url, max: 10 });
  let utils: GraphileUtils | null = null;
  let runner: GraphileRunner | null = null;
  return {
    schemas: ['graphile_worker'],
    async setup() {
      await gw.runMigrations({ connectionString: url, logger });
      utils = await gw.makeWorkerUtils({ connectionString: url, logger });
    },
    async enqueue(i, dueAt) {
      const due = (dueAt ?? new Date()).toISOString();
      await utils!.addJob('qe', { i, due }, dueAt ? { runAt: dueAt } : {});
    },
    async start() {
      runner = await gw.run({
        connectionString: url, concurrency: IN_FLIGHT, maxPoolSize: IN_FLIGHT + 1, pollInterval: POLL_MS, noHandleSignals: true, logger,
        taskList: { qe: async (payload: unknown) => { await results.query(RECORD_SQL, [JSON.stringify([payload])]); } },
      });
    },
    async stop() {
      await runner?.stop();
      await utils?.release();
      await results.end();
    },
    notes: () => [`concurrency ${IN_FLIGHT}, maxPoolSize ${IN_FLIGHT + 1}, pollInterval ${POLL_MS} ms`],
  };
}

const makers: Record<string, (url: string) => Engine> = { ours: oursEngine, 'pg-boss': pgBossEngine, 'graphile-worker': graphileEngine };

// ---------------------------------------------------------------------------------------------
// Databases: a fresh PostgreSQL database, or a fresh PGlite behind its socket server.

async function openBackend(backend: Backend, tag: string): Promise<{ url: string; close(): Promise<void> }> {
  if (backend === 'postgres') {
    const name = `queue_eval_${tag.replace(/[^a-z0-9]/g, '_')}_${process.pid}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(ADMIN_URL);
    u.pathname = `/${name}`;
    return {
      url: u.toString(),
      async close() {
        const a = new pg.Client({ connectionString: ADMIN_URL });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`);
        await a.end();
      },
    };
  }
  const db = await PGlite.create();
  // The runtime allows 4 socket connections; the engines open pools (graphile-worker: concurrency + 1).
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------

const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn(i)` for i in [from, to) with `limit` calls in flight. */
async function inFlight(from: number, to: number, limit: number, fn: (i: number) => Promise<void>) {
  let next = from;
  await Promise.all(Array.from({ length: Math.min(limit, to - from) }, async () => {
    while (next < to) await fn(next++);
  }));
}

async function waitForCount(q: pg.Pool, where: string, n: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const c = Number((await q.query<{ n: string }>(`select count(*) as n from qe_results where ${where}`)).rows[0]!.n);
    if (c >= n) return true;
    if (Date.now() > until) return false;
    await sleep(100);
  }
}

async function schemaObjects(q: pg.Pool, schemas: string[]) {
  const rel = (await q.query<{ kind: string; n: string }>(
    `select c.relkind::text as kind, count(*) as n from pg_class c join pg_namespace ns on ns.oid = c.relnamespace where ns.nspname = any($1) group by 1`, [schemas])).rows;
  const byKind = Object.fromEntries(rel.map((r) => [r.kind, Number(r.n)]));
  const fns = Number((await q.query<{ n: string }>(`select count(*) as n from pg_proc p join pg_namespace ns on ns.oid = p.pronamespace where ns.nspname = any($1)`, [schemas])).rows[0]!.n);
  const types = Number((await q.query<{ n: string }>(`select count(*) as n from pg_type t join pg_namespace ns on ns.oid = t.typnamespace where ns.nspname = any($1) and t.typtype in ('e', 'c', 'd') and t.typrelid = 0`, [schemas])).rows[0]!.n);
  return { schemas: schemas.length, tables: (byKind.r ?? 0) + (byKind.p ?? 0), indexes: (byKind.i ?? 0) + (byKind.I ?? 0), functions: fns, types };
}

interface Result {
  engine: string; backend: Backend; works: boolean; error?: string;
  setupMs?: number; objects?: Awaited<ReturnType<typeof schemaObjects>>;
  enqueuePerSec?: number; consumePerSec?: number; consumed?: number; duplicates?: number;
  delayed?: { enqueuedBeforeDue: boolean; picked: number; p50Ms: number; p99Ms: number; maxMs: number; earliestMs: number };
  idle?: { picked: number; p50Ms: number; p99Ms: number; maxMs: number };
  notes?: string[];
}

async function evaluate(engineName: string, backend: Backend): Promise<Result> {
  const result: Result = { engine: engineName, backend, works: false };
  const db = await openBackend(backend, engineName);
  const q = new pg.Pool({ connectionString: db.url, max: 2 });
  let engine: Engine | null = null;
  try {
    await q.query('create table qe_results (job_id int not null, due_at timestamptz not null, picked_at timestamptz not null)');
    engine = makers[engineName]!(db.url);
    let t0 = performance.now();
    await engine.setup();
    result.setupMs = Math.round(performance.now() - t0);
    result.objects = await schemaObjects(q, engine.schemas);

    t0 = performance.now();
    await inFlight(0, JOBS, IN_FLIGHT, (i) => engine!.enqueue(i, null));
    const enqueueSec = (performance.now() - t0) / 1000;
    result.enqueuePerSec = Math.round(JOBS / enqueueSec);

    t0 = performance.now();
    await engine.start();
    const all = await waitForCount(q, `job_id < ${DELAYED_BASE}`, JOBS, PHASE_TIMEOUT_MS);
    const consumeSec = (performance.now() - t0) / 1000;
    const counts = (await q.query<{ n: string; d: string }>(`select count(*) as n, count(distinct job_id) as d from qe_results where job_id < ${DELAYED_BASE}`)).rows[0]!;
    result.consumed = Number(counts.d);
    result.duplicates = Number(counts.n) - Number(counts.d);
    result.consumePerSec = Math.round(Number(counts.d) / consumeSec);
    if (!all) throw new Error(`consumed ${counts.d} of ${JOBS} in ${PHASE_TIMEOUT_MS / 1000} s`);

    // Delayed: due far enough ahead for all of them to be stored first (at the measured enqueue rate).
    const leadMs = Math.max(3_000, Math.ceil((DELAYED / result.enqueuePerSec) * 1000 * 2) + 1_000);
    const due = new Date(Date.now() + leadMs);
    await inFlight(DELAYED_BASE, DELAYED_BASE + DELAYED, IN_FLIGHT, (i) => engine!.enqueue(i, due));
    const enqueuedBeforeDue = Date.now() < due.getTime();
    const done = await waitForCount(q, `job_id >= ${DELAYED_BASE}`, DELAYED, leadMs + PHASE_TIMEOUT_MS);
    const rows = (await q.query<Row>(`select job_id, due_at, picked_at from qe_results where job_id >= ${DELAYED_BASE}`)).rows;
    const lat = rows.map((r) => new Date(r.picked_at).getTime() - new Date(r.due_at).getTime());
    result.delayed = {
      enqueuedBeforeDue, picked: new Set(rows.map((r) => r.job_id)).size,
      p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), maxMs: Math.max(...lat), earliestMs: Math.min(...lat),
    };
    if (!done) throw new Error(`delayed: picked ${result.delayed.picked} of ${DELAYED}`);

    // Idle workers: each job added alone; how long until a worker picks it up.
    for (let i = IDLE_BASE; i < IDLE_BASE + IDLE_JOBS; i++) {
      await engine.enqueue(i, null);
      await sleep(20);
    }
    const idleDone = await waitForCount(q, `job_id >= ${IDLE_BASE}`, IDLE_JOBS, PHASE_TIMEOUT_MS);
    const idleRows = (await q.query<Row>(`select job_id, due_at, picked_at from qe_results where job_id >= ${IDLE_BASE}`)).rows;
    const idleLat = idleRows.map((r) => new Date(r.picked_at).getTime() - new Date(r.due_at).getTime());
    result.idle = { picked: new Set(idleRows.map((r) => r.job_id)).size, p50Ms: pct(idleLat, 50), p99Ms: pct(idleLat, 99), maxMs: Math.max(...idleLat) };
    if (!idleDone) throw new Error(`idle: picked ${result.idle.picked} of ${IDLE_JOBS}`);
    result.works = true;
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  } finally {
    result.notes = engine?.notes() ?? [];
    if (engine) {
      await Promise.race([engine.stop().catch((e: unknown) => result.notes!.push(`stop: ${(e as Error).message}`)), sleep(20_000)]);
    }
    await q.end().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Install size: the package and everything it pulls in, and what of it is new to the repository.

function installSize(name: string) {
  const repoModules = join(dirname(new URL(import.meta.url).pathname), '..', 'node_modules');
  const seen = new Map<string, number>();
  const dirSize = (dir: string): number => {
    let total = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      total += e.isDirectory() ? dirSize(p) : statSync(p).size;
    }
    return total;
  };
  const find = (pkg: string, from: string): string | null => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', pkg);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dirname(dir) === dir) return null;
    }
  };
  const walk = (dir: string) => {
    if (seen.has(dir)) return;
    seen.set(dir, dirSize(dir));
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(pj.dependencies ?? {})) {
      const found = find(dep, dir);
      if (found) walk(found);
    }
  };
  const root = find(name, MODULES);
  if (!root) return null;
  walk(root);
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  let bytes = 0;
  let newBytes = 0;
  let newPackages = 0;
  for (const [dir, size] of seen) {
    bytes += size;
    const rel = dir.slice(dir.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!existsSync(join(repoModules, rel, 'package.json'))) {
      newBytes += size;
      newPackages++;
    }
  }
  return { version, packages: seen.size, mb: +(bytes / 1e6).toFixed(1), newPackages, newMb: +(newBytes / 1e6).toFixed(1) };
}

async function main() {
  const sizes = Object.fromEntries(['pg-boss', 'graphile-worker'].map((n) => [n, installSize(n)]));
  console.log(`queue-eval: ${JOBS} jobs, ${DELAYED} delayed, ${IN_FLIGHT} in flight, poll ${POLL_MS} ms; node ${process.version}`);
  console.log('install size', JSON.stringify(sizes));
  const results: Result[] = [];
  for (const backend of BACKENDS) {
    for (const engine of ENGINES) {
      if (engine !== 'ours' && !sizes[engine]) {
        results.push({ engine, backend, works: false, error: `${engine} is not installed in ${MODULES}` });
        continue;
      }
      console.log(`\n== ${engine} on ${backend}`);
      const r = await evaluate(engine, backend);
      console.log(JSON.stringify(r));
      results.push(r);
    }
  }
  const f = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : String(Math.round(n)));
  console.log('\n| engine | backend | works | enqueue jobs/s | consume jobs/s | duplicates | delayed p50 / p99 / max ms | idle pickup p50 / p99 ms | tables (indexes, functions) | notes |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const o = r.objects;
    console.log(`| ${r.engine} | ${r.backend} | ${r.works ? 'yes' : `no: ${r.error}`} | ${f(r.enqueuePerSec)} | ${f(r.consumePerSec)} | ${f(r.duplicates)} | ${r.delayed ? `${f(r.delayed.p50Ms)} / ${f(r.delayed.p99Ms)} / ${f(r.delayed.maxMs)}` : '–'} | ${r.idle ? `${f(r.idle.p50Ms)} / ${f(r.idle.p99Ms)}` : '–'} | ${o ? `${o.tables} (${o.indexes}, ${o.functions})` : '–'} | ${(r.notes ?? []).join('; ')} |`);
  }
  if (process.env.QUEUE_EVAL_OUT) writeFileSync(process.env.QUEUE_EVAL_OUT, JSON.stringify({ at: new Date().toISOString(), jobs: JOBS, delayed: DELAYED, inFlight: IN_FLIGHT, pollMs: POLL_MS, sizes, results }, null, 2));
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
