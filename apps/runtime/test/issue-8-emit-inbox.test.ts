import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, client, freshStorage, spawnRuntime, waitForRun, type RuntimeProcess } from './host-support';
import { backends } from './support/test-db';

/**
 * `events.emit` stores the event, reads its triggers and delivers it to waiting runs in one
 * statement; the event is marked processed by that statement when no flow listens for it, and by
 * the insert of its run when it starts exactly one. A SIGKILL between storing the event and
 * inserting its run leaves it unprocessed: the restart's inbox drain starts the run, once. Once the
 * process knows the type's triggers, the same statement inserts the run: killed right after it, the
 * restart resumes that run, once.
 */
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

/** Inbox events stored and not processed yet (the `switchyard_queue_depth{queue="inbox"}` gauge). */
async function unprocessed(url: string) {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const m = /^switchyard_queue_depth\{queue="inbox"\} (\d+)$/m.exec(text);
  if (!m) throw new Error(`no inbox queue depth in /metrics:\n${text.slice(0, 500)}`);
  return Number(m[1]);
}

const FLOW = {
  schemaVersion: 1, id: 'inbox-task', kind: 'workflow', name: 'A task per email',
  nodes: [
    { id: 'start', type: 'trigger.emailReceived', position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Answer {{ trigger.subject }}' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'task' }],
};

describe.each(backends())('events.emit and the inbox (%s)', (backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('an event is processed when emit answers; killed between storing it and starting its run, the restart starts the run once', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN, SWITCHYARD_INSTANCE_ID: `inbox-${backend}` };
    let rt: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGTERM'));
    let api = client(rt.url);
    await api.flows.save.mutate({ document: FLOW as never });
    await api.flows.deploy.mutate({ docId: FLOW.id });

    // No flow listens for logins: stored processed by emit's one statement.
    const login = await api.events.emit.mutate({ type: 'user.login', payload: { at: '2026-01-07T15:00:00Z' } });
    expect(login.runs).toEqual([]);
    expect(await unprocessed(rt.url)).toBe(0);

    // An email starts one run: the run's insert marked the event processed before emit answered.
    const first = await api.events.emit.mutate({ type: 'email.received', payload: { emailId: 'inbox-1', from: 'ada@example.test', subject: 'One' } });
    expect(first.runs).toHaveLength(1);
    expect(await unprocessed(rt.url)).toBe(0);
    await waitForRun(api, first.runs[0]!.runId, (r) => r.status === 'completed');

    // Killed right after the event is stored, before its run is inserted.
    await rt.kill('SIGTERM');
    rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_INBOX: '1' });
    api = client(rt.url);
    const email = { type: 'email.received' as const, payload: { emailId: 'inbox-2', from: 'ada@example.test', subject: 'Two' } };
    await expect(api.events.emit.mutate(email)).rejects.toThrow();
    expect(await rt.exited).toBe(-1);

    // Restarted three hours later (the clock moved past more than a lease while it was down).
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 3 * 3_600_000) });
    api = client(rt.url);
    // The restart drained the inbox: the event's run exists (the same id a retry of the emit gets), and it completes.
    const again = await api.events.emit.mutate(email);
    expect(again.duplicate).toBe(true);
    expect(again.runs).toHaveLength(1);
    await waitForRun(api, again.runs[0]!.runId, (r) => r.status === 'completed');
    expect(await unprocessed(rt.url)).toBe(0);
    const tasks = (await api.crm.tasks.list.query({ limit: 100, search: 'Answer' } as never)) as unknown as { items: { title: string }[] };
    expect(tasks.items.map((t) => t.title).sort()).toEqual(['Answer One', 'Answer Two']);

    // Once a process knows the type's triggers, an event's run is inserted by the statement that
    // stores the event: killed right after that statement (the second email here), the run exists
    // and the event is processed, and the restart runs it, once.
    await rt.kill('SIGTERM');
    rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_INBOX: '2' });
    api = client(rt.url);
    const warm = await api.events.emit.mutate({ type: 'email.received', payload: { emailId: 'inbox-5', from: 'ada@example.test', subject: 'Five' } });
    await waitForRun(api, warm.runs[0]!.runId, (r) => r.status === 'completed');
    const six = { type: 'email.received' as const, payload: { emailId: 'inbox-6', from: 'ada@example.test', subject: 'Six' } };
    await expect(api.events.emit.mutate(six)).rejects.toThrow();
    expect(await rt.exited).toBe(-1);
    // Restarted hours later again: the run resumes from what the statement stored.
    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 6 * 3_600_000) });
    api = client(rt.url);
    expect(await unprocessed(rt.url)).toBe(0);
    const sixAgain = await api.events.emit.mutate(six);
    expect(sixAgain.duplicate).toBe(true);
    expect(sixAgain.runs).toHaveLength(1);
    await waitForRun(api, sixAgain.runs[0]!.runId, (r) => r.status === 'completed');
    const after = (await api.crm.tasks.list.query({ limit: 100, search: 'Answer' } as never)) as unknown as { items: { title: string }[] };
    expect(after.items.map((t) => t.title).sort()).toEqual(['Answer Five', 'Answer One', 'Answer Six', 'Answer Two']);
  }, 240_000);
});

