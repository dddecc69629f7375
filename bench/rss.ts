import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Figure } from './harness';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const rssOf = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};

/** Starts a Node process, waits for `ready` on its output, lets it idle, then reads its resident memory. */
async function idleRss(args: string[], env: Record<string, string>, ready: RegExp, idleMs = 5000, during?: (out: () => string) => Promise<void>): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 120_000);
      const on = (b: Buffer) => {
        out += b.toString();
        if (ready.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', on);
      child.stderr.on('data', on);
      child.on('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
    });
    await during?.(() => out);
    await new Promise((r) => setTimeout(r, idleMs));
    return rssOf(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * Resident memory of an idle runtime on the embedded default (PGlite): its first start on a new data
 * directory, then a restart on the same directory. Baseline for each: a Node process that opens
 * PGlite with PGlite's own defaults on the same kind of directory (new, then existing), so the
 * difference is what the runtime adds or saves (initdb in a child process, a 32MB buffer pool).
 */
export async function rssBenchmarks(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-rss-'));
  try {
    const runtime = () => idleRss(['--import', 'tsx', 'apps/runtime/src/index.ts'],
      { DATABASE_URL: '', PORT: '0', SWITCHYARD_DATA_DIR: join(dir, 'runtime'), LOG_LEVEL: 'warn' }, /Switchyard is running/);
    const pglite = () => idleRss(['--input-type=module', '-e',
      `import { PGlite } from '@electric-sql/pglite'; const db = await PGlite.create(${JSON.stringify(join(dir, 'bare'))}); await db.query('select 1'); console.log('ready'); setInterval(() => {}, 1000);`],
    {}, /ready/);
    const [firstStart, firstBare] = [await runtime(), await pglite()];
    const [restart, reopenBare] = [await runtime(), await pglite()];
    const figure = (name: string, ours: number, baseline: number, baselineName: string): Figure =>
      ({ group: 'memory', name, unit: 'MB', ours: ours / 2 ** 20, baseline: baseline / 2 ** 20, baselineName, ratio: baseline / ours });
    return [
      figure('RSS of an idle runtime (embedded PGlite), first start on a new data dir', firstStart, firstBare, 'Node process that creates a PGlite data dir (PGlite defaults)'),
      figure('RSS of an idle runtime (embedded PGlite), restart on its data dir', restart, reopenBare, 'Node process that reopens a PGlite data dir (PGlite defaults)'),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TOKEN = 'bench-token-0123456789abcdef';
const PARKED = 100_000;

/**
 * Resident memory of a runtime (PostgreSQL) that owns 100,000 runs parked on a delay, beside the
 * same runtime on the same database with no runs. One real run is started through the API to get
 * a real waiting snapshot and a pinned machine; the others are copies inserted with SQL (runs with
 * their timer rows, due in a year), released so the measured process claims them all on start.
 */
export async function parkedRssBenchmarks(): Promise<Figure[]> {
  const base = process.env.DATABASE_URL;
  if (!base) return [];
  const name = `sy_bench_parked_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const env = { DATABASE_URL: url.toString(), PORT: '0', SWITCHYARD_TOKEN: TOKEN, SWITCHYARD_INSTANCE_ID: 'bench-parked', LOG_LEVEL: 'warn' };
  const args = ['--import', 'tsx', 'apps/runtime/src/index.ts'];
  const db = new pg.Client({ connectionString: url.toString() });
  try {
    // An empty runtime first (it also migrates the database and makes one waiting run to copy).
    const empty = await idleRss(args, env, /Switchyard is running/, 5000, async (out) => {
      const at = /Switchyard is running: (http:\/\/[^/\s?]+)/.exec(out())![1]!;
      const call = async (path: string, input: unknown) => {
        const res = await fetch(`${at}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(input) });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        return ((await res.json()) as { result: { data: unknown } }).result.data;
      };
      const doc = {
        schemaVersion: 1, id: 'parked', kind: 'workflow', name: 'Parked on a delay',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
          { id: 'wait', type: 'flow.delay', position: { x: 200, y: 0 }, params: { duration: '365 days' } },
          { id: 'task', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Later' } },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }],
      };
      await call('flows.save', { document: doc });
      await call('flows.deploy', { docId: 'parked' });
      await call('runs.start', { docId: 'parked' });
      await new Promise((r) => setTimeout(r, 1500));
    });
    await db.connect();
    const template = (await db.query(`select id from runs where status = 'waiting' limit 1`)).rows[0] as { id: string } | undefined;
    if (!template) throw new Error('the template run is not waiting');
    await db.query(`create temporary table ids as select gen_random_uuid() as id from generate_series(1, ${PARKED})`);
    await db.query(`insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot, snapshot_version, started_at, updated_at, owner, lease_epoch)
      select ids.id, r.user_id, r.flow_id, r.flow_version, 'waiting', r.trigger_node_id, r.trigger, r.snapshot, r.snapshot_version, now(), now(), null, 1
        from ids, runs r where r.id = $1`, [template.id]);
    await db.query(`insert into timers (run_id, key, due_at) select ids.id, t.key, t.due_at from ids, timers t where t.run_id = $1`, [template.id]);
    const parked = await idleRss(args, env, /Switchyard is running/, 5000);
    return [{
      group: 'memory', backend: 'postgres', name: `RSS with ${PARKED.toLocaleString('en')} parked runs in one process`, unit: 'MB',
      ours: parked / 2 ** 20, baseline: empty / 2 ** 20, baselineName: 'the same runtime with no runs', ratio: empty / parked,
    }];
  } finally {
    await db.end().catch(() => undefined);
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  }
}
