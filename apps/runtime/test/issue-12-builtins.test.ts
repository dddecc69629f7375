import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, waitForRun } from './host-support';
import { startPlansServer, type PlansServer } from './issue-11-support';
import type { RuntimeClock } from '../src/host/clock';
import { BUILTIN_TEMPLATES_DIR } from '../src/templates/wiring';

/** A Wednesday, 15:00 UTC: inside business hours. */
const NOW = Date.UTC(2026, 0, 7, 15, 0);
const BUILTINS = readdirSync(BUILTIN_TEMPLATES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();

/**
 * Issue 12: "built-in templates that really work end to end". Every file in templates/ is
 * installed from the catalog with its defaults (and a value for each required setting), its
 * flows deployed, and each flow started on the real runtime with a payload of its trigger's kind:
 * no step fails, and each ends completed, skipped by its condition, or waiting (an approval, a
 * behavior idle between activations). The plan runs to success on a contact.
 */
describe.each(backendsUnderTest())('issue 12: every built-in template installs and runs (%s)', (backend) => {
  let s: PlansServer;
  let hooks: Server;
  const received: string[] = [];
  let alice: { id: string; name: string; email: string };

  beforeAll(async () => {
    hooks = createServer((req, res) => {
      received.push(req.url ?? '');
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    s = await startPlansServer(backend, { env: { SWITCHYARD_OUTBOUND_ALLOW: `127.0.0.1:${(hooks.address() as AddressInfo).port}` } });
    (s.server.services.clock as RuntimeClock).set(NOW);
    alice = await s.api.crm.contacts.create.mutate({ name: 'Alice Doe', email: 'alice@acme.test', company: 'Acme', title: 'CTO', relationshipStrength: 0.8 });
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
    await new Promise((r) => hooks?.close(r));
  });

  it('there are at least 10, including the seed\'s Sales Assistant and Meeting Scheduler, auto-respond, the proactive behaviors and a plan', () => {
    expect(BUILTINS.length).toBeGreaterThanOrEqual(10);
    expect(BUILTINS).toEqual(expect.arrayContaining(['sales-assistant', 'meeting-scheduler', 'auto-respond-important', 'dormant-contact-reactivation', 'follow-up-reminders', 'research-and-reach-out']));
  });

  it.each(BUILTINS)('%s', async (id) => {
    const t = await s.api.templates.get.query({ id });
    const required: Record<string, unknown> = {
      product: 'Switchyard Pro', url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hooks/${id}`,
    };
    const variables = Object.fromEntries(t.variables.filter((v) => v.required && v.default === undefined).map((v) => [v.key, required[v.key]]));
    const { install, failed } = await s.api.templates.install.mutate({ id, variables, acceptPermissions: t.permissions, deploy: true });
    expect(failed).toEqual([]);
    expect(install.flows.length + install.agents.length).toBeGreaterThan(0);

    for (const flow of install.flows) {
      const { document, flow: row } = await s.api.flows.get.query({ docId: flow.docId });
      if (document.kind === 'plan') {
        const run = await s.api.plans.run.mutate({ docId: flow.docId, context: { contactId: alice.id }, wait: true });
        expect(run.status, `${id}: plan`).toBe('success');
        continue;
      }
      expect(row.status, `${id}: ${flow.docId} deployed`).toBe('deployed');
      const trigger = document.nodes.find((n) => n.type.startsWith('trigger.'))!;
      const emailId = `${id}-${flow.docId}`;
      const payload: Record<string, unknown> = {
        'trigger.emailReceived': { emailId, from: alice.email, to: ['me@x.test'], subject: 'Urgent: can we schedule a meeting about the contract?', body: 'Please review it asap and propose a call.', isImportant: true, isUnread: true },
        'trigger.emailSent': { emailId, from: 'me@x.test', to: [alice.email], subject: 'Our proposal', body: 'Here is the proposal.' },
        'trigger.contactCreated': { contactId: alice.id, name: alice.name, email: alice.email },
      }[trigger.type] as Record<string, unknown> ?? {};
      const { runId } = await s.api.runs.start.mutate({ docId: flow.docId, triggerNodeId: trigger.id, payload });
      const delays = new Set(document.nodes.filter((n) => n.type === 'flow.delay').map((n) => n.id));
      const busy = (r: { nodes: Record<string, { state: string }> }) => Object.entries(r.nodes).filter(([, n]) => n.state === 'running').map(([k]) => k);
      // Settled: nothing running but a delay; a run waiting on one has the clock moved past it.
      const settled = (r: { status: string; nodes: Record<string, { state: string }> }) => r.status !== 'running' && busy(r).every((k) => delays.has(k));
      let run = await waitForRun(s.api as never, runId, settled as never);
      if (busy(run as never).length) {
        const clock = s.server.services.clock as RuntimeClock;
        clock.set(clock.now() + 3 * 3_600_000);
        run = await waitForRun(s.api as never, runId, ((r: { status: string; nodes: Record<string, { state: string }> }) => r.status !== 'running' && busy(r).length === 0) as never);
      }
      const nodes = run.nodes as Record<string, { state: string; error?: unknown }>;
      const failedNodes = Object.entries(nodes).filter(([, n]) => n.state === 'failed').map(([k, n]) => `${k}: ${JSON.stringify(n.error)}`);
      expect(failedNodes, `${id}: ${flow.docId}`).toEqual([]);
      expect(['completed', 'skipped', 'waiting'], `${id}: ${flow.docId} ended ${run.status}`).toContain(run.status);
      if (run.status === 'completed') expect(Object.values(nodes).some((n) => n.state === 'succeeded'), `${id}: something ran`).toBe(true);
    }
  });
});
