import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactEntity, allEntities } from '../src/entities';
import { MEMORY_DATA_DIR, openDatabase, type Database } from '../src/db/database';
import { migrationsList } from '../src/migrations';
import { backends, createTestStorage, openTestDatabase } from './support/test-db';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HOLD = fileURLToPath(new URL('./support/hold-db.ts', import.meta.url));

const TABLES = [
  'users', 'flows', 'flow_versions', 'flow_triggers', 'runs', 'run_journal', 'effects', 'timers', 'inbox', 'schedule_fires',
  'memory_entries', 'contacts', 'email_threads', 'emails', 'tasks', 'follow_ups', 'notifications', 'drafts',
  'agents', 'agent_memory', 'agent_interactions', 'conversations', 'messages', 'llm_calls', 'agent_approvals', 'calendar_events', 'agent_requests', 'run_commands',
];

const rejects = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return String((e as Error).message);
  }
  throw new Error('expected the statement to fail');
};

describe.each(backends())('database (%s)', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('applies the migrations and creates every table', async () => {
    const em = db.orm.em.fork();
    const tables = (await em.execute(`select table_name from information_schema.tables where table_schema = 'public'`)) as { table_name: string }[];
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(TABLES));
    expect(await db.orm.getMigrator().getPendingMigrations()).toEqual([]);
    expect((await db.orm.getMigrator().getExecutedMigrations()).map((m) => m.name)).toEqual(migrationsList.map((m) => m.name));
  });

  it('has a column for every entity property (entities and migration agree)', async () => {
    const em = db.orm.em.fork();
    const cols = (await em.execute(`select table_name, column_name from information_schema.columns where table_schema = 'public'`)) as { table_name: string; column_name: string }[];
    const have = new Set(cols.map((c) => `${c.table_name}.${c.column_name}`));
    const missing: string[] = [];
    for (const entity of allEntities) {
      const meta = db.orm.getMetadata().get(entity.meta.className);
      for (const prop of Object.values(meta.properties)) for (const f of prop.fieldNames) if (!have.has(`${meta.tableName}.${f}`)) missing.push(`${meta.tableName}.${f}`);
    }
    expect(missing).toEqual([]);
  });

  it('enforces CHECK, UNIQUE and FK constraints', async () => {
    const em = db.orm.em.fork();
    const user = crypto.randomUUID();
    await em.execute(`insert into users (id, name, token_hash) values (?, ?, ?)`, [user, `u-${user}`, `h-${user}`]);
    expect(await rejects(em.execute(`insert into contacts (id, user_id, name, email, relationship_strength) values (?, ?, 'A', 'a@x.io', 1.5)`, [crypto.randomUUID(), user]))).toMatch(/check/i);
    await em.execute(`insert into contacts (id, user_id, name, email) values (?, ?, 'A', 'a@x.io')`, [crypto.randomUUID(), user]);
    expect(await rejects(em.execute(`insert into contacts (id, user_id, name, email) values (?, ?, 'B', 'a@x.io')`, [crypto.randomUUID(), user]))).toMatch(/unique|duplicate/i);
    expect(await rejects(em.execute(`insert into flows (id, user_id, doc_id, kind, name) values (?, ?, 'd', 'workflow', 'n')`, [crypto.randomUUID(), crypto.randomUUID()]))).toMatch(/foreign key/i);
    const flow = crypto.randomUUID();
    await em.execute(`insert into flows (id, user_id, doc_id, kind, name) values (?, ?, 'd', 'workflow', 'n')`, [flow, user]);
    expect(await rejects(em.execute(`insert into runs (id, user_id, flow_id, flow_version, status) values (?, ?, ?, 1, 'bogus')`, [crypto.randomUUID(), user, flow]))).toMatch(/check/i);
  });

  it('round-trips an entity: uuid, real, jsonb and timestamptz', async () => {
    const em = db.orm.em.fork();
    const userId = crypto.randomUUID();
    await em.execute(`insert into users (id, name, token_hash) values (?, ?, ?)`, [userId, `rt-${userId}`, `rt-${userId}`]);
    const at = new Date('2026-01-07T15:00:00.000Z');
    const id = crypto.randomUUID();
    em.create(ContactEntity, {
      id, userId, name: 'Round Trip', email: 'rt@x.io', company: '', title: '', phone: '', relationshipStrength: 0.25,
      lastInteractionAt: at, tags: ['a', 'b'], notes: '', createdAt: at, updatedAt: at,
    });
    await em.flush();
    const back = await db.orm.em.fork().findOneOrFail(ContactEntity, { id });
    expect(back).toMatchObject({ relationshipStrength: 0.25, tags: ['a', 'b'], userId });
    expect(back.lastInteractionAt?.toISOString()).toBe(at.toISOString());
  });
});

