import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, setClock, useRuntime, waitForRun } from './host-support';

/** The signing scheme (docs/runtime.md): HMAC-SHA256 over `<unix seconds>.<body>`. */
const signed = (secret: string, body: string, ts = Math.floor(BUSINESS_HOURS / 1000)) => ({
  'content-type': 'application/json',
  'x-switchyard-timestamp': String(ts),
  'x-switchyard-signature': `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`,
});

const hookFlow = {
  schemaVersion: 1, id: 'inbound-hook', kind: 'workflow', name: 'Inbound hook',
  nodes: [
    { id: 'hook', type: 'trigger.webhook', position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Order {{ trigger.body.order }}' } },
  ],
  edges: [{ id: 'e1', source: 'hook', target: 'task' }],
};

const outboundFlow = (url: string) => ({
  schemaVersion: 1, id: `out-${Buffer.from(url).toString('hex').slice(0, 40)}`, kind: 'workflow', name: `Call ${url}`,
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'call', type: 'action.webhook', position: { x: 200, y: 0 }, params: { url } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'call' }],
});

describe.each(backendsUnderTest())('webhooks (%s)', (backend) => {
  const t = useRuntime(backend);

  it('a signed request to the webhook trigger starts a run; a bad signature is refused', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    await t.api.flows.save.mutate({ document: hookFlow as never });
    const deployed = await t.api.flows.deploy.mutate({ docId: 'inbound-hook' });
    const hook = deployed.webhooks[0]!;
    const secret = hook.secret!;
    expect(hook.url.startsWith(`${t.rt.url}/hooks/`)).toBe(true);
    const body = JSON.stringify({ order: 'A-17' });
    const bad = await fetch(hook.url, { method: 'POST', headers: { ...signed(secret, body), 'x-switchyard-signature': 'sha256=00' }, body });
    expect(bad.status).toBe(401);
    const ok = await fetch(hook.url, { method: 'POST', headers: signed(secret, body), body });
    expect(ok.status).toBe(202);
    const { runId } = (await ok.json()) as { runId: string };
    const run = await waitForRun(t.api, runId, (r) => r.status === 'completed');
    expect(run.nodes.task?.output).toMatchObject({ title: 'Order A-17' });
    // A retried delivery (signed again, so with a new timestamp) with the same Idempotency-Key maps to one run.
    const send = (ts: number) => fetch(hook.url, { method: 'POST', headers: { ...signed(secret, body, ts), 'idempotency-key': 'delivery-1' }, body });
    const first = (await (await send(Math.floor(BUSINESS_HOURS / 1000) + 1)).json()) as { runId: string; duplicate: boolean };
    const again = (await (await send(Math.floor(BUSINESS_HOURS / 1000) + 2)).json()) as { runId: string; duplicate: boolean };
    expect([first.duplicate, again.duplicate, again.runId]).toEqual([false, true, first.runId]);
    // The secret is write-only: reading the flow never returns it.
    expect(JSON.stringify(await t.api.flows.get.query({ docId: 'inbound-hook' }))).not.toContain(secret);
    expect((await fetch(`${t.rt.url}/hooks/00000000-0000-4000-8000-000000000000`, { method: 'POST', body })).status).toBe(404);
  });

  it.each(['http://127.0.0.1:9/x', 'http://[::1]:9/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data', 'http://localhost:9/x'])(
    'the webhook action refuses %s before connecting', async (url) => {
      const doc = outboundFlow(url);
      await t.api.flows.save.mutate({ document: doc as never });
      await t.api.flows.deploy.mutate({ docId: doc.id });
      const { runId } = await t.api.runs.start.mutate({ docId: doc.id });
      const run = await waitForRun(t.api, runId, (r) => r.status === 'failed');
      expect(run.error).toMatchObject({ nodeId: 'call', code: 'OUTBOUND_BLOCKED' });
    });
});
