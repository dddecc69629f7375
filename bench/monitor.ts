import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Browser } from 'playwright-core';
import { createTRPCClient, httpLink } from '@trpc/client';
import type { AppRouter } from '../apps/runtime/src/router';
import { openDatabase } from '../apps/runtime/src/db/database';
import { sql } from '../apps/runtime/src/host/db';
import { launchBrowser, newPage, startRuntime, type Runtime } from '../e2e/support';
import { findChromium } from '../e2e/chromium.mjs';
import type { Figure } from './harness';

/**
 * The Monitor page with 10,000 runs in history and 1,000 live actors (issue 13), against the same
 * page for a user with 10 runs and 10 live actors in the same runtime (the baseline): everything is
 * scoped per user, so both are measured in one process, rounds alternated.
 *
 * Seeding: each user runs a quick flow and a flow that waits a day once through the API; the
 * runtime is stopped and those runs are cloned in the database (new ids, rewritten in their
 * snapshots and journals, started over the last 29 days), timers included, then the runtime is
 * started again on it. The waiting clones are live actors (parked: a timer wakes them).
 */
const BIG = { history: 10_000, live: 1_000 };
const SMALL = { history: 10, live: 10 };
const SMALL_TOKEN = 'bench-small-user-token-0123456789';

const api = (rt: Pick<Runtime, 'baseUrl'>, token: string) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${rt.baseUrl}/trpc`, headers: () => ({ Authorization: `Bearer ${token}` }) })] });
type Api = ReturnType<typeof api>;

const node = (id: string, type: string, x: number, params: Record<string, unknown> = {}) => ({ id, type, typeVersion: 1, position: { x, y: 0 }, params });
const QUICK = {
  schemaVersion: 1, id: 'bench-quick', kind: 'workflow', name: 'Quick check', description: '', version: 1, settings: {},
  nodes: [node('start', 'trigger.manual', 0), node('check', 'condition.expression', 250, { expression: 'true' }), node('done', 'condition.expression', 500, { expression: 'true' })],
  edges: [{ id: 'e1', source: 'start', target: 'check' }, { id: 'e2', source: 'check', target: 'done' }],
};
const WAITS = {
  schemaVersion: 1, id: 'bench-waits', kind: 'workflow', name: 'Waits a day', description: '', version: 1, settings: {},
  nodes: [node('start', 'trigger.manual', 0), node('wait', 'flow.delay', 250, { duration: '1 day' }), node('task', 'action.createTask', 500, { title: 'Tomorrow' })],
  edges: [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }],
};

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`monitor bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One finished quick run and one run waiting on its delay, for a user: the templates to clone. */
async function templates(client: Api) {
  for (const doc of [QUICK, WAITS]) {
    await client.flows.save.mutate({ document: doc as never });
    await client.flows.deploy.mutate({ docId: doc.id });
  }
  const quick = (await client.runs.start.mutate({ docId: QUICK.id })).runId;
  const waits = (await client.runs.start.mutate({ docId: WAITS.id })).runId;
  await until('the template runs', async () => (await client.runs.get.query({ runId: quick })).status === 'completed' && (await client.runs.get.query({ runId: waits })).status === 'waiting');
  return { quick, waits };
}

/** A tRPC SSE subscription read with fetch: each `data:` block parsed. */
async function* sse(url: string, token: string, signal: AbortSignal) {
  const res = await fetch(url, { signal, headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` } });
  if (!res.ok || !res.body) throw new Error(`SSE failed: ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) yield { data: JSON.parse(data) as unknown };
    }
  }
}

async function columns(em: EntityManager, table: string) {
  return (await sql<{ c: string }>(em, `select column_name as c from information_schema.columns where table_schema = current_schema() and table_name = ? order by ordinal_position`, [table])).map((r) => r.c);
}

/**
 * Clones run `template` `n` times: the run row, its journal and its timers, with new ids (also
 * inside snapshots, deltas and step data) and, with `spreadDays`, start times spread back over
 * that many days.
 */
