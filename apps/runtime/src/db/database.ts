import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Config } from '../config';
import { allEntities } from '../entities';
import { migrationsList } from '../migrations';

export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  orm: MikroORM;
  kind: DatabaseKind;
  /** The postgres:// URL MikroORM connects to (for PGlite, the local socket server). */
  url: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Run pending migrations on open (default true). */
  migrate?: boolean;
}

/** The special data dir for a throw-away in-memory PGlite. */
export const MEMORY_DATA_DIR = 'memory://';

/**
 * Opens the database: PostgreSQL when `databaseUrl` is set, otherwise an embedded PGlite served over
 * pglite-socket, so both go through the same `pg` + MikroORM code path. Migrations run on open.
 */
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'pgliteSharedBuffers'>>, options: OpenDatabaseOptions = {}): Promise<Database> {
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl) : await openPglite(config.dataDir, config.pgliteSharedBuffers ?? DEFAULT_PGLITE_SHARED_BUFFERS);
  if (options.migrate ?? true) {
    try {
      await (db.kind === 'postgres' ? withMigrationLock(db.url, () => db.orm.getMigrator().up()) : db.orm.getMigrator().up());
    } catch (e) {
      await db.close();
      throw e;
    }
  }
  return db;
}

/**
 * Several runtime processes may start at once against one PostgreSQL: a session advisory lock,
 * held on its own connection, lets exactly one of them migrate while the others wait.
 */
async function withMigrationLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await fn();
  } finally {
    await client.end();
  }
}

/** Arbitrary constant naming Switchyard's migration lock. */
const MIGRATION_LOCK_KEY = 0x5357_4d47;

function initOrm(clientUrl: string, pool: { min: number; max: number }, ensureDatabase: boolean) {
  return MikroORM.init({
    clientUrl,
    entities: allEntities,
    extensions: [Migrator],
    pool,
    ensureDatabase,
    // Migrations are committed classes; never touch the filesystem for snapshots or globs.
    migrations: { migrationsList, snapshot: false, transactional: true, allOrNothing: true, silent: true },
    debug: false,
  });
}

async function openPostgres(url: string): Promise<Database> {
  const orm = await initOrm(url, { min: 0, max: 10 }, true);
  return { orm, kind: 'postgres', url, close: () => orm.close(true) };
}

/** The embedded PGlite's shared_buffers unless configured (PostgreSQL's own default is 128MB). */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '32MB';

/**
 * Creates a new data directory's cluster in a child process. PGlite runs initdb in a second
 * WebAssembly instance and copies its result into the first: done in this process, that left about
 * 400 MB resident for good (WebAssembly memory never shrinks), so a first start idled at ~890 MB
 * against ~470 MB for every later start on the same directory. The child initialises a sibling
 * directory that is then renamed into place, so a start killed halfway leaves no half-made cluster.
 * A `dir` that already holds other files is left to PGlite, in this process, as before.
 */
async function initDataDir(dir: string): Promise<void> {
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const staging = join(dirname(dir), `.${basename(dir)}.initdb`); // also clears what a killed start left
  await rm(staging, { recursive: true, force: true });
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = 'const { PGlite } = require(process.argv[1]); PGlite.create(process.argv[2]).then((db) => db.close()).catch((e) => { console.error(e); process.exit(1); });';
  try {
    await promisify(execFile)(process.execPath, ['-e', script, entry, staging], { timeout: 120_000 });
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    const err = e as Error & { stderr?: string };
    throw new Error(`could not create the embedded database in ${dir}: ${(err.stderr || err.message).trim().slice(-2000)}`);
  }
  try {
    await rename(staging, dir); // replaces `dir` only when it is missing or empty
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

async function openPglite(dataDir: string, sharedBuffers: string): Promise<Database> {
  const memory = dataDir === MEMORY_DATA_DIR;
  const dir = memory ? undefined : resolve(dataDir);
  if (dir) {
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false) throw new Error(`the embedded database's data directory ${dir} (SWITCHYARD_DATA_DIR) is a file, not a directory`);
    await mkdir(dirname(dir), { recursive: true });
    await initDataDir(dir);
  }
  const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`];
  const pglite = await PGlite.create(dir === undefined ? { startParams } : { dataDir: dir, startParams });
  // maxConnections > 1 only so a pool reconnect racing the old socket's close is not refused;
  // the pool itself holds one connection, because PGlite executes one query at a time.
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 4 });
  let orm: MikroORM | undefined;
  try {
    await server.start();
    const url = `postgres://postgres@${server.getServerConn()}/postgres`;
    orm = await initOrm(url, { min: 0, max: 1 }, false);
    const opened = orm;
    let closing: Promise<void> | undefined;
    return {
      orm: opened, kind: 'pglite', url,
      close: () => (closing ??= (async () => {
        await opened.close(true);
        await server.stop();
        await pglite.close();
      })()),
    };
  } catch (e) {
    await orm?.close(true).catch(() => undefined);
    await server.stop().catch(() => undefined);
    await pglite.close().catch(() => undefined);
    throw e;
  }
}
