import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { loadConfig } from '../../src/config';
import { MEMORY_DATA_DIR, openDatabase, type Database } from '../../src/db/database';
import { sql } from '../../src/host/db';
import { createServer, type ServerOverrides, type SwitchyardServer } from '../../src/server';
import type { AppRouter } from '../../src/router';

export type Backend = 'pglite' | 'postgres';

export const OWNER_TOKEN = 'test-owner-token-0123456789abcdef';
export const OTHER_TOKEN = 'test-other-token-0123456789abcdef';

/** PGlite always; PostgreSQL too when DATABASE_URL points at a server tests may create databases on. */
export const backends = (): Backend[] => (process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']);

export interface TestStorage {
  /** What to put into the runtime's config/env to use this storage. */
  env: { DATABASE_URL?: string; SWITCHYARD_DATA_DIR: string };
  drop(): Promise<void>;
}

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Empty storage: PGlite in memory (or, with `persistent`, in a fresh temp dir, which takes a few
 * seconds longer to initialise), or a new `sy_test_<random>` database on the DATABASE_URL server
 * (created through its maintenance database, dropped with `drop()`).
 */
export async function createTestStorage(kind: Backend, options: { persistent?: boolean } = {}): Promise<TestStorage> {
  // A migrated template made once by global-setup.ts: copying it skips initdb (10-15 s) per test.
  const template = process.env.SWITCHYARD_PGLITE_TEMPLATE;
  if (kind === 'pglite' && !options.persistent && !template) return { env: { SWITCHYARD_DATA_DIR: MEMORY_DATA_DIR }, drop: async () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'sy-test-'));
  const removeDir = async () => rmSync(dir, { recursive: true, force: true });
  if (kind === 'pglite') {
    if (template) cpSync(template, join(dir, 'data'), { recursive: true });
    return { env: { SWITCHYARD_DATA_DIR: join(dir, 'data') }, drop: removeDir };
  }
  if (!process.env.DATABASE_URL) throw new Error('The postgres backend needs DATABASE_URL');
  const name = `sy_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), SWITCHYARD_DATA_DIR: join(dir, 'data') },
    async drop() {
      await adminQuery(`drop database if exists ${name} with (force)`);
      await removeDir();
    },
  };
}

/** A fresh, migrated database; `close()` also drops it. */
export async function openTestDatabase(kind: Backend): Promise<Database & { storage: TestStorage }> {
  const storage = await createTestStorage(kind);
  const db = await openDatabase({ databaseUrl: storage.env.DATABASE_URL, dataDir: storage.env.SWITCHYARD_DATA_DIR }).catch(async (e: unknown) => {
    await storage.drop();
    throw e;
  });
  return {
    ...db, storage,
    async close() {
      await db.close();
      await storage.drop();
    },
  };
}

/**
 * A fresh database with a user and a deployed, empty workflow of theirs (`docId`), for tests that
 * write runs and effects straight through the host's stores. `close()` drops the database.
 */
export async function openStoreFixture(kind: Backend, docId: string) {
  const db = await openTestDatabase(kind);
  const em = () => db.orm.em.fork() as unknown as EntityManager;
  const userId = randomUUID();
  const flowId = randomUUID();
  await sql(em(), 'insert into users (id, name, token_hash) values (?, ?, ?)', [userId, docId, randomUUID()]);
  await sql(em(), `insert into flows (id, user_id, doc_id, kind, name, description, current_version, status) values (?, ?, ?, 'workflow', ?, '', 1, 'deployed')`, [flowId, userId, docId, docId]);
  await sql(em(), 'insert into flow_versions (flow_id, version, document) values (?, 1, ?)', [flowId, { schemaVersion: 1, id: docId, kind: 'workflow', name: docId, nodes: [], edges: [] }]);
  return { em, userId, flowId, close: () => db.close() };
}

/** Waits until every one of these runs is completed (read from the database); fails after `timeoutMs`. */
export async function runsCompleted(em: () => EntityManager, runIds: string[], timeoutMs = 30_000) {
  for (const end = Date.now() + timeoutMs; ;) {
    const open = await sql(em(), `select 1 from runs where id = any(?::uuid[]) and status <> 'completed'`, [`{${runIds.join(',')}}`]);
    if (!open.length) return;
    if (Date.now() > end) throw new Error(`runs did not complete in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestServer {
  url: string;
  token: string;
  otherToken: string;
  server: SwitchyardServer;
  stop(): Promise<void>;
}

/** The real server in-process on a random port, owner + 'other' users, on fresh storage. */
export async function startTestServer(kind: Backend, env: Record<string, string> = {}, overrides: ServerOverrides = {}): Promise<TestServer> {
  const storage = await createTestStorage(kind);
  try {
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', SWITCHYARD_TOKEN: OWNER_TOKEN, SWITCHYARD_USERS: `other:${OTHER_TOKEN}`,
      ...storage.env, ...env,
    });
    const server = await createServer(config, { logger: false, ...overrides });
    const url = await server.start();
    return {
      url, token: OWNER_TOKEN, otherToken: OTHER_TOKEN, server,
      async stop() {
        await server.stop();
        await storage.drop();
      },
    };
  } catch (e) {
    await storage.drop();
    throw e;
  }
}

/** A typed tRPC client; `token: null` sends no Authorization header. */
export function trpcClient(url: string, token: string | null) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
}

/** Awaits a call expected to fail and returns its TRPCClientError. */
export async function rejection(p: Promise<unknown>): Promise<TRPCClientError<AppRouter>> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TRPCClientError) return e as TRPCClientError<AppRouter>;
    throw e;
  }
  throw new Error('Expected the call to fail');
}
