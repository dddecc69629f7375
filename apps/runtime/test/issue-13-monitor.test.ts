import pg from 'pg';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUSINESS_HOURS, OTHER_TOKEN, TOKEN, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, switchyardCode, waitForRun,
  type Backend, type Client, type RuntimeProcess,
} from './host-support';
import { sse } from './support/sse';
import { rejection } from './support/test-db';

const HOUR = 3_600_000;
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

const node = (id: string, type: string, params: Record<string, unknown> = {}, x = 0) => ({ id, type, position: { x, y: 0 }, params });
const chain = (...ids: string[]) => ids.slice(1).map((id, i) => ({ id: `e${i}`, source: ids[i]!, target: id }));

const delayFlow = {
  schemaVersion: 1, id: 'mon-delay', kind: 'workflow', name: 'Delay then task',
  nodes: [node('start', 'trigger.manual'), node('wait', 'flow.delay', { duration: '1 hour' }, 200), node('task', 'action.createTask', { title: 'After the delay' }, 400)],
  edges: chain('start', 'wait', 'task'),
};
const approvalFlow = {
  schemaVersion: 1, id: 'mon-approval', kind: 'workflow', name: 'Approval then task',
  nodes: [node('start', 'trigger.manual'), node('ok', 'flow.approval', { title: 'Go?' }, 200), node('task', 'action.createTask', { title: 'Approved' }, 400)],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'task' }],
};
const taskFlow = {
  schemaVersion: 1, id: 'mon-task', kind: 'workflow', name: 'Task and notify',
  nodes: [
    node('start', 'trigger.manual'),
    node('task', 'action.createTask', { title: 'Call back' }, 200),
    node('note', 'action.sendNotification', { title: 'Suggestion', actions: [{ id: 'open', label: 'Open', kind: 'custom' }] }, 400),
  ],
  edges: chain('start', 'task', 'note'),
};
const failingFlow = {
  schemaVersion: 1, id: 'mon-fail', kind: 'workflow', name: 'Webhook to a blocked address',
  nodes: [node('start', 'trigger.manual'), node('hook', 'action.webhook', { url: 'http://127.0.0.1:9/blocked', retry: { maxAttempts: 3, backoffMs: 200, factor: 1 } }, 200)],
  edges: chain('start', 'hook'),
};
const skippedFlow = {
  schemaVersion: 1, id: 'mon-skip', kind: 'workflow', name: 'Never true',
  nodes: [node('start', 'trigger.manual'), node('cond', 'condition.expression', { expression: 'false' }, 200), node('task', 'action.createTask', { title: 'Never' }, 400)],
  edges: chain('start', 'cond', 'task'),
};

async function deploy(api: Client, ...docs: { id: string }[]) {
  for (const doc of docs) {
    await api.flows.save.mutate({ document: doc as never });
    await api.flows.deploy.mutate({ docId: doc.id });
  }
}

type Metrics = { name: string; type: string; metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string }[] }[];
async function scrape(url: string, token: string | null) {
  const res = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}
const sumOf = (families: Metrics, name: string, match: Record<string, string> = {}) =>
  (families.find((f) => f.name === name)?.metrics ?? [])
    .filter((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v))
    .reduce((s, m) => s + Number(m.value ?? m.count ?? 0), 0);