describe('embedded PGlite', () => {
  it('opens an in-memory database with memory://', async () => {
    const db = await openDatabase({ databaseUrl: undefined, dataDir: MEMORY_DATA_DIR });
    try {
      expect(db.kind).toBe('pglite');
      expect(db.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      expect(await db.orm.em.fork().execute('select count(*)::int as n from users')).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });

  it('says so when the data directory is a file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-notadir-'));
    const file = join(root, 'data');
    writeFileSync(file, 'a file where the data directory should be');
    try {
      await expect(openDatabase({ databaseUrl: undefined, dataDir: file })).rejects.toThrow(`${file} (SWITCHYARD_DATA_DIR) is a file, not a directory`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('creates a new data dir in a child process and opens it with the configured buffer pool', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sy-initdb-'));
    const dir = join(root, 'nested', 'data');
    // What a start killed during its child's initdb leaves behind: cleared, never used.
    mkdirSync(join(root, 'nested', '.data.initdb'), { recursive: true });
    writeFileSync(join(root, 'nested', '.data.initdb', 'PG_VERSION'), 'half-made');
    try {
      const db = await openDatabase({ databaseUrl: undefined, dataDir: dir, pgliteSharedBuffers: '16MB' });
      try {
        expect(await db.orm.em.fork().execute('show shared_buffers')).toEqual([{ shared_buffers: '16MB' }]);
        await db.orm.em.fork().execute(`insert into users (id, name, token_hash) values (gen_random_uuid(), 'kept', 'h')`);
      } finally {
        await db.close();
      }
      expect(readdirSync(join(root, 'nested'))).toEqual(['data']);
      expect(readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim()).toMatch(/^\d+$/);
      const again = await openDatabase({ databaseUrl: undefined, dataDir: dir });
      try {
        expect(await again.orm.em.fork().execute('show shared_buffers')).toEqual([{ shared_buffers: '32MB' }]);
        expect(await again.orm.em.fork().execute('select name from users')).toEqual([{ name: 'kept' }]);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('creates the cluster in place, as before, in a directory that already holds other files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-initdb-full-'));
    writeFileSync(join(dir, 'README.txt'), 'the operator\'s file');
    try {
      const db = await openDatabase({ databaseUrl: undefined, dataDir: dir });
      try {
        expect(await db.orm.em.fork().execute('select count(*)::int as n from users')).toEqual([{ n: 0 }]);
      } finally {
        await db.close();
      }
      expect(readFileSync(join(dir, 'README.txt'), 'utf8')).toBe("the operator's file");
      expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
      expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`.${dir.split('/').pop()}.initdb`))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reopens a data dir whose process was SIGKILLed, with its committed rows', async () => {
    const storage = await createTestStorage('pglite', { persistent: true });
    const dir = storage.env.SWITCHYARD_DATA_DIR;
    try {
      for (const name of ['first', 'second']) {
        // node --import tsx directly (not npx): SIGKILL must hit the process that holds the database.
        const child = spawn(process.execPath, ['--import', 'tsx', HOLD, dir, name], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', (b: Buffer) => {
            out += b.toString();
            if (out.includes('READY')) resolve();
          });
          child.stderr.on('data', (b: Buffer) => (out += b.toString()));
          void exited.then(() => reject(new Error(`child exited before READY:\n${out}`)));
        });
        child.kill('SIGKILL');
        expect(await exited).toBe('SIGKILL');
      }
      const db = await openDatabase({ databaseUrl: undefined, dataDir: dir });
      try {
        const rows = (await db.orm.em.fork().execute('select name from users order by name')) as { name: string }[];
        expect(rows.map((r) => r.name)).toEqual(['first', 'second']);
      } finally {
        await db.close();
      }
    } finally {
      await storage.drop();
    }
  });
});
