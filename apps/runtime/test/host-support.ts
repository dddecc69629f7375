import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestStorage } from './support/test-db';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll } from 'vitest';
import type { AppRouter } from '../src/router';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TOKEN = 'test-token-owner-0123456789';
export const OTHER_TOKEN = 'test-token-other-0123456789';
/** Wednesday 2026-01-07 10:00 in New York: inside business hours. */
export const BUSINESS_HOURS = Date.UTC(2026, 0, 7, 15, 0);
/** The same day at 22:00 in New York. */
export const AFTER_HOURS = Date.UTC(2026, 0, 8, 3, 0);

export type Backend = 'pglite' | 'postgres';
export const backendsUnderTest = (): Backend[] => (process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);

/** A database a runtime process can be (re)started on: a PGlite dir or a fresh PostgreSQL database. */
export async function freshStorage(kind: Backend): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const storage = await createTestStorage(kind, { persistent: true });
  return { env: { ...storage.env }, drop: () => storage.drop() };
}

export interface RuntimeProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the real runtime (`src/index.ts`) as a child process and waits for its URL line. */
export async function spawnRuntime(env: Record<string, string>): Promise<RuntimeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/runtime/src/index.ts'], {
    cwd: ROOT,
    env: {
      ...process.env, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1', SWITCHYARD_TOKEN: TOKEN,
      SWITCHYARD_USERS: `other:${OTHER_TOKEN}`, SWITCHYARD_TEST_HOOKS: '1', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runtime did not start:\n${out}`)), 90_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /Switchyard is running: (http:\/\/[^/\s?]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`runtime exited (${code}) before starting:\n${out}`));
    });
  });
  return {
    url, child, exited, output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function client(url: string, token = TOKEN) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
}
export type Client = ReturnType<typeof client>;

export async function setClock(url: string, now: number) {
  const res = await fetch(`${url}/__test/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ now }) });
  if (!res.ok) throw new Error(`clock hook failed: ${res.status}`);
}

/** Polls `runs.get` until `done` holds (the runtime clock is the test's, this only waits for I/O). */
export async function waitForRun(api: Client, runId: string, done: (r: Awaited<ReturnType<Client['runs']['get']['query']>>) => boolean, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api.runs.get.query({ runId });
    if (done(r)) return r;
    if (Date.now() > until) throw new Error(`run ${runId} did not reach the expected state; last: ${JSON.stringify({ status: r.status, nodes: r.nodes })}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

export const switchyardCode = (e: unknown) => (e instanceof TRPCClientError ? (e.data as { switchyard?: { code?: string } } | undefined)?.switchyard?.code : undefined);

export const loadTemplate = async (id: string) => (await import(`../../../templates/${id}.json`, { with: { type: 'json' } })).default as { documents: unknown[] };

/**
 * A runtime for one describe block: fresh storage, clock at BUSINESS_HOURS, stopped and dropped
 * afterwards. Read `rt` and `api` inside tests (they are set in beforeAll).
 */
export function useRuntime(backend: Backend, env: Record<string, string> = {}) {
  const ctx = {} as { rt: RuntimeProcess; api: Client };
  let storage: Awaited<ReturnType<typeof freshStorage>> | undefined;
  beforeAll(async () => {
    storage = await freshStorage(backend);
    ctx.rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), ...env });
    ctx.api = client(ctx.rt.url);
  });
  afterAll(async () => {
    await ctx.rt?.kill('SIGTERM');
    await storage?.drop();
  });
  return ctx;
}
