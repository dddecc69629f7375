import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from './host-support';
import { startAgentsServer, waitForRun, type AgentsServer } from './support/agents-support';

const node = (id: string, type: string, params: Record<string, unknown> = {}, x = 0) => ({ id, type, position: { x, y: 0 }, params });
const delayFlow = {
  schemaVersion: 1, id: 'scan-delay', kind: 'workflow', name: 'Waits a day',
  nodes: [node('start', 'trigger.manual'), node('wait', 'flow.delay', { duration: '1 day' }, 200), node('task', 'action.createTask', { title: 'Tomorrow' }, 400)],
  edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }],
};
const approvalFlow = {
  schemaVersion: 1, id: 'scan-approval', kind: 'workflow', name: 'Waits for a person',
  nodes: [node('start', 'trigger.manual'), node('ok', 'flow.approval', { title: 'Go?' }, 200)],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }],
};
const CLONES = 520;

/**
 * Issue 13, live actors filtered by what a run waits on: the wait is derived per run, so a page reads
 * a bounded number of runs (newest first) and filters them. When that read ends before the page is
 * full, the page must go on (a cursor) instead of saying "no more": here the only run waiting for an
 * approval is older than the 520 runs waiting on a delay.
 */
describe.each(backendsUnderTest())('live actors filtered by what they wait on, past the scanned rows (%s)', (backend) => {
  let s: AgentsServer;
  let approval: string;

  beforeAll(async () => {
    s = await startAgentsServer(backend);
    for (const doc of [delayFlow, approvalFlow]) {
      await s.api.flows.save.mutate({ document: doc as never });
      await s.api.flows.deploy.mutate({ docId: doc.id });
    }
    approval = (await s.api.runs.start.mutate({ docId: approvalFlow.id })).runId;
    const delayed = (await s.api.runs.start.mutate({ docId: delayFlow.id })).runId;
    await waitForRun(s.api as never, approval, (r) => r.status === 'waiting');
    await waitForRun(s.api as never, delayed, (r) => r.status === 'waiting');
    // The approval run started a day ago; the delayed run is cloned (row, journal, timers, new ids) many times since.
    await s.query(`update runs set started_at = started_at - interval '1 day' where id = ?`, [approval]);
    const columns = async (table: string) => (await s.query<{ c: string }>(
      `select column_name as c from information_schema.columns where table_schema = current_schema() and table_name = ? order by ordinal_position`, [table])).map((r) => r.c);
    // A plain table (the storage is this test's own): a temp table lives on one pooled connection,
    // and the statements below may run on another ("relation scan_map does not exist", seen in a run).
    await s.query(`create table scan_map as select gen_random_uuid() as new_id, ?::uuid as old_id, n from generate_series(1, ?) n`, [delayed, CLONES]);
    const swap = (col: string) => `replace(t.${col}::text, m.old_id::text, m.new_id::text)::jsonb`;
    const clone = async (table: string, idCol: string, overrides: Record<string, string>) => {
      const cols = (await columns(table)).filter((c) => !(table === 'run_journal' && c === 'id'));
      const exprs = cols.map((c) => (c === idCol ? 'm.new_id' : overrides[c] ?? `t.${c}`));
      await s.query(`insert into ${table} (${cols.join(', ')}) select ${exprs.join(', ')} from ${table} t join scan_map m on t.${idCol} = m.old_id`);
    };
    await clone('runs', 'id', { snapshot: swap('snapshot'), started_at: `t.started_at - m.n * interval '1 second'` });
    await clone('run_journal', 'run_id', { snapshot: swap('snapshot'), data: swap('data'), delta: swap('delta'), value: swap('value') });
    await clone('timers', 'run_id', {});
    await s.query('drop table scan_map');
  }, 120_000);
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('a page that read its rows without filling up goes on with a cursor, and the older match is found', async () => {
    const all = await s.api.monitor.actors.query({ kind: 'run', waitsOn: 'delay', limit: 500 });
    expect(all.items).toHaveLength(500);
    expect(all.items.every((a) => a.kind === 'run' && a.waitsOn[0]?.type === 'delay')).toBe(true);

    // Filtered on approvals: the first page reads the 500 newest runs (all delays) and finds nothing there.
    const seen: string[] = [];
    let page = await s.api.monitor.actors.query({ kind: 'run', waitsOn: 'approval', limit: 1 });
    let pages = 1;
    seen.push(...page.items.map((a) => a.id));
    expect(page.nextCursor).not.toBeNull();
    while (page.nextCursor && pages < 10) {
      page = await s.api.monitor.actors.query({ kind: 'run', waitsOn: 'approval', limit: 1, cursor: page.nextCursor });
      seen.push(...page.items.map((a) => a.id));
      pages++;
    }
    expect(seen).toEqual([approval]);
    expect(page.nextCursor).toBeNull();
    expect(pages).toBe(2);
  });
});
