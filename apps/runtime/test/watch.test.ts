import { beforeAll, describe, expect, it } from 'vitest';
import { TOKEN, useRuntime } from './host-support';

const approvalFlow = {
  schemaVersion: 1, id: 'watched', kind: 'workflow', name: 'Watched',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'ok', type: 'flow.approval', position: { x: 200, y: 0 }, params: { title: 'Go?' } },
    { id: 'done', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Approved' } },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'done' }],
};

/** Reads a tRPC SSE subscription with plain fetch, the way any HTTP client can. */
async function* sse(url: string, token: string | null) {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  if (!res.ok || !res.body) throw new Error(`SSE failed: ${res.status}`);
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) yield { event, data: JSON.parse(data) as unknown };
    }
  }
}

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
