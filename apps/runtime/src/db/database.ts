import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
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
export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, options: OpenDatabaseOptions = {}): Promise<Database> {
  const db = config.databaseUrl ? await openPostgres(config.databaseUrl) : await openPglite(config.dataDir);
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

async function openPglite(dataDir: string): Promise<Database> {
  const memory = dataDir === MEMORY_DATA_DIR;
  const dir = memory ? undefined : resolve(dataDir);
  if (dir) await mkdir(dir, { recursive: true });
  const pglite = await PGlite.create(dir === undefined ? {} : { dataDir: dir });
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