describe.runIf(Boolean(process.env.DATABASE_URL))('monitor across processes (postgres)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('process B lists the actors process A owns, with what each waits on, and follows them live', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN };
    const a: RuntimeProcess = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'mon-a' });
    cleanup.push(() => a.kill('SIGTERM'));
    const b: RuntimeProcess = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'mon-b' });
    cleanup.push(() => b.kill('SIGTERM'));
    const apiA = client(a.url);
    const apiB = client(b.url);
    await deploy(apiA, delayFlow, approvalFlow);
    const delayed = (await apiA.runs.start.mutate({ docId: 'mon-delay' })).runId;
    const approval = (await apiA.runs.start.mutate({ docId: 'mon-approval' })).runId;
    await waitForRun(apiA, delayed, (r) => r.status === 'waiting');
    await waitForRun(apiA, approval, (r) => r.status === 'waiting');

    const page = await apiB.monitor.actors.query({ kind: 'run' });
    const d = page.items.find((x) => x.id === delayed);
    const p = page.items.find((x) => x.id === approval);
    expect(d).toMatchObject({ kind: 'run', status: 'waiting', owner: 'mon-a', ownerAlive: true, docId: 'mon-delay', flowName: 'Delay then task' });
    // The runtime's clock starts at BUSINESS_HOURS and moves on: the delay ends an hour after it began.
    const wait = d?.kind === 'run' ? d.waitsOn[0] : undefined;
    expect(wait).toMatchObject({ type: 'delay', nodeId: 'wait', retry: false });
    const until = wait?.type === 'delay' ? new Date(wait.until).getTime() : 0;
    expect(until).toBeGreaterThanOrEqual(BUSINESS_HOURS + HOUR);
    expect(until).toBeLessThan(new Date((d as { startedAt: string }).startedAt).getTime() + HOUR + 60_000);
    expect(p?.kind === 'run' && p.waitsOn).toEqual([{ type: 'approval', nodeId: 'ok' }]);
    expect(page.processes.map((x) => x.id).sort()).toEqual(['mon-a', 'mon-b']);
    expect(page.processes.find((x) => x.id === 'mon-a')?.runs).toBe(2);
    // Filters: by what the run waits on, and by owner.
    expect((await apiB.monitor.actors.query({ waitsOn: 'delay' })).items.map((x) => x.id)).toEqual([delayed]);
    expect((await apiB.monitor.actors.query({ owner: 'mon-b', kind: 'run' })).items).toEqual([]);
    // Paging: one run per page, the second page holds the other.
    const first = await apiB.monitor.actors.query({ kind: 'run', limit: 1 });
    expect(first.nextCursor).not.toBeNull();
    const second = await apiB.monitor.actors.query({ kind: 'run', limit: 1, cursor: first.nextCursor! });
    expect([...first.items, ...second.items].map((x) => x.id).sort()).toEqual([delayed, approval].sort());
    // Another user sees none of it.
    expect((await client(b.url, OTHER_TOKEN).monitor.actors.query({})).items).toEqual([]);

    // Live on B: the approval decided through A leaves the list.
    const input = encodeURIComponent(JSON.stringify({ kind: 'run' }));
    const ac = new AbortController();
    const stream = sse(`${b.url}/trpc/monitor.live?input=${input}`, TOKEN, ac.signal);
    const next = async () => {
      for (;;) {
        const { value } = await stream.next();
        const data = (value as { data?: { items?: { id: string }[] } } | undefined)?.data;
        if (data?.items) return data.items.map((x) => x.id);
      }
    };
    expect((await next()).sort()).toEqual([delayed, approval].sort());
    await apiA.runs.approve.mutate({ runId: approval });
    let ids = await next();
    while (ids.includes(approval)) ids = await next();
    expect(ids).toEqual([delayed]);
    ac.abort();

    // /metrics on B counts A's completed run; it needs the metrics token, not a user's.
    expect((await scrape(b.url, null)).status).toBe(401);
    expect((await scrape(b.url, TOKEN)).status).toBe(401);
    const ok = await scrape(b.url, METRICS_TOKEN);
    expect(ok.status).toBe(200);
    const families = parsePrometheusTextFormat(ok.text) as Metrics;
    expect(sumOf(families, 'switchyard_runs_completed_total', { flow: 'mon-approval' })).toBe(1);
    expect(sumOf(families, 'switchyard_runs_active', { status: 'waiting' }) + sumOf(families, 'switchyard_runs_active', { status: 'running' })).toBe(1);
    expect(sumOf(families, 'switchyard_runtime_processes', { state: 'alive' })).toBe(2);
  }, 180_000);

  it('a command waiting for a dead owner is the live run\'s queue; the adoptions counter moves when another process takes its runs; one flow id of two users is one series', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    // Runs stay with their owner (no parking). A 15 s lease: after A dies, B reads the queue well before it adopts.
    const env = {
      SWITCHYARD_PARK_AFTER_MS: 'off', ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN,
      SWITCHYARD_LEASE_MS: '15000',
    };
    // A takes the first command sent to it and dies before storing its transition (the command stays unapplied).
    const a: RuntimeProcess = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'queue-a', SWITCHYARD_CRASH_AFTER_COMMAND: '1' });
    cleanup.push(() => a.kill('SIGKILL'));
    const b: RuntimeProcess = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'queue-b' });
    cleanup.push(() => b.kill('SIGTERM'));
    const apiA = client(a.url);
    const apiB = client(b.url);
    await deploy(apiA, approvalFlow, delayFlow);
    const approval = (await apiA.runs.start.mutate({ docId: 'mon-approval' })).runId;
    const delayed = (await apiA.runs.start.mutate({ docId: 'mon-delay' })).runId;
    await waitForRun(apiA, approval, (r) => r.status === 'waiting');
    await waitForRun(apiA, delayed, (r) => r.status === 'waiting');
    // Two users' flows with the same doc id: one `flow` series, their runs added up (docs/monitoring.md).
    const other = client(b.url, OTHER_TOKEN);
    await deploy(apiB, taskFlow);
    await deploy(other, taskFlow);
    await waitForRun(apiB, (await apiB.runs.start.mutate({ docId: 'mon-task' })).runId, (r) => r.status === 'completed');
    await waitForRun(other, (await other.runs.start.mutate({ docId: 'mon-task' })).runId, (r) => r.status === 'completed');

    let families = parsePrometheusTextFormat((await scrape(b.url, METRICS_TOKEN)).text) as Metrics;
    expect(sumOf(families, 'switchyard_runs_completed_total', { flow: 'mon-task' })).toBe(2);
    expect(sumOf(families, 'switchyard_lease_adoptions_total')).toBe(0);
    expect(sumOf(families, 'switchyard_queue_depth', { queue: 'run_commands' })).toBe(0);
    expect((await apiB.monitor.actors.query({ kind: 'run' })).items.map((x) => [x.id, x.kind === 'run' ? x.queueDepth : null]).sort())
      .toEqual([[approval, 0], [delayed, 0]].sort());

    // The approval sent through B reaches A, which dies before applying it: the run's queue holds it.
    expect(await apiB.runs.approve.mutate({ runId: approval })).toMatchObject({ forwarded: true });
    expect(await a.exited).toBe(-1);
    const queued = (await apiB.monitor.actors.query({ kind: 'run' })).items.find((x) => x.id === approval);
    expect(queued).toMatchObject({ kind: 'run', owner: 'queue-a', queueDepth: 1 });
    families = parsePrometheusTextFormat((await scrape(b.url, METRICS_TOKEN)).text) as Metrics;
    expect(sumOf(families, 'switchyard_queue_depth', { queue: 'run_commands' })).toBe(1);

    // A's lease runs out: B adopts both runs, applies the approval once, and the counter counts the two adoptions.
    const done = await waitForRun(apiB, approval, (r) => r.status === 'completed', 60_000);
    expect(done.nodes.task?.state).toBe('succeeded');
    for (let t = 0; ; t++) {
      const live = await apiB.monitor.actors.query({ kind: 'run' });
      if (live.items.some((x) => x.id === delayed && x.owner === 'queue-b')) break;
      if (t > 300) throw new Error('B did not adopt the delayed run');
      await new Promise((r) => setTimeout(r, 100));
    }
    families = parsePrometheusTextFormat((await scrape(b.url, METRICS_TOKEN)).text) as Metrics;
    expect(sumOf(families, 'switchyard_lease_adoptions_total')).toBe(2);
    expect(sumOf(families, 'switchyard_queue_depth', { queue: 'run_commands' })).toBe(0);
    expect((await apiB.monitor.actors.query({ kind: 'run' })).items.map((x) => [x.id, x.kind === 'run' ? x.queueDepth : null])).toEqual([[delayed, 0]]);
  }, 180_000);

  it('a process paused past its lease counts what its fencing stopped (a refused write or a lease lost), in its own scrape', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = {
      SWITCHYARD_PARK_AFTER_MS: 'off', ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN,
      SWITCHYARD_LEASE_MS: '1500',
    };
    const a: RuntimeProcess = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'fence-a' });
    cleanup.push(async () => {
      a.child.kill('SIGCONT');
      await a.kill('SIGKILL');
    });
    const b: RuntimeProcess = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'fence-b' });
    cleanup.push(() => b.kill('SIGTERM'));
    const apiA = client(a.url);
    const apiB = client(b.url);
    await deploy(apiA, delayFlow);
    const runId = (await apiA.runs.start.mutate({ docId: 'mon-delay' })).runId;
    await waitForRun(apiA, runId, (r) => r.status === 'waiting');
    const fenced = async (url: string) => sumOf(parsePrometheusTextFormat((await scrape(url, METRICS_TOKEN)).text) as Metrics, 'switchyard_fencing_refusals_total');
    const lostOf = async (url: string) => sumOf(parsePrometheusTextFormat((await scrape(url, METRICS_TOKEN)).text) as Metrics, 'switchyard_leases_lost_total');
    expect(await fenced(a.url)).toBe(0);
    expect(await lostOf(a.url)).toBe(0);

    // A freezes with the delay's timer armed; B adopts the run and finishes it.
    a.child.kill('SIGSTOP');
    const wakeA = setClock(a.url, BUSINESS_HOURS + 2 * HOUR).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000));
    await setClock(b.url, BUSINESS_HOURS + 2 * HOUR);
    await waitForRun(apiB, runId, (r) => r.status === 'completed', 30_000);
    expect(await fenced(b.url)).toBe(0);

    // A wakes. Its fencing stops it one of two ways, whichever comes first: its overdue heartbeat
    // finds the lease gone and stops the run (counted as a lease lost), or its timer fires first
    // and the write of the step is refused (counted as a refusal). Its own counters say which.
    a.child.kill('SIGCONT');
    await wakeA;
    let stopped = 0;
    for (let t = 0; t < 300 && stopped === 0; t++) {
      stopped = (await fenced(a.url)) + (await lostOf(a.url));
      if (stopped === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stopped).toBeGreaterThan(0);
    expect(await lostOf(b.url)).toBe(0);
    expect(a.output()).toMatch(/another process owns this run now|lost the lease on a run/);
    // Nothing A tried was stored: the run is B's, completed once.
    expect((await apiB.runs.get.query({ runId })).status).toBe('completed');
    expect(await fenced(b.url)).toBe(0);
  }, 180_000);
});

