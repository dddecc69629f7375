import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { AFTER_HOURS, BUSINESS_HOURS, backendsUnderTest, client, freshStorage, loadTemplate, spawnRuntime, waitForRun, type Client } from './host-support';

const items = (x: unknown) => ((x as { items?: unknown[] }).items ?? (x as unknown[])) as Record<string, unknown>[];
const sourced = async (api: Client, runId: string) => {
  const [d, t, n] = await Promise.all([api.crm.drafts.list.query({} as never), api.crm.tasks.list.query({} as never), api.crm.notifications.list.query({} as never)]);
  const of = (rows: Record<string, unknown>[]) => rows.filter((r) => r.sourceRunId === runId).length;
  return { drafts: of(items(d)), tasks: of(items(t)), notifications: of(items(n)) };
};

describe.each(backendsUnderTest())('a crash between an effect and the next step (%s)', (backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  // The restart happens after business hours: a replay that re-decided the business-hours check
  // would skip the run although its draft exists. Persist before effect makes that impossible.
  it.each(['draft', 'review_task', 'notify'])('killed right after "%s" commits, restarted after business hours: exactly one draft, task and notification', async (node) => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_EFFECT: node });
    let api = client(rt.url);
    const tpl = await loadTemplate('auto-respond-important');
    await api.flows.save.mutate({ document: tpl.documents[0] as never });
    await api.flows.deploy.mutate({ docId: 'auto-respond-important' });
    await api.crm.contacts.create.mutate({ name: 'Dana Whitfield', email: 'dana@northwind.test' } as never);
    const emitted = api.events.emit.mutate({ type: 'email.received', payload: { from: 'dana@northwind.test', subject: 'Terms', isImportant: true, isUnread: true } });
    await emitted.catch(() => undefined); // the process may die before answering
    expect(await rt.exited).toBe(-1); // killed by SIGKILL from the fault hook

    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(AFTER_HOURS) });
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    const runs = await api.runs.list.query({ docId: 'auto-respond-important' });
    expect(runs.items).toHaveLength(1);
    const run = await waitForRun(api, runs.items[0]!.id, (r) => r.status === 'completed' || r.status === 'skipped');
    expect(run.status).toBe('completed');
    expect(run.nodes.business_hours?.state).toBe('succeeded');
    expect(await sourced(api, run.id)).toEqual({ drafts: 1, tasks: 1, notifications: 1 });
  });

  it('a notification that uses {{nodes.review_task.dueAt}} (read from the clock), killed right after the task, the clock moved: exactly one notification', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) };
    let rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_EFFECT: 'review_task' });
    let api = client(rt.url);
    await api.flows.save.mutate({
      document: {
        schemaVersion: 1, id: 'due-flow', kind: 'workflow', name: 'Due',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
          { id: 'review_task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Review', dueIn: '1 hour' } },
          { id: 'notify', type: 'action.sendNotification', position: { x: 400, y: 0 }, params: { title: 'Due at {{ nodes.review_task.dueAt }}' } },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'review_task' }, { id: 'e2', source: 'review_task', target: 'notify' }],
      } as never,
    });
    await api.flows.deploy.mutate({ docId: 'due-flow' });
    await api.runs.start.mutate({ docId: 'due-flow' }).catch(() => undefined);
    expect(await rt.exited).toBe(-1);

    rt = await spawnRuntime({ ...env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS + 37 * 60_000) });
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    const runId = (await api.runs.list.query({ docId: 'due-flow' })).items[0]!.id;
    await waitForRun(api, runId, (r) => r.status === 'completed');
    expect(await sourced(api, runId)).toEqual({ drafts: 0, tasks: 1, notifications: 1 });
  });

  it('an outbound webhook re-sent after a crash carries the same Idempotency-Key', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const port = (server.address() as AddressInfo).port;
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_OUTBOUND_ALLOW: `127.0.0.1:${port}` };
    let rt = await spawnRuntime({ ...env, SWITCHYARD_CRASH_AFTER_SEND: 'hook' });
    let api = client(rt.url);
    await api.flows.save.mutate({
      document: {
        schemaVersion: 1, id: 'hook-flow', kind: 'workflow', name: 'Hook',
        nodes: [
          { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
          { id: 'hook', type: 'action.webhook', position: { x: 200, y: 0 }, params: { url: `http://127.0.0.1:${port}/hook`, body: '{"hello":"world"}' } },
          { id: 'after', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Webhook answered {{ nodes.hook.status }}' } },
        ],
        edges: [{ id: 'e1', source: 'start', target: 'hook' }, { id: 'e2', source: 'hook', target: 'after' }],
      } as never,
    });
    await api.flows.deploy.mutate({ docId: 'hook-flow' });
    await api.runs.start.mutate({ docId: 'hook-flow' }).catch(() => undefined);
    expect(await rt.exited).toBe(-1);
    expect(seen).toHaveLength(1);

    rt = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    const runId = (await api.runs.list.query({ docId: 'hook-flow' })).items[0]!.id;
    const run = await waitForRun(api, runId, (r) => r.status === 'completed');
    expect(run.nodes.after?.output).toMatchObject({ title: 'Webhook answered 200' });
    expect(seen).toHaveLength(2);
    expect(seen[0]!['idempotency-key']).toMatch(/^[0-9a-f]{64}$/);
    expect(seen[1]!['idempotency-key']).toBe(seen[0]!['idempotency-key']);
  });
});
