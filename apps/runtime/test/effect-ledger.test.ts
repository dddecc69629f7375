import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EffectMeta } from '@switchyard/actors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClock } from '../src/host/clock';
import { sql } from '../src/host/db';
import { createEffectGroups, createEffects, type Fence, type LedgerWrite } from '../src/host/effects';
import { backends, openStoreFixture } from './support/test-db';

/**
 * The effect ledger writes first and claims its row with the result in the statement after: a
 * step re-run after a crash must still see exactly one record and the first result, a stale owner
 * must write nothing, and a memory entry (one statement, no transaction) must hold the same. Each
 * case runs with effects one statement each and with the group commit the host uses.
 */
describe.each(backends().flatMap((kind) => [[kind, 'alone'], [kind, 'grouped']] as const))('effect ledger (%s, %s)', (kind, mode) => {
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
    const effects = createEffects({
      em, clock: createClock(), outbound: { request: async () => ({ status: 200, body: '' }) }, fence, ...(mode === 'grouped' ? { groupCommit: { lanes: 2 } } : {}),
    });
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

/**
 * The group commit of effects (`createEffectGroups`): effects of concurrent runs share statements,
 * and still each gets its own record, its own result, its own fence check and its own failure.
 */
describe.each(backends())('effect group commit (%s)', (kind) => {
  let fixture: Awaited<ReturnType<typeof openStoreFixture>>;
  let em: () => EntityManager;
  let userId: string;
  let flowId: string;
  beforeAll(async () => {
    fixture = await openStoreFixture(kind, 'groups');
    ({ em, userId, flowId } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  const newRun = async (owner = 'me') => {
    const runId = randomUUID();
    await sql(em(), `insert into runs (id, user_id, flow_id, flow_version, status, trigger_node_id, trigger, snapshot_version, started_at, updated_at, owner, lease_epoch)
      values (?, ?, ?, 1, 'running', 'start', '{}', 0, now(), now(), ?, 1)`, [runId, userId, flowId, owner]);
    return runId;
  };
  const lost: string[] = [];
  const fence: Fence = { check: async () => undefined, claim: () => ({ owner: 'me', epoch: 1 }), lost: (id) => void lost.push(id) };
  const grouped = () => createEffects({ em, clock: createClock(), outbound: { request: async () => ({ status: 200, body: '' }) }, fence, groupCommit: { lanes: 1 } });
  const meta = (runId: string, nodeId: string): EffectMeta => ({ runId, userId, nodeId, nodeType: 'action.createTask', effectKey: `${runId}|${nodeId}` });
  /** How many transactions wrote these runs' ledger rows (rows of one statement share its xmin). */
  const transactions = async (runIds: string[]) =>
    (await sql<{ n: number }>(em(), 'select count(distinct xmin::text)::int as n from effects where run_id = any(?::uuid[])', [`{${runIds.join(',')}}`]))[0]!.n;

  it('40 runs acting at once: a task, a draft, a notification and a memory entry each, in a few statements, every record its own', async () => {
    const effects = grouped();
    const runIds = await Promise.all(Array.from({ length: 40 }, () => newRun()));
    const results = await Promise.all(runIds.map(async (runId, i) => ({
      runId,
      task: await effects.crm.createTask(meta(runId, 'task'), { title: `Task ${i}`, description: 'it\'s "quoted" ✓', dueAt: '2026-01-08T15:00:00.000Z', priority: 'high' }),
      draft: await effects.crm.createDraft(meta(runId, 'draft'), { to: [`p${i}@example.test`], subject: `Re: ${i}`, body: 'Thanks' }),
      note: await effects.crm.createNotification(meta(runId, 'note'), { type: 'info', title: `Note ${i}`, body: 'b', priority: 'high', actions: [] }),
      memory: await effects.memory.remember(meta(runId, 'mem'), `group-${runId}`, { i }),
    })));
    // 160 effects in far fewer transactions than effects (the first goes alone, the rest share).
    expect(await transactions(runIds)).toBeLessThan(60);
    for (const [i, r] of results.entries()) {
      expect(await sql(em(), 'select id, title, description, due_at = ?::timestamptz as due, priority, status from tasks where source_run_id = ?', ['2026-01-08T15:00:00Z', r.runId])).toEqual([
        { id: r.task.id, title: `Task ${i}`, description: 'it\'s "quoted" ✓', due: true, priority: 'high', status: 'open' },
      ]);
      expect(await sql(em(), 'select id, to_addrs, subject from drafts where source_run_id = ?', [r.runId])).toEqual([{ id: r.draft.id, to_addrs: [`p${i}@example.test`], subject: `Re: ${i}` }]);
      expect(await sql(em(), 'select id, title, priority, state from notifications where source_run_id = ?', [r.runId])).toEqual([{ id: r.note.id, title: `Note ${i}`, priority: 'high', state: 'unread' }]);
      expect(await sql(em(), `select event from notification_engagement where notification_id = ?`, [r.note.id])).toEqual([{ event: 'shown' }]);
      expect(await sql(em(), 'select value from memory_entries where user_id = ? and key = ?', [userId, `group-${r.runId}`])).toEqual([{ value: { value: { i } } }]);
      expect(await sql(em(), 'select node_id, kind from effects where run_id = ? order by node_id', [r.runId])).toEqual(
        [['draft', 'draft'], ['mem', 'memory'], ['note', 'notification'], ['task', 'task']].map(([node_id, k]) => ({ node_id, kind: k })));
    }
  });

  it('30 runs writing one memory key at once: one statement may hold them all, the entry ends with one of their values, each effect is in the ledger', async () => {
    const effects = grouped();
    const runIds = await Promise.all(Array.from({ length: 30 }, () => newRun()));
    const key = `shared-${randomUUID()}`;
    await Promise.all(runIds.map((runId, i) => effects.memory.remember(meta(runId, 'mem'), key, `v${i}`)));
    const rows = await sql<{ value: { value: string } }>(em(), 'select value from memory_entries where user_id = ? and key = ?', [userId, key]);
    expect(rows).toHaveLength(1);
    expect(runIds.map((_, i) => `v${i}`)).toContain(rows[0]!.value.value);
    expect((await sql(em(), `select 1 from effects where run_id = any(?::uuid[]) and kind = 'memory'`, [`{${runIds.join(',')}}`])).length).toBe(30);
    expect(await transactions(runIds)).toBeLessThan(30);
  });

  it('a run this process lost, in a group: that effect is refused (CONFLICT, the host told) and writes nothing; the others are stored', async () => {
    const effects = grouped();
    const ours = await Promise.all(Array.from({ length: 8 }, () => newRun()));
    const theirs = await newRun('someone-else');
    lost.length = 0;
    const task = { title: 'T', description: '', dueAt: '2026-01-08T15:00:00.000Z', priority: 'low' as const };
    const outcomes = await Promise.allSettled([...ours, theirs].map((runId) => effects.crm.createTask(meta(runId, 't'), task)));
    expect(outcomes.slice(0, 8).every((o) => o.status === 'fulfilled')).toBe(true);
    expect(outcomes[8]).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } });
    expect(lost).toEqual([theirs]);
    expect(await sql(em(), 'select 1 from tasks where source_run_id = ? union all select 1 from effects where run_id = ?', [theirs, theirs])).toEqual([]);
    expect((await sql(em(), 'select 1 from tasks where source_run_id = any(?::uuid[])', [`{${ours.join(',')}}`])).length).toBe(8);
  });

  it('a group carries at most maxChars of rows: big effects are split over several statements, all stored', async () => {
    const groups = createEffectGroups(em, { lanes: 1, maxChars: 2500 });
    const runIds = await Promise.all(Array.from({ length: 10 }, () => newRun()));
    const now = new Date().toISOString();
    const big = 'x'.repeat(1000);
    const entry = (key: string): LedgerWrite<null> => ({
      shape: 'test-memory-big',
      ctes: (p, where) => `${p}w as (insert into memory_entries (user_id, scope, key, value, updated_at)
        select r.user_id, 'user', r.key, jsonb_build_object('v', r.big), now() from jsonb_to_recordset(?::jsonb) as r(_key text, user_id uuid, key text, big text) where ${where} returning 1)`,
      row: { user_id: userId, key, big },
      result: null,
    });
    await Promise.all(runIds.map((runId) => groups.run(now, meta(runId, 'm'), 'memory', entry(`big-${runId}`), fence)));
    expect((await sql(em(), 'select 1 from memory_entries where key = any(?::text[])', [`{${runIds.map((r) => `big-${r}`).join(',')}}`])).length).toBe(10);
    // Two rows of ~1,000 characters per statement at most: at least five statements.
    expect(await transactions(runIds)).toBeGreaterThanOrEqual(5);
  });

  it('one write the database refuses fails alone: the group is retried effect by effect, the others are stored once', async () => {
    const groups = createEffectGroups(em, { lanes: 1 });
    const runIds = await Promise.all(Array.from({ length: 12 }, () => newRun()));
    const now = new Date().toISOString();
    // A memory entry with no key (NOT NULL): the database refuses it, inside the group's statement.
    const entry = (key: string | null): LedgerWrite<null> => ({
      shape: 'test-memory',
      ctes: (p, where) => `${p}w as (insert into memory_entries (user_id, scope, key, value, updated_at)
        select r.user_id, 'user', r.key, '{}'::jsonb, now() from jsonb_to_recordset(?::jsonb) as r(_key text, user_id uuid, key text) where ${where} returning 1)`,
      row: { user_id: userId, key },
      result: null,
    });
    const keys = runIds.map((runId, i) => (i === 5 ? null : `refused-${runId}`));
    const outcomes = await Promise.allSettled(runIds.map((runId, i) => groups.run(now, meta(runId, 'm'), 'memory', entry(keys[i]!), fence)));
    expect(outcomes.map((o) => o.status)).toEqual(keys.map((k) => (k ? 'fulfilled' : 'rejected')));
    expect(String((outcomes[5] as PromiseRejectedResult).reason)).toMatch(/null value/);
    expect((await sql(em(), 'select key from memory_entries where key = any(?::text[])', [`{${keys.filter(Boolean).join(',')}}`])).length).toBe(11);
    expect(await sql(em(), 'select 1 from effects where run_id = ?', [runIds[5]])).toEqual([]);
    expect((await sql(em(), 'select 1 from effects where run_id = any(?::uuid[])', [`{${runIds.join(',')}}`])).length).toBe(11);
  });
});
