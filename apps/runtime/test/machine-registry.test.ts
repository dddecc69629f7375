import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_DATA_DIR, openDatabase, type Database } from '../src/db/database';
import { sql } from '../src/host/db';
import { createMachineRegistry } from '../src/host/machines';

const doc = {
  schemaVersion: 1, id: 'registry', kind: 'workflow', name: 'Registry', version: 1,
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Call back' } },
  ],
  edges: [{ id: 'e1', source: 'start', sourceHandle: 'out', target: 'task', targetHandle: 'in' }],
};

describe('the machine registry', () => {
  let db: Database;
  let flowId: string;
  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: undefined, dataDir: MEMORY_DATA_DIR });
    const em = db.orm.em.fork() as unknown as EntityManager;
    const userId = randomUUID();
    flowId = randomUUID();
    await sql(em, 'insert into users (id, name, token_hash) values (?, ?, ?)', [userId, 'registry', randomUUID()]);
    await sql(em, `insert into flows (id, user_id, doc_id, kind, name, description, current_version, status) values (?, ?, 'registry', 'workflow', 'Registry', '', 1, 'deployed')`, [flowId, userId]);
    await sql(em, 'insert into flow_versions (flow_id, version, document) values (?, 1, ?)', [flowId, doc]);
  });
  afterAll(async () => db?.close());

  it('loads, pins and binds a version once when 100 runs of it start at once', async () => {
    let queries = 0;
    const registry = createMachineRegistry({ em: () => (queries++, db.orm.em.fork() as unknown as EntityManager) });
    const machines = await Promise.all(Array.from({ length: 100 }, () => registry.compiledFor(flowId, 1)));
    // One read, one "has it runs" check, one pin; before, each of the 100 calls made its own.
    expect(queries).toBe(3);
    expect(new Set(machines).size).toBe(1);
    expect(await registry.compiledFor(flowId, 1)).toBe(machines[0]);
    expect(queries).toBe(3);
    const pinned = await sql<{ n: number }>(db.orm.em.fork() as unknown as EntityManager, 'select count(*)::int as n from flow_versions where flow_id = ? and compiled is not null', [flowId]);
    expect(pinned[0]!.n).toBe(1);
  });

  it('does not remember a failed load: the next call tries again', async () => {
    let queries = 0;
    const registry = createMachineRegistry({ em: () => (queries++, db.orm.em.fork() as unknown as EntityManager) });
    const missing = randomUUID();
    const both = await Promise.allSettled([registry.compiledFor(missing, 1), registry.compiledFor(missing, 1)]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(queries).toBe(1);
    await expect(registry.compiledFor(missing, 1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(queries).toBe(2);
  });
});