describe.each(backendsUnderTest())('monitor figures, history and /metrics (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('after a scripted mix the figures equal the database counts, the timeline tells each step, and the counters move', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url);
    await deploy(api, taskFlow, failingFlow, skippedFlow, approvalFlow);

    // The token: none, a user's, a wrong one of the same length, another scheme: 401 with a challenge, no figures.
    for (const [header, what] of [[null, 'none'], [`Bearer ${TOKEN}`, 'a user token'], [`Bearer ${'x'.repeat(METRICS_TOKEN.length)}`, 'same length'],
      [`Bearer ${METRICS_TOKEN}x`, 'longer'], [`Basic ${Buffer.from(`u:${METRICS_TOKEN}`).toString('base64')}`, 'basic'], [METRICS_TOKEN, 'no scheme']] as const) {
      const res = await fetch(`${rt.url}/metrics`, { headers: header ? { authorization: header } : {} });
      const body = await res.text();
      expect([what, res.status, res.headers.get('www-authenticate')]).toEqual([what, 401, 'Bearer realm="metrics"']);
      expect(body).not.toContain('switchyard_runs');
    }
    const first = await scrape(rt.url, METRICS_TOKEN);
    expect(first.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const before = parsePrometheusTextFormat(first.text) as Metrics;
    expect(sumOf(before, 'switchyard_runs_completed_total', { flow: 'mon-task' })).toBe(0);
    // Every figure the issue asks for is there, and the names follow Prometheus conventions:
    // a `switchyard_` prefix, counters in `_total`, durations in `_seconds`.
    const names = new Set(before.map((f) => f.name));
    for (const name of [
      'switchyard_runs_started_total', 'switchyard_runs_completed_total', 'switchyard_runs_failed_total', 'switchyard_runs_skipped_total',
      'switchyard_step_duration_seconds', 'switchyard_commit_latency_seconds', 'switchyard_commit_batch_size', 'switchyard_timer_lag_seconds',
      'switchyard_queue_depth', 'switchyard_lease_adoptions_total', 'switchyard_fencing_refusals_total', 'switchyard_model_calls_total',
      'switchyard_model_tokens_total', 'switchyard_model_latency_seconds', 'switchyard_agent_requests_total', 'switchyard_process_info',
    ]) expect(names.has(name), name).toBe(true);
    for (const f of before) {
      expect(f.name).toMatch(/^switchyard_[a-z0-9_]+$/);
      if (f.type === 'COUNTER') expect(f.name, f.name).toMatch(/_total$/);
      // prom-client's own Node figures name three gauges `nodejs_active_*_total` (documented in docs/monitoring.md).
      if (f.type !== 'COUNTER' && !f.name.startsWith('switchyard_nodejs_active_')) expect(f.name, f.name).not.toMatch(/_total$/);
      if (/latency|duration|lag/.test(f.name)) expect(f.name, f.name).toMatch(/_seconds(_total)?$/);
    }

    const done: string[] = [];
    for (let i = 0; i < 4; i++) done.push((await api.runs.start.mutate({ docId: 'mon-task' })).runId);
    const failed = (await api.runs.start.mutate({ docId: 'mon-fail' })).runId;
    const skipped = (await api.runs.start.mutate({ docId: 'mon-skip' })).runId;
    for (const id of done) await waitForRun(api, id, (r) => r.status === 'completed');
    await waitForRun(api, failed, (r) => r.status === 'failed');
    await waitForRun(api, skipped, (r) => r.status === 'skipped');

    // Suggestions: act on two, dismiss one, leave one.
    const notes = (await api.crm.notifications.list.query({ limit: 50 } as never)) as unknown as { items: { id: string; sourceRunId?: string | null }[] };
    const ours = notes.items.filter((n) => done.includes(n.sourceRunId ?? ''));
    expect(ours).toHaveLength(4);
    await api.crm.notifications.act.mutate({ id: ours[0]!.id, actionId: 'open' } as never);
    await api.crm.notifications.act.mutate({ id: ours[1]!.id, actionId: 'open' } as never);
    await api.crm.notifications.dismiss.mutate({ id: ours[2]!.id } as never);

    const period = { from: new Date(BUSINESS_HOURS - 86_400_000).toISOString(), to: new Date(BUSINESS_HOURS + 86_400_000).toISOString() };
    const m = await api.monitor.metrics.query(period);
    expect(m.runs).toMatchObject({ started: 6, completed: 4, failed: 1, skipped: 1, active: 0 });
    expect(m.runs.perFlow.find((f) => f.docId === 'mon-task')?.byStatus).toEqual({ completed: 4 });
    // Engagement: notifications of the period acted on / shown (demo data may add its own on PGlite).
    const e = m.success.engagement;
    const fromFlow = e.perBehavior.find((b) => b.behavior === 'mon-task');
    expect(fromFlow).toMatchObject({ shown: 4, acted: 2, dismissed: 1, rate: 0.5 });
    expect(e.perAction.find((x) => x.action === 'open')?.acted).toBe(2);
    // Time saved: 4 tasks and 4 notifications at the default minutes, per flow.
    const saved = m.success.timeSaved.perFlow.find((f) => f.docId === 'mon-task');
    expect(saved).toMatchObject({ steps: 8, minutes: 4 * 1 + 4 * 0.5 });
    // Estimates are editable per flow and change the figure.
    await api.monitor.setEstimate.mutate({ docId: 'mon-task', nodeType: 'action.createTask', minutes: 5 });
    const m2 = await api.monitor.metrics.query(period);
    expect(m2.success.timeSaved.perFlow.find((f) => f.docId === 'mon-task')?.minutes).toBe(4 * 5 + 4 * 0.5);
    expect(switchyardCode(await rejection(api.monitor.setEstimate.mutate({ docId: 'nope', nodeType: 'action.createTask', minutes: 1 })))).toBe('NOT_FOUND');

    if (backend === 'postgres') {
      // The same figures counted straight from the database.
      const db = new pg.Client({ connectionString: storage.env.DATABASE_URL });
      await db.connect();
      cleanup.push(() => db.end());
      const one = async (q: string) => Number((await db.query(q)).rows[0].n);
      expect(m.runs.completed).toBe(await one(`select count(*) as n from runs where status = 'completed'`));
      expect(m.runs.failed).toBe(await one(`select count(*) as n from runs where status = 'failed'`));
      expect(e.shown).toBe(await one('select count(*) as n from notifications'));
      expect(e.acted).toBe(await one('select count(*) as n from notifications where acted_at is not null'));
      expect(e.dismissed).toBe(await one('select count(*) as n from notifications where dismissed_at is not null'));
      expect(m.success.timeSaved.steps).toBe(await one(
        `select count(*) as n from effects where result is not null and kind in ('email', 'draft', 'task', 'contact', 'followUp', 'notification', 'webhook', 'memory')`));
    }

    // History: filters and the timeline of one run.
    const hist = await api.monitor.runs.query({ docId: 'mon-task' });
    expect(hist.items.map((r) => r.id).sort()).toEqual([...done].sort());
    expect((await api.monitor.runs.query({ status: 'failed' })).items.map((r) => r.id)).toEqual([failed]);
    expect((await api.monitor.runs.query({ trigger: 'manual', limit: 2 })).nextCursor).not.toBeNull();
    const tl = await api.monitor.run.query({ runId: done[0]! });
    expect(tl.run.status).toBe('completed');
    expect(tl.spans.map((s) => s.nodeId)).toEqual(['start', 'task', 'note']);
    const task = tl.spans.find((s) => s.nodeId === 'task')!;
    expect(task).toMatchObject({ status: 'succeeded', nodeType: 'action.createTask', params: { title: 'Call back' } });
    expect(task.endedAt).not.toBeNull();
    expect(task.effects).toHaveLength(1);
    expect(task.effects[0]?.record?.type).toBe('task');
    const hook = (await api.monitor.run.query({ runId: failed })).spans.find((s) => s.nodeId === 'hook')!;
    expect(hook.status).toBe('failed');
    expect(hook.error?.message).toBeTruthy();
    // Its retries: three attempts, the two backoffs between them drawn as waits ending at their due times.
    expect(hook.attempts).toBe(3);
    expect(hook.waits.map((w) => w.kind)).toEqual(['retry', 'retry']);
    for (const w of hook.waits) {
      expect(w.to).not.toBeNull();
      expect(w.until).not.toBeNull();
      expect(Date.parse(w.from)).toBeLessThanOrEqual(Date.parse(w.to!));
      expect(Date.parse(w.from)).toBeGreaterThanOrEqual(Date.parse(hook.startedAt));
    }
    expect(switchyardCode(await rejection(client(rt.url, OTHER_TOKEN).monitor.run.query({ runId: done[0]! })))).toBe('NOT_FOUND');

    // A run parked on an approval is a live actor, held by this process.
    const parked = (await api.runs.start.mutate({ docId: 'mon-approval' })).runId;
    await waitForRun(api, parked, (r) => r.status === 'waiting');
    const live = await api.monitor.actors.query({ kind: 'run' });
    expect(live.items.map((x) => x.id)).toEqual([parked]);
    expect(live.items[0]).toMatchObject({ status: 'waiting', waitsOn: [{ type: 'approval', nodeId: 'ok' }], ownerAlive: true });
    expect(live.processes.filter((x) => x.alive)).toHaveLength(1);

    // The counters moved with the runs.
    const after = parsePrometheusTextFormat((await scrape(rt.url, METRICS_TOKEN)).text) as Metrics;
    expect(sumOf(after, 'switchyard_runs_completed_total', { flow: 'mon-task' })).toBe(4);
    expect(sumOf(after, 'switchyard_runs_failed_total', { flow: 'mon-fail' })).toBe(1);
    expect(sumOf(after, 'switchyard_runs_skipped_total', { flow: 'mon-skip' })).toBe(1);
    expect(sumOf(after, 'switchyard_runs_started_total', { flow: 'mon-task' })).toBe(4);
    expect(sumOf(after, 'switchyard_runs_active', { status: 'waiting' })).toBe(1);
    expect(sumOf(after, 'switchyard_commit_batch_size')).toBeGreaterThan(0);
    expect(sumOf(after, 'switchyard_step_duration_seconds')).toBeGreaterThan(0);
    expect(after.find((f) => f.name === 'switchyard_process_info')?.metrics[0]?.labels?.database).toBe(backend);
  }, 180_000);
});