async function cloneRun(em: EntityManager, template: string, n: number, spreadDays: number) {
  await sql(em, 'drop table if exists bench_map');
  await sql(em, `create temp table bench_map as
    select gen_random_uuid() as new_id, ?::uuid as old_id, (random() * ? * interval '1 day') as shift from generate_series(1, ?)`, [template, spreadDays, n]);
  const swap = (col: string) => `replace(t.${col}::text, m.old_id::text, m.new_id::text)::jsonb`;
  const clone = async (table: string, idCol: string, overrides: Record<string, string>) => {
    const cols = (await columns(em, table)).filter((c) => !(table === 'run_journal' && c === 'id'));
    const exprs = cols.map((c) => (c === idCol ? 'm.new_id' : overrides[c] ?? `t.${c}`));
    await sql(em, `insert into ${table} (${cols.join(', ')}) select ${exprs.join(', ')} from ${table} t join bench_map m on t.${idCol} = m.old_id`);
  };
  const shifted = (c: string) => `t.${c} - m.shift`;
  await clone('runs', 'id', { snapshot: swap('snapshot'), started_at: shifted('started_at'), updated_at: shifted('updated_at'), finished_at: shifted('finished_at') });
  await clone('run_journal', 'run_id', { snapshot: swap('snapshot'), data: swap('data'), delta: swap('delta'), value: swap('value'), at: shifted('at') });
  await clone('timers', 'run_id', {});
  await sql(em, 'drop table bench_map');
}

interface PageTiming { liveMs: number; historyMs: number; metricsMs: number }

