import { describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode, useRuntime, waitForRun, type Client } from './host-support';

/**
 * Issue 9, lifecycle: deleting a flow that had runs made its id unusable (save/import 500ed on
 * `runs_flow_id_fkey`); deleting or undeploying a flow did not stop its active runs: a run waiting
 * on approval stayed `waiting`, was approved afterwards and acted after the flow was gone.
 */
const simple = (id: string, title: string) => ({
  schemaVersion: 1, id, kind: 'workflow', name: `Simple ${id}`,
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'task' }],
});

/** Trigger -> human approval -> create a task (the stand-in for the welcome email). */
const approvalFlow = (id: string, trigger: { type: string; params?: Record<string, unknown> }, title: string) => ({
  schemaVersion: 1, id, kind: 'workflow', name: `Approval ${id}`,
  nodes: [
    { id: 'start', type: trigger.type, position: { x: 0, y: 0 }, params: trigger.params ?? {} },
    { id: 'approve', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go on?' } },
    { id: 'act', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'approve' },
    { id: 'e2', source: 'approve', sourceHandle: 'approved', target: 'act' },
  ],
});

const tasksTitled = async (api: Client, title: string) =>
  (await api.crm.tasks.list.query({ limit: 100, search: title })).items.filter((x: { title: string }) => x.title === title).length;

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected the call to fail'); }, (e: unknown) => e);

describe.each(backendsUnderTest())('issue 9: flow lifecycle (%s)', (backend) => {
  const t = useRuntime(backend);

  it('a deleted flow\'s id can be saved and imported again although its runs remain', async () => {
    await t.api.flows.save.mutate({ document: simple('reuse-me', 'Old task') as never });
    const old = await t.api.runs.start.mutate({ docId: 'reuse-me', draft: true });
    await waitForRun(t.api, old.runId, (r) => r.status === 'completed');
    await t.api.flows.delete.mutate({ docId: 'reuse-me' });

    // Save: a new flow with the same id, history starting again at version 1.
    const saved = await t.api.flows.save.mutate({ document: simple('reuse-me', 'New task') as never });
    expect(saved).toMatchObject({ version: 1, changed: true });
    expect((await t.api.flows.versions.query({ docId: 'reuse-me' })).items.map((v) => v.version)).toEqual([1]);
    const fresh = await t.api.runs.start.mutate({ docId: 'reuse-me', draft: true });
    expect((await waitForRun(t.api, fresh.runId, (r) => r.status === 'completed')).nodes.task?.output).toMatchObject({ title: 'New task' });
    // The old run keeps its history (and the version it ran).
    expect(await t.api.runs.get.query({ runId: old.runId })).toMatchObject({ status: 'completed', nodes: { task: { output: { title: 'Old task' } } } });

    // Import: the same again, twice over (a flow deleted twice, both with runs).
    await t.api.flows.delete.mutate({ docId: 'reuse-me' });
    const imported = await t.api.flows.import.mutate({ document: simple('reuse-me', 'Imported task') as never });
    expect(imported).toMatchObject({ version: 1, changed: true });
    // ...while an id in use still conflicts on import.
    expect(switchyardCode(await failure(t.api.flows.import.mutate({ document: simple('reuse-me', 'Again') as never })))).toBe('CONFLICT');
    expect((await t.api.flows.list.query()).items.filter((f) => f.docId === 'reuse-me').map((f) => f.version)).toEqual([1]);
    expect(await t.api.runs.get.query({ runId: fresh.runId })).toMatchObject({ status: 'completed' });
  });

  it('delete cancels active runs (journaled); approving afterwards is refused and nothing acts', async () => {
    await t.api.flows.save.mutate({ document: approvalFlow('delete-me', { type: 'trigger.manual' }, 'Welcome after delete') as never });
    await t.api.flows.deploy.mutate({ docId: 'delete-me' });
    const a = await t.api.runs.start.mutate({ docId: 'delete-me' });
    const b = await t.api.runs.start.mutate({ docId: 'delete-me' });
    for (const r of [a, b]) await waitForRun(t.api, r.runId, (x) => x.status === 'waiting');

    const deleted = await t.api.flows.delete.mutate({ docId: 'delete-me' });
    expect(deleted).toEqual({ docId: 'delete-me', deleted: true, cancelledRuns: 2 });
    for (const r of [a, b]) {
      expect((await t.api.runs.get.query({ runId: r.runId })).status).toBe('cancelled');
      const journal = (await t.api.runs.journal.query({ runId: r.runId })).items;
      expect(journal.some((j) => j.eventType === 'run.cancel')).toBe(true);
    }
    expect(switchyardCode(await failure(t.api.runs.approve.mutate({ runId: a.runId })))).toBe('INVALID_STATE');
    expect(await tasksTitled(t.api, 'Welcome after delete')).toBe(0);
    expect(switchyardCode(await failure(t.api.flows.get.query({ docId: 'delete-me' })))).toBe('NOT_FOUND');
  });

  it('undeploy lets active runs finish but starts nothing new', async () => {
    await t.api.flows.save.mutate({ document: approvalFlow('undeploy-me', { type: 'trigger.contactCreated' }, 'Welcome after undeploy') as never });
    await t.api.flows.deploy.mutate({ docId: 'undeploy-me' });
    const emitted = await t.api.events.emit.mutate({ type: 'contact.created', payload: { contactId: 'c-undeploy-1', name: 'Una Deploy', email: 'una@example.test' } });
    const runId = emitted.runs.find((r) => r.docId === 'undeploy-me')!.runId;
    await waitForRun(t.api, runId, (x) => x.status === 'waiting');

    const undeployed = await t.api.flows.undeploy.mutate({ docId: 'undeploy-me' });
    expect(undeployed).toMatchObject({ flow: { status: 'draft', deployedVersion: null }, activeRuns: 1 });
    // Nothing new: events do not start it, nor does a manual run of "the deployed version".
    const later = await t.api.events.emit.mutate({ type: 'contact.created', payload: { contactId: 'c-undeploy-2', name: 'Late', email: 'late@example.test' } });
    expect(later.runs.filter((r) => r.docId === 'undeploy-me')).toEqual([]);
    expect(switchyardCode(await failure(t.api.runs.start.mutate({ docId: 'undeploy-me' })))).toBe('INVALID_STATE');

    // The run already going is left alone: still waiting, and it finishes when approved.
    expect((await t.api.runs.get.query({ runId })).status).toBe('waiting');
    await t.api.runs.approve.mutate({ runId });
    await waitForRun(t.api, runId, (x) => x.status === 'completed');
    expect(await tasksTitled(t.api, 'Welcome after undeploy')).toBe(1);
  });

  it('delete input is validated and scoped to the caller', async () => {
    expect(switchyardCode(await failure(t.api.flows.delete.mutate({ docId: '' })))).toBe('BAD_INPUT');
    expect(switchyardCode(await failure(t.api.flows.delete.mutate({ docId: 'never-existed' })))).toBe('NOT_FOUND');
    expect(switchyardCode(await failure(t.api.flows.undeploy.mutate({ docId: 'never-existed' })))).toBe('NOT_FOUND');
  });
});
