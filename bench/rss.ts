import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './harness';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const rssOf = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};

/** Starts a Node process, waits for `ready` on its output, lets it idle, then reads its resident memory. */
async function idleRss(args: string[], env: Record<string, string>, ready: RegExp, idleMs = 5000): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
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
    await new Promise((r) => setTimeout(r, idleMs));
    return rssOf(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * Resident memory of an idle runtime on the embedded default (PGlite), beside a Node process that
 * only opens PGlite on the same kind of data directory: the difference is what the runtime adds.
 */
export async function rssBenchmarks(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-rss-'));
  try {
    const runtime = await idleRss(['--import', 'tsx', 'apps/runtime/src/index.ts'],
      { DATABASE_URL: '', PORT: '0', SWITCHYARD_DATA_DIR: join(dir, 'runtime'), LOG_LEVEL: 'warn' }, /Switchyard is running/);
    const pglite = await idleRss(['--input-type=module', '-e',
      `import { PGlite } from '@electric-sql/pglite'; const db = await PGlite.create(${JSON.stringify(join(dir, 'bare'))}); await db.query('select 1'); console.log('ready'); setInterval(() => {}, 1000);`],
    {}, /ready/);
    return [{ group: 'memory', name: 'RSS of an idle runtime (embedded PGlite)', unit: 'MB', ours: runtime / 2 ** 20, baseline: pglite / 2 ** 20, baselineName: 'Node process that only opens PGlite', ratio: pglite / runtime }];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