describe.runIf(Boolean(process.env.DATABASE_URL))('an event whose process died before starting its run (postgres, two processes)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  const titles = async (api: ReturnType<typeof client>) =>
    ((await api.crm.tasks.list.query({ limit: 100, search: 'Answer' } as never)) as unknown as { items: { title: string }[] }).items.map((t) => t.title).sort();

  it('the retried emit on another process finishes it; without a retry, a live process finishes it within a lease', async () => {
    const storage = await freshStorage('postgres');
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_METRICS_TOKEN: METRICS_TOKEN, SWITCHYARD_LEASE_MS: '1500' };
    let a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'inbox-a', SWITCHYARD_CRASH_AFTER_INBOX: '1' });
    cleanup.push(() => a.kill('SIGTERM'));
    const b = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'inbox-b' });
    cleanup.push(() => b.kill('SIGTERM'));
    const apiB = client(b.url);
    await apiB.flows.save.mutate({ document: FLOW as never });
    await apiB.flows.deploy.mutate({ docId: FLOW.id });

    // A stores the event and dies; the client retries on B, which finds it stored and unfinished.
    const three = { type: 'email.received' as const, payload: { emailId: 'inbox-3', from: 'ada@example.test', subject: 'Three' } };
    await expect(client(a.url).events.emit.mutate(three)).rejects.toThrow();
    expect(await a.exited).toBe(-1);
    const retried = await apiB.events.emit.mutate(three);
    expect(retried.duplicate).toBe(true);
    expect(retried.runs).toHaveLength(1);
    await waitForRun(apiB, retried.runs[0]!.runId, (r) => r.status === 'completed');

    // Again, and nobody retries: B picks the event up once it is older than a lease.
    a = await spawnRuntime({ ...env, SWITCHYARD_INSTANCE_ID: 'inbox-a', SWITCHYARD_CRASH_AFTER_INBOX: '1' });
    const four = { type: 'email.received' as const, payload: { emailId: 'inbox-4', from: 'ada@example.test', subject: 'Four' } };
    await expect(client(a.url).events.emit.mutate(four)).rejects.toThrow();
    expect(await a.exited).toBe(-1);
    for (const end = Date.now() + 30_000; !(await titles(apiB)).includes('Answer Four');) {
      if (Date.now() > end) throw new Error(`B did not process the stranded event:\n${b.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(b.output()).toMatch(/processed events another process stored and did not finish/);
    expect(await unprocessed(b.url)).toBe(0);
    // Each email made its task once, however many processes looked at it.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await titles(apiB)).toEqual(['Answer Four', 'Answer Three']);
  }, 240_000);
});