/** Opens the Monitor page's three tabs as `token`'s user; each timed until its rows are drawn. */
async function openMonitor(browser: Browser, rt: Runtime, token: string): Promise<PageTiming> {
  const { context, page } = await newPage(browser);
  try {
    await page.setViewportSize({ width: 1440, height: 900 });
    const time = async (path: string, ready: string) => {
      const t0 = Date.now();
      await page.goto(`${rt.baseUrl}${path}?token=${encodeURIComponent(token)}`);
      await page.locator(ready).first().waitFor({ timeout: 120_000 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      return Date.now() - t0;
    };
    return {
      liveMs: await time('/monitor', '[data-testid="actor-row"][data-kind="run"]'),
      historyMs: await time('/monitor/history', '[data-testid="history-row"]'),
      metricsMs: await time('/monitor/metrics', '[data-testid="kpi-completion-value"]'),
    };
  } finally {
    await context.close();
  }
}

/**
 * `monitor.live` for runs: the time from starting a run to the pushed page that lists it, and the
 * pages pushed per second while runs start back to back for `burstMs`.
 */
async function liveUpdates(rt: Runtime, token: string, client: Api, rounds: number, burstMs: number) {
  const ac = new AbortController();
  const input = encodeURIComponent(JSON.stringify({ kind: 'run', limit: 100 }));
  const stream = sse(`${rt.baseUrl}/trpc/monitor.live?input=${input}`, token, ac.signal);
  const pages: { at: number; ids: Set<string> }[] = [];
  let failure: unknown = null;
  const reading = (async () => {
    for await (const ev of stream) {
      const items = (ev.data as { items?: { id: string }[] }).items;
      if (items) pages.push({ at: performance.now(), ids: new Set(items.map((i) => i.id)) });
    }
  })().catch((e: unknown) => {
    if (!ac.signal.aborted) failure = e;
  });
  try {
    await until('the first live page', async () => pages.length > 0 || Boolean(failure));
    const latencies: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const { runId } = await client.runs.start.mutate({ docId: WAITS.id });
      const seen = await until('the new run in a pushed page', async () => pages.find((p) => p.at >= t0 && p.ids.has(runId)) ?? (failure ? { at: NaN } : null), 30_000);
      latencies.push(seen.at - t0);
    }
    const from = performance.now();
    const before = pages.length;
    while (performance.now() - from < burstMs) await client.runs.start.mutate({ docId: WAITS.id });
    await new Promise((r) => setTimeout(r, 300));
    const pushes = pages.slice(before).filter((p) => p.at <= from + burstMs + 300).length;
    const sorted = [...latencies].sort((a, b) => a - b);
    return { latencyMs: sorted[Math.floor(sorted.length / 2)]!, pushesPerSecond: pushes / ((burstMs + 300) / 1000) };
  } finally {
    ac.abort();
    await reading;
  }
}

/** `monitor.actors` (what each push costs the server) and `monitor.runs`, median of `n` calls. */
async function queryMs(f: () => Promise<unknown>, n = 5) {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    xs.push(performance.now() - t0);
  }
  return xs.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

export async function monitorBenchmarks(): Promise<Figure[]> {
  if (!(await findChromium())) {
    console.log('monitor bench skipped: no Chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
    return [];
  }
  if (process.env.E2E_DATABASE_URL) {
    // The runs are cloned straight into the runtime's embedded database between two starts.
    console.log('monitor bench skipped: it seeds an embedded database; unset E2E_DATABASE_URL');
    return [];
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'switchyard-bench-monitor-'));
  const env = { SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_USERS: `small:${SMALL_TOKEN}`, SWITCHYARD_PARK_AFTER_MS: '1000' };
  let rt = await startRuntime({ name: 'bench-monitor-seed', env });
  let big: { quick: string; waits: string };
  let small: { quick: string; waits: string };
  try {
    big = await templates(api(rt, rt.token));
    small = await templates(api(rt, SMALL_TOKEN));
  } finally {
    await rt.stop();
  }
  const t0 = performance.now();
  const db = await openDatabase({ databaseUrl: undefined, dataDir });
  try {
    const em = db.orm.em.fork() as unknown as EntityManager;
    await cloneRun(em, big.quick, BIG.history - 1, 29);
    await cloneRun(em, big.waits, BIG.live - 1, 0);
    await cloneRun(em, small.quick, SMALL.history - 1, 29);
    await cloneRun(em, small.waits, SMALL.live - 1, 0);
    await sql(em, 'analyze');
  } finally {
    await db.close();
  }
  console.log(`monitor bench: seeded ${BIG.history + BIG.live} and ${SMALL.history + SMALL.live} runs in ${Math.round(performance.now() - t0)} ms`);

  rt = await startRuntime({ name: 'bench-monitor', env });
  const browser = await launchBrowser();
  try {
    const bigApi = api(rt, rt.token);
    const smallApi = api(rt, SMALL_TOKEN);
    const live = await bigApi.monitor.actors.query({ kind: 'run', limit: 1 });
    const history = await bigApi.monitor.runs.query({ limit: 1 });
    console.log(`monitor bench: the big user has ${live.totals ? JSON.stringify(live.totals) : '?'} live runs; history page of ${history.items.length}`);
    const pages: Record<'big' | 'small', PageTiming[]> = { big: [], small: [] };
    for (let round = 0; round < 3; round++) {
      for (const who of round % 2 ? (['small', 'big'] as const) : (['big', 'small'] as const)) {
        pages[who].push(await openMonitor(browser, rt, who === 'big' ? rt.token : SMALL_TOKEN));
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const page = (who: 'big' | 'small', k: keyof PageTiming) => med(pages[who].map((p) => p[k]));
    const actors = { big: await queryMs(() => bigApi.monitor.actors.query({ limit: 100 })), small: await queryMs(() => smallApi.monitor.actors.query({ limit: 100 })) };
    const runs = { big: await queryMs(() => bigApi.monitor.runs.query({ limit: 50 })), small: await queryMs(() => smallApi.monitor.runs.query({ limit: 50 })) };
    const smallLive = await liveUpdates(rt, SMALL_TOKEN, smallApi, 5, 3000);
    const bigLive = await liveUpdates(rt, rt.token, bigApi, 5, 3000);
    const time = (name: string, ours: number, baseline: number): Figure => ({
      group: 'monitor', name, unit: 'ms', ours, baseline, baselineName: `${SMALL.history} runs, ${SMALL.live} live`, ratio: baseline / ours,
    });
    return [
      time(`Monitor page, live actors: load with ${BIG.history.toLocaleString('en-US')} runs, ${BIG.live.toLocaleString('en-US')} live`, page('big', 'liveMs'), page('small', 'liveMs')),
      time('Monitor page, run history: load', page('big', 'historyMs'), page('small', 'historyMs')),
      time('Monitor page, metrics (30 days): load', page('big', 'metricsMs'), page('small', 'metricsMs')),
      time('monitor.actors (first 100): query', actors.big, actors.small),
      time('monitor.runs (first 50): query', runs.big, runs.small),
      time('monitor.live: run started -> pushed page', bigLive.latencyMs, smallLive.latencyMs),
      {
        group: 'monitor', name: 'monitor.live: pages pushed per second while runs start', unit: '/s', ours: bigLive.pushesPerSecond, baseline: smallLive.pushesPerSecond,
        baselineName: `${SMALL.history} runs, ${SMALL.live} live`, ratio: bigLive.pushesPerSecond / smallLive.pushesPerSecond,
      },
    ];
  } finally {
    await browser.close();
    await rt.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
