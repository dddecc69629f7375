import { describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { OTHER_TOKEN, backendsUnderTest, client, loadTemplate, switchyardCode, useRuntime } from './host-support';

const valid = {
  schemaVersion: 1, id: 'simple', kind: 'workflow', name: 'Simple',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title: 'Hello' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'task' }],
};

type ApiError = Error & { data?: { code?: string; switchyard?: { code: string; issues: { path: (string | number)[] }[] } } };
const rejects = async (p: Promise<unknown>): Promise<ApiError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TRPCClientError);
    return e as ApiError;
  }
  throw new Error('expected the call to fail');
};

describe.each(backendsUnderTest())('flows, runs and events API (%s)', (backend) => {
  const t = useRuntime(backend);

  it('saves versions, lists, exports/imports identically, restores an old version', async () => {
    const v1 = await t.api.flows.save.mutate({ document: valid as never });
    expect(v1).toMatchObject({ version: 1, changed: true, diagnostics: [] });
    expect((await t.api.flows.save.mutate({ document: valid as never })).changed).toBe(false);
    const v2 = await t.api.flows.save.mutate({ document: { ...valid, name: 'Simple 2' } as never, expectedVersion: 1 });
    expect(v2.version).toBe(2);
    const list = await t.api.flows.list.query();
    expect(list.items.map((f) => [f.docId, f.name, f.version, f.status])).toEqual([['simple', 'Simple 2', 2, 'draft']]);
    expect((await t.api.flows.versions.query({ docId: 'simple' })).items.map((v) => v.version)).toEqual([2, 1]);

    const exported = (await t.api.flows.export.query({ docId: 'simple', version: 1 })).document;
    const copy = { ...exported, id: 'simple-copy' };
    await t.api.flows.import.mutate({ document: copy as never });
    expect((await t.api.flows.export.query({ docId: 'simple-copy' })).document).toEqual({ ...copy, version: 1 });
    expect(switchyardCode(await rejects(t.api.flows.import.mutate({ document: copy as never })))).toBe('CONFLICT');

    // Restore = save the old version's document as the newest version.
    await t.api.flows.save.mutate({ document: exported as never, note: 'Restored v1' });
    expect((await t.api.flows.get.query({ docId: 'simple' })).document.name).toBe('Simple');
  });

  it('malformed documents get BAD_INPUT with zod paths, and nothing stored changes', async () => {
    const before = JSON.stringify(await t.api.flows.list.query());
    const bad = [
      { ...valid, nodes: [{ ...valid.nodes[0], id: '' }] },
      { ...valid, kind: 'spaceship' },
      { ...valid, schemaVersion: 9 },
      { ...valid, name: '' },
      'not even an object',
    ];
    for (const document of bad) {
      const e = await rejects(t.api.flows.save.mutate({ document: document as never }));
      expect(e.data?.code).toBe('BAD_REQUEST');
      expect(switchyardCode(e)).toBe('BAD_INPUT');
      const issues = e.data!.switchyard!.issues;
      expect(issues.length).toBeGreaterThan(0);
      expect(issues[0]!.path[0]).toBe('document');
    }
    expect(JSON.stringify(await t.api.flows.list.query())).toBe(before);
  });

  it('deploy is refused while the graph has errors, and nothing changes', async () => {
    const broken = { ...valid, id: 'broken', nodes: [valid.nodes[1]], edges: [] };
    const saved = await t.api.flows.save.mutate({ document: broken as never });
    expect(saved.diagnostics.map((d) => d.code)).toContain('missing-trigger');
    const e = await rejects(t.api.flows.deploy.mutate({ docId: 'broken' }));
    expect(switchyardCode(e)).toBe('INVALID_DOCUMENT');
    expect(e.data?.code).toBe('UNPROCESSABLE_CONTENT');
    expect((await t.api.flows.get.query({ docId: 'broken' })).flow.status).toBe('draft');
  });

  it('validate/compile return typed diagnostics for garbage instead of failing', async () => {
    const { diagnostics } = await t.api.flows.validate.mutate({ document: { nodes: 5 } });
    expect(diagnostics.every((d) => d.code === 'invalid-document')).toBe(true);
    const compiled = await t.api.flows.compile.mutate({ document: valid });
    expect(compiled.machine?.config).toMatchObject({ id: 'run' });
  });

  it('malformed events and run inputs get typed errors; unknown ids are NOT_FOUND', async () => {
    expect(switchyardCode(await rejects(t.api.events.emit.mutate({ type: 'email.received', payload: { from: 'not-an-email' } } as never)))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejects(t.api.events.emit.mutate({ type: 'nope', payload: {} } as never)))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejects(t.api.runs.get.query({ runId: '00000000-0000-4000-8000-000000000000' })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejects(t.api.runs.get.query({ runId: 'x' } as never)))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejects(t.api.runs.start.mutate({ docId: 'nope' })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejects(t.api.runs.start.mutate({ docId: 'simple' })))).toBe('INVALID_STATE');
    const tpl = await loadTemplate('auto-respond-important');
    await t.api.flows.save.mutate({ document: tpl.documents[0] as never });
    const e = await rejects(t.api.runs.start.mutate({ docId: 'auto-respond-important', draft: true, payload: { from: 42 } }));
    expect(switchyardCode(e)).toBe('BAD_INPUT');
    expect(e.data!.switchyard!.issues[0]!.path).toEqual(['payload', 'from']);
  });

  it('manual runs, approvals of a run that is not waiting, cancel', async () => {
    const started = await t.api.runs.start.mutate({ docId: 'simple', draft: true });
    const e = await rejects(t.api.runs.approve.mutate({ runId: started.runId }));
    expect(switchyardCode(e)).toBe('INVALID_STATE');
    const list = await t.api.runs.list.query({ docId: 'simple' });
    expect(list.items[0]!.id).toBe(started.runId);
  });

  it('one user never sees another user\'s flows or runs', async () => {
    const other = client(t.rt.url, OTHER_TOKEN);
    expect((await other.flows.list.query()).items).toEqual([]);
    expect(switchyardCode(await rejects(other.flows.get.query({ docId: 'simple' })))).toBe('NOT_FOUND');
    const mine = (await t.api.runs.list.query()).items[0]!;
    expect(switchyardCode(await rejects(other.runs.get.query({ runId: mine.id })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejects(other.runs.cancel.mutate({ runId: mine.id })))).toBe('NOT_FOUND');
    // The other user's own flow with the same id is independent.
    await other.flows.save.mutate({ document: valid as never });
    expect((await other.flows.get.query({ docId: 'simple' })).flow.version).toBe(1);
    expect((await t.api.flows.get.query({ docId: 'simple' })).flow.version).toBeGreaterThan(1);
  });
});
