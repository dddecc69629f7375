import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EffectMeta } from '@switchyard/actors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../src/host/clock';
import { sql } from '../src/host/db';
import { createEffects, type Fence } from '../src/host/effects';
import { backends, openStoreFixture } from './support/test-db';

/**
 * The effect ledger writes first and claims its row with the result in the statement after: a
 * step re-run after a crash must still see exactly one record and the first result, a stale owner
 * must write nothing, and a memory entry (one statement, no transaction) must hold the same.
 */
describe.each(backends())('effect ledger (%s)', (kind) => {
  let fixture: Awaited<ReturnType<typeof openStoreFixture>>;
  let em: () => EntityManager;
  let userId: string;
  let flowId: string;
  beforeAll(async () => {
    fixture = await openStoreFixture(kind, 'ledger');
    ({ em, userId, flowId } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  /** A run owned by `owner` under epoch 1, and a fence that claims (me, 1) for it. */
  const setup = async (owner = 'me') => {
    const runId = randomUUID();
    await sql(em(), `insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot_version, started_at, updated_at, owner, lease_epoch)
      values (?, ?, ?, 1, 'running', 'start', '{}', 0, now(), now(), ?, 1)`, [runId, userId, flowId, owner]);
    const lost: string[] = [];
    const fence: Fence = { check: async () => undefined, claim: () => ({ owner: 'me', epoch: 1 }), lost: (id) => void lost.push(id) };
    const effects = createEffects({ em, clock: createClock(), outbound: { request: async () => ({ status: 200, body: '' }) }, fence });
    const meta = (nodeId: string, effectKey = `${runId}|${nodeId}`): EffectMeta => ({ runId, userId, nodeId, nodeType: 'action.createTask', effectKey });
    return { runId, effects, meta, lost };
  };
  const tasksOf = async (runId: string) => (await sql<{ id: string }>(em(), 'select id from tasks where source_run_id = ?', [runId])).map((t) => t.id);
  const task = { title: 'Call back', description: '', dueAt: '2026-01-08T15:00:00.000Z', priority: 'medium' as const };

  it('a step done again (after a crash) writes nothing more and answers the first result, concurrently too', async () => {
    const { runId, effects, meta } = await setup();
    const first = await effects.crm.createTask(meta('t'), task);
    expect(await effects.crm.createTask(meta('t'), task)).toEqual(first);
    const again = await Promise.all(Array.from({ length: 5 }, () => effects.crm.createTask(meta('u'), task)));
    expect(new Set(again.map((r) => JSON.stringify(r))).size).toBe(1);
    expect((await tasksOf(runId)).sort()).toEqual([first.id, again[0]!.id].sort());
    const ledger = await sql<{ node_id: string; result: { id: string } }>(em(), 'select node_id, result from effects where run_id = ? order by node_id', [runId]);
    expect(ledger.map((l) => [l.node_id, l.result.id])).toEqual([['t', first.id], ['u', again[0]!.id]]);
  });

  it('a write that fails when done again (its contact deleted since) still answers the first result', async () => {
    const { runId, effects, meta } = await setup();
    const contactId = randomUUID();
    await sql(em(), `insert into contacts (id, user_id, name, email) values (?, ?, 'Ada', ?)`, [contactId, userId, `ada-${contactId}@example.test`]);
    const first = await effects.crm.createTask(meta('t'), { ...task, contactId });
    await sql(em(), 'update tasks set contact_id = null where id = ?', [first.id]);
    await sql(em(), 'delete from contacts where id = ?', [contactId]);
    // Done for the first time now, the same write fails: the contact is gone.
    await expect(effects.crm.createTask(meta('other'), { ...task, contactId })).rejects.toThrow(/Contact/);
    expect(await effects.crm.createTask(meta('t'), { ...task, contactId })).toEqual(first);
    expect(await tasksOf(runId)).toEqual([first.id]);
  });

  it('a process that lost the run writes nothing: no record, no ledger row, the host told', async () => {
    const { runId, effects, meta, lost } = await setup('someone-else');
    await expect(effects.crm.createTask(meta('t'), task)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(effects.memory.remember(meta('m'), 'k', 'v')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await tasksOf(runId)).toEqual([]);
    expect(await sql(em(), 'select 1 from effects where run_id = ?', [runId])).toEqual([]);
    expect(await sql(em(), `select 1 from memory_entries where user_id = ? and key = 'k'`, [userId])).toEqual([]);
    expect(lost).toEqual([runId, runId]);
  });

  it('drafts and notifications are one statement with their ledger row: done again, concurrently, or by a process that lost the run, one record and the first result', async () => {
    const { runId, effects, meta } = await setup();
    const draft = { to: ['ada@example.test'], subject: 'Re: hello', body: 'Thanks' };
    const note = { type: 'info', title: 'New email', body: '', priority: 'normal' as const, actions: [] };
    const drafts = await Promise.all(Array.from({ length: 4 }, () => effects.crm.createDraft(meta('d'), draft)));
    const notes = await Promise.all(Array.from({ length: 4 }, () => effects.crm.createNotification(meta('n'), note)));
    expect(new Set(drafts.map((d) => d.id)).size).toBe(1);
    expect(new Set(notes.map((n) => n.id)).size).toBe(1);
    expect(await sql(em(), 'select id, to_addrs, status from drafts where source_run_id = ?', [runId])).toEqual([{ id: drafts[0]!.id, to_addrs: ['ada@example.test'], status: 'draft' }]);
    expect(await sql(em(), 'select id from notifications where source_run_id = ?', [runId])).toEqual([{ id: notes[0]!.id }]);
    // Its `shown` fact is stored with it, once.
    expect(await sql(em(), `select event from notification_engagement where notification_id = ?`, [notes[0]!.id])).toEqual([{ event: 'shown' }]);
    expect(await sql(em(), 'select node_id, kind from effects where run_id = ? order by node_id', [runId])).toEqual([{ node_id: 'd', kind: 'draft' }, { node_id: 'n', kind: 'notification' }]);

    const stale = await setup('someone-else');
    await expect(stale.effects.crm.createDraft(stale.meta('d'), draft)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(stale.effects.crm.createNotification(stale.meta('n'), note)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await sql(em(), 'select 1 from drafts where source_run_id = ? union all select 1 from notifications where source_run_id = ?', [stale.runId, stale.runId])).toEqual([]);
    expect(await sql(em(), 'select 1 from effects where run_id = ?', [stale.runId])).toEqual([]);
    expect(stale.lost).toEqual([stale.runId, stale.runId]);
  });

  it('a memory entry is written once per effect key: done again, the first value stays', async () => {
    const { runId, effects, meta } = await setup();
    const key = `mem-${runId}`;
    await effects.memory.remember(meta('m'), key, 'first', 60);
    await effects.memory.remember(meta('m'), key, 'second', 60);
    const read = async () => (await sql<{ value: { value: string }; expires_at: Date | null }>(em(), `select value, expires_at from memory_entries where user_id = ? and key = ?`, [userId, key]))[0]!;
    expect((await read()).value).toEqual({ value: 'first' });
    expect((await read()).expires_at).not.toBeNull();
    // Another step (its own key) overwrites it, as a new value should.
    await effects.memory.remember(meta('m2'), key, 'third');
    expect(await read()).toEqual({ value: { value: 'third' }, expires_at: null });
    expect(await sql(em(), 'select node_id from effects where run_id = ? order by node_id', [runId])).toEqual([{ node_id: 'm' }, { node_id: 'm2' }]);
  });
});
