import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { TemplateSchema } from '@switchyard/schema';
import { createActor, toPromise } from 'xstate';
import { compile } from './compiler/compile';
import { analyzePlan, createPlanMachine, planStepActor } from './plan';
import { createFakePorts } from './testing/fake-ports';
import { simulateRun } from './testing/run';

const templatesDir = new URL('../../../templates/', import.meta.url);
const load = (f: string) => TemplateSchema.parse(JSON.parse(readFileSync(new URL(f, templatesDir), 'utf8')));
const ALICE = { id: 'c1', name: 'Alice Doe', email: 'alice@acme.test', relationshipStrength: 0.8 };
const importantEmail = { from: 'alice@acme.test', to: ['me@x.test'], subject: 'Contract', body: 'Please review', isImportant: true, isUnread: true };

describe('compiled runs with fake ports', () => {
  const auto = compile(load('auto-respond-important.json').documents[0]).machine!;

  it('auto-respond: draft, task due in 1 hour, notification, in order', async () => {
    const fake = createFakePorts({ contacts: [ALICE] });
    const start = fake.ports.clock.now();
    const r = await simulateRun(auto, fake.ports, { triggerNodeId: 'trigger', payload: importantEmail });
    expect(r.status).toBe('completed');
    expect(fake.effects.map((e) => e.kind)).toEqual(['draft', 'task', 'notification']);
    expect((fake.effects[0]!.data as { subject: string }).subject).toBe('Re: Contract');
    const task = fake.effects[1]!.data as { title: string; priority: string; dueAt: string };
    expect(task).toMatchObject({ title: 'Review auto-drafted response', priority: 'high' });
    expect(Date.parse(task.dueAt) - start).toBe(3_600_000);
  });

  it('auto-respond outside business hours is skipped with its reason', async () => {
    const fake = createFakePorts({ contacts: [ALICE], now: Date.UTC(2026, 0, 7, 3, 0) });
    const r = await simulateRun(auto, fake.ports, { triggerNodeId: 'trigger', payload: importantEmail });
    expect(r.status).toBe('skipped');
    expect(r.context.skipReason).toMatch(/Outside business hours/);
    expect(fake.effects).toEqual([]);
  });

  it('auto-respond from an unknown sender is skipped', async () => {
    const fake = createFakePorts({ contacts: [ALICE] });
    const r = await simulateRun(auto, fake.ports, { triggerNodeId: 'trigger', payload: { ...importantEmail, from: 'who@else.test' } });
    expect(r.status).toBe('skipped');
    expect(r.context.skipReason).toMatch(/not a known contact/);
  });

  it('approval branches: approve sends, reject creates a task', async () => {
    const welcome = compile(load('welcome-new-contact.json').documents[0]).machine!;
    const payload = { name: 'Bob Stone', email: 'bob@x.test' };
    const a = createFakePorts();
    expect((await simulateRun(welcome, a.ports, { triggerNodeId: 'created', payload, decide: () => 'approve' })).status).toBe('completed');
    expect(a.effects.map((e) => e.kind)).toEqual(['email']);
    expect((a.effects[0]!.data as { subject: string }).subject).toBe('Welcome, Bob');
    const r = createFakePorts();
    await simulateRun(welcome, r.ports, { triggerNodeId: 'created', payload, decide: () => 'reject' });
    expect(r.effects.map((e) => e.kind)).toEqual(['task']);
  });

  it('retries with backoff, then continues on error when allowed', async () => {
    const doc = {
      schemaVersion: 1, id: 'r', kind: 'workflow', name: 'Retry',
      nodes: [
        { id: 'm', type: 'trigger.manual' },
        { id: 'w', type: 'action.webhook', params: { url: 'https://example.test/x', continueOnError: true, retry: { maxAttempts: 3, backoffMs: 100, factor: 2 } } },
        { id: 't', type: 'action.createTask', params: { title: 'after {{ nodes.w.error.message }}' } },
      ],
      edges: [{ id: 'e1', source: 'm', target: 'w' }, { id: 'e2', source: 'w', target: 't' }],
    };
    const fake = createFakePorts({ webhookStatus: 500 });
    const t0 = fake.ports.clock.now();
    const r = await simulateRun(compile(doc).machine!, fake.ports, { triggerNodeId: 'm', payload: {} });
    expect(r.status).toBe('completed');
    expect(r.context.nodes.w).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'OUTBOUND_FAILED' } });
    expect(fake.ports.clock.now() - t0).toBe(100 + 200);
    expect((fake.effects.at(-1)!.data as { title: string }).title).toBe('after The webhook answered HTTP 500');
  });

  it('a failing action without continue-on-error fails the run', async () => {
    const doc = {
      schemaVersion: 1, id: 'f', kind: 'workflow', name: 'Fail',
      nodes: [{ id: 'm', type: 'trigger.manual' }, { id: 'u', type: 'action.updateContact', params: { email: 'nobody@x.test' } }, { id: 't', type: 'action.createTask', params: { title: 'never' } }],
      edges: [{ id: 'e1', source: 'm', target: 'u' }, { id: 'e2', source: 'u', target: 't' }],
    };
    const fake = createFakePorts();
    const r = await simulateRun(compile(doc).machine!, fake.ports, { triggerNodeId: 'm', payload: {} });
    expect(r.status).toBe('failed');
    expect(r.context.failure).toMatchObject({ nodeId: 'u', code: 'NOT_FOUND' });
    expect(fake.effects).toEqual([]);
  });

  it('parallel branches join: the join runs once after both', async () => {
    const doc = {
      schemaVersion: 1, id: 'p', kind: 'workflow', name: 'Fork',
      nodes: [
        { id: 'm', type: 'trigger.manual' },
        { id: 'a', type: 'action.createTask', params: { title: 'a' } },
        { id: 'b', type: 'flow.delay', params: { duration: '5 minutes' } },
        { id: 'j', type: 'action.sendNotification', params: { title: 'joined {{ nodes.a.title }}' } },
      ],
      edges: [{ id: 'e1', source: 'm', target: 'a' }, { id: 'e2', source: 'm', target: 'b' }, { id: 'e3', source: 'a', target: 'j' }, { id: 'e4', source: 'b', target: 'j' }],
    };
    const fake = createFakePorts();
    const r = await simulateRun(compile(doc).machine!, fake.ports, { triggerNodeId: 'm', payload: {} });
    expect(r.status).toBe('completed');
    expect(fake.effects.map((e) => e.kind)).toEqual(['task', 'notification']);
  });

  it('every template parses, compiles and runs to a final state', async () => {
    for (const file of readdirSync(templatesDir).filter((f) => f.endsWith('.json'))) {
      const t = load(file);
      for (const doc of t.documents) {
        if (doc.kind === 'plan') {
          // A plan has no trigger: it is analysed and its steps run against a port that echoes a research result.
          const { plan, diagnostics } = analyzePlan(doc);
          expect(diagnostics, file).toEqual([]);
          const port = { runStep: async (req: { params: Record<string, unknown> }) => ({ profile: { email: ALICE.email, name: ALICE.name }, insights: [], params: req.params }) };
          const actor = createActor(createPlanMachine(plan!).provide({ actors: { runStep: planStepActor(port) } }), { input: { context: { contactId: ALICE.id } } }).start();
          expect((await toPromise(actor)).status, file).toBe('success');
          continue;
        }
        const { machine, diagnostics } = compile(doc);
        expect(diagnostics, file).toEqual([]);
        const trigger = machine!.triggers[0]!;
        const payload = trigger.listensTo === 'email.received' ? importantEmail : trigger.listensTo === 'contact.created' ? { name: 'Alice Doe', email: ALICE.email } : {};
        const r = await simulateRun(machine!, createFakePorts({ contacts: [ALICE] }).ports, { triggerNodeId: trigger.nodeId, payload });
        expect(['completed', 'skipped'], file).toContain(r.status);
      }
    }
  });
});
