import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN, useRuntime } from './host-support';
import { sse } from './support/sse';

const approvalFlow = {
  schemaVersion: 1, id: 'watched', kind: 'workflow', name: 'Watched',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go?' } },
    { id: 'done', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Approved' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'done' }],
};

describe('runs.watch streams live run state over SSE (pglite)', () => {
  const t = useRuntime('pglite');
  beforeAll(async () => {
    await t.api.flows.save.mutate({ document: approvalFlow as never });
    await t.api.flows.deploy.mutate({ docId: 'watched' });
  });

  it('yields the waiting approval, then the completed run after approve', async () => {
    const { runId } = await t.api.runs.start.mutate({ docId: 'watched' });
    const url = `${t.rt.url}/trpc/runs.watch?input=${encodeURIComponent(JSON.stringify({ runId }))}`;
    const seen: { status: string; nodes: Record<string, { state: string }> }[] = [];
    for await (const { data } of sse(url, TOKEN)) {
      const view = data as { status?: string; nodes?: Record<string, { state: string }> };
      if (!view.status) continue; // connection/keep-alive frames
      seen.push(view as never);
      if (view.status === 'waiting' && seen.length === 1) await t.api.runs.approve.mutate({ runId });
      if (view.status === 'completed') break;
    }
    expect(seen[0]).toMatchObject({ status: 'waiting', nodes: { ok: { state: 'waiting' } } });
    expect(seen.at(-1)).toMatchObject({ status: 'completed', nodes: { ok: { state: 'succeeded' }, done: { state: 'succeeded' } } });
  });

  it('refuses a subscription without a token', async () => {
    const res = await fetch(`${t.rt.url}/trpc/runs.watch?input=${encodeURIComponent(JSON.stringify({ runId: '00000000-0000-4000-8000-000000000000' }))}`, { headers: { accept: 'text/event-stream' } });
    const text = await res.text();
    expect(res.status === 401 || text.includes('UNAUTHORIZED')).toBe(true);
  });
});
