import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { OTHER_TOKEN, rejection } from './support/test-db';
import { sse } from './support/sse';
import { startAgentsServer, waitForRun, type AgentsServer } from './support/agents-support';

const node = (id: string, type: string, params: Record<string, unknown> = {}, x = 0) => ({ id, type, position: { x, y: 0 }, params });
const taskFlow = {
  schemaVersion: 1, id: 'hostile-task', kind: 'workflow', name: 'One task',
  nodes: [node('start', 'trigger.manual'), node('task', 'action.createTask', { title: 'Mine' }, 200)],
  edges: [{ id: 'e1', source: 'start', target: 'task' }],
};
const approvalFlow = {
  schemaVersion: 1, id: 'hostile-wait', kind: 'workflow', name: 'Waits for a person',
  nodes: [node('start', 'trigger.manual'), node('ok', 'flow.approval', { title: 'Go?' }, 200)],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }],
};

/**
 * Issue 13, a hostile client: another user's run ids in every monitor call, page sizes beyond the
 * caps, time ranges that are backwards, too long or in a zone the database does not know, and forged
 * cursors. Each is a typed error or an empty answer; none reaches the database as a SQL error.
 */
describe.each(backendsUnderTest())('monitor calls from a hostile client (%s)', (backend) => {
  let s: AgentsServer;
  let done: string;
  let waiting: string;
  const code = async (p: Promise<unknown>) => switchyardCode(await rejection(p));

  beforeAll(async () => {
    s = await startAgentsServer(backend);
    for (const doc of [taskFlow, approvalFlow]) {
      await s.api.flows.save.mutate({ document: doc as never });
      await s.api.flows.deploy.mutate({ docId: doc.id });
    }
    done = (await s.api.runs.start.mutate({ docId: taskFlow.id })).runId;
    waiting = (await s.api.runs.start.mutate({ docId: approvalFlow.id })).runId;
    await waitForRun(s.api as never, done, (r) => r.status === 'completed');
    await waitForRun(s.api as never, waiting, (r) => r.status === 'waiting');
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('another user\'s run ids, flows and agents: not found or not listed, nothing changes', async () => {
    const runs = (await s.query<{ n: string }>('select count(*) as n from runs'))[0]!.n;
    expect(await code(s.other.monitor.run.query({ runId: done }))).toBe('NOT_FOUND');
    expect(await code(s.other.monitor.run.query({ runId: waiting }))).toBe('NOT_FOUND');
    expect(await code(s.other.monitor.replay.mutate({ runId: done, fromNodeId: 'task' }))).toBe('NOT_FOUND');
    // The canvas's run following (a run opened from the Monitor, /flows/<docId>/runs/<runId>): another user's run is not found.
    for (const runId of [done, waiting]) {
      const ac = new AbortController();
      const events = sse(`${s.url}/trpc/runs.watch?input=${encodeURIComponent(JSON.stringify({ runId }))}`, OTHER_TOKEN, ac.signal);
      let first = await events.next();
      while (first.value?.event === 'connected') first = await events.next();
      ac.abort();
      const text = JSON.stringify(first.value);
      expect(text).toContain('NOT_FOUND');
      expect(text).not.toContain(approvalFlow.id);
      expect(text).not.toContain(taskFlow.id);
    }
    // A search for the run's id, a filter on the flow: the other user sees none of it.
    expect((await s.other.monitor.actors.query({ q: waiting })).items).toEqual([]);
    expect((await s.other.monitor.actors.query({ docId: approvalFlow.id })).items).toEqual([]);
    expect((await s.other.monitor.runs.query({ docId: taskFlow.id })).items).toEqual([]);
    expect((await s.other.monitor.runs.query({})).items).toEqual([]);
    // The owner's cursor does not open the owner's runs to the other user.
    const first = await s.api.monitor.runs.query({ limit: 1 });
    expect(first.nextCursor).not.toBeNull();
    expect((await s.other.monitor.runs.query({ cursor: first.nextCursor! })).items).toEqual([]);
    // Their figures count nothing of the owner's.
    const m = await s.other.monitor.metrics.query({});
    expect(m.runs).toMatchObject({ started: 0, completed: 0, active: 0 });
    expect(m.now).toMatchObject({ running: 0, waiting: 0 });
    expect(m.success.timeSaved).toMatchObject({ steps: 0, minutes: 0 });
    // Another user's flow for an estimate is unknown.
    expect(await code(s.other.monitor.setEstimate.mutate({ docId: taskFlow.id, nodeType: 'action.createTask', minutes: 9 }))).toBe('NOT_FOUND');
    expect((await s.api.monitor.estimates.query()).perFlow).toEqual({});
    expect((await s.query<{ n: string }>('select count(*) as n from runs'))[0]!.n).toBe(runs);
  });

  it('page sizes beyond the caps and forged cursors are BAD_INPUT', async () => {
    expect(await code(s.api.monitor.actors.query({ limit: 501 }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.actors.query({ limit: 1e9 }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.actors.query({ limit: 0 }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.actors.query({ limit: 2.5 }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.runs.query({ limit: 201 }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.runs.query({ limit: -1 }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.coherenceProbes.query({ limit: 10_000 }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.probeCoherence.mutate({ factsPerAgent: 1000 }))).toBe('BAD_INPUT');
    // The caps themselves are served.
    expect((await s.api.monitor.actors.query({ limit: 500 })).items.map((a) => a.id)).toContain(waiting);
    expect((await s.api.monitor.runs.query({ limit: 200 })).items).toHaveLength(2);
    for (const cursor of ['x', 'eyJhIjoxfQ', Buffer.from(JSON.stringify(['2026-01-01 00:00:00+00', 'not-a-uuid'])).toString('base64url'),
      Buffer.from(JSON.stringify(["2026-01-01'; drop table runs; --", '00000000-0000-4000-8000-000000000000'])).toString('base64url'), 'a'.repeat(501)]) {
      expect(await code(s.api.monitor.runs.query({ cursor }))).toBe('BAD_INPUT');
      expect(await code(s.api.monitor.actors.query({ kind: 'run', cursor }))).toBe('BAD_INPUT');
    }
  });

  it('time ranges: backwards, longer than a year, not a date, or a zone the database does not know are BAD_INPUT', async () => {
    const t = (ms: number) => new Date(Date.UTC(2026, 0, 7) + ms).toISOString();
    const DAY = 86_400_000;
    // Metrics.
    expect(await code(s.api.monitor.metrics.query({ from: t(DAY), to: t(0) }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.metrics.query({ from: t(0), to: t(0) }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.metrics.query({ from: t(-400 * DAY), to: t(0) }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.metrics.query({ from: 'yesterday' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.metrics.query({ from: '2026-02-30T00:00:00Z' }))).toBe('BAD_INPUT');
    // Valid ISO text the database cannot store (it has no year 0).
    expect(await code(s.api.monitor.metrics.query({ from: '0000-01-01T00:00:00Z', to: '0000-06-01T00:00:00Z' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.metrics.query({ from: '0001-01-01T00:00:00+05:00', to: '0001-06-01T00:00:00Z' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.metrics.query({ timeZone: 'Mars/Olympus_Mons' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.metrics.query({ timeZone: "UTC'; select 1; --" }))).toBe('BAD_INPUT');
    // A name the browser's time zone data still knows but the database's does not (removed in tzdata 2020b).
    expect(await code(s.api.monitor.metrics.query({ timeZone: 'US/Pacific-New' }))).toBe('BAD_INPUT');
    // An alias both know is served, its daily buckets in that zone.
    expect((await s.api.monitor.metrics.query({ timeZone: 'Asia/Calcutta' })).period.timeZone).toBe('Asia/Calcutta');
    // Run history.
    expect(await code(s.api.monitor.runs.query({ from: t(DAY), to: t(0) }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.runs.query({ from: t(0), to: t(0) }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.runs.query({ to: 'tomorrow' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.runs.query({ from: '0000-01-01T00:00:00Z' }))).toBe('BAD_INPUT');
    // Open-ended ranges are fine: from alone, to alone.
    expect((await s.api.monitor.runs.query({ from: t(-3650 * DAY) })).items).toHaveLength(2);
    expect((await s.api.monitor.runs.query({ to: t(-3650 * DAY) })).items).toEqual([]);
  });

  it.runIf(!process.env.SWITCHYARD_METRICS_TOKEN)('/metrics is off without SWITCHYARD_METRICS_TOKEN: 404, whatever token is sent', async () => {
    const res = await fetch(`${s.url}/metrics`, { headers: { authorization: 'Bearer test-token-owner-0123456789' } });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('switchyard_');
  });
});
