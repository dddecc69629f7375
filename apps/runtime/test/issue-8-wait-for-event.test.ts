import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, waitForRun, type Backend, type Client, type RuntimeProcess } from './host-support';

const HOUR = 3_600_000;

/** A sent email waits for the reply in its thread (or gives up after a day), then records a task. */
const replyFlow = {
  schemaVersion: 1, id: 'await-reply', kind: 'workflow', name: 'Await the reply',
  nodes: [
    { id: 'sent', type: 'trigger.emailSent', position: { x: 0, y: 0 }, params: {} },
    { id: 'reply', type: 'flow.waitForEvent', position: { x: 200, y: 0 }, params: { event: 'email.received', field: 'threadId', key: '{{ trigger.threadId }}', timeout: '1 day' } },
    { id: 'got', type: 'action.createTask', position: { x: 400, y: 0 }, params: { title: 'Reply from {{ nodes.reply.from }}: {{ nodes.reply.subject }}' } },
    { id: 'chase', type: 'action.createTask', position: { x: 400, y: 150 }, params: { title: 'No reply in thread {{ trigger.threadId }}' } },
  ],
  edges: [
    { id: 'e1', source: 'sent', target: 'reply' },
    { id: 'e2', source: 'reply', sourceHandle: 'out', target: 'got' },
    { id: 'e3', source: 'reply', sourceHandle: 'timeout', target: 'chase' },
  ],
};

async function tasks(api: Client) {
  const page = (await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { sourceRunId: string; title: string }[] };
  return page.items;
}
const sent = (threadId: string) => ({ type: 'email.sent' as const, payload: { threadId, to: ['dana@northwind.test'], subject: `Proposal ${threadId}` } });
const received = (threadId: string, subject: string) => ({ type: 'email.received' as const, payload: { threadId, from: 'dana@northwind.test', subject } });

describe.each(backendsUnderTest())('events routed to waiting runs by a correlation key (%s)', (backend: Backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('a reply reaches only the run waiting on its thread, once; a wait survives a SIGKILL while parked; a timeout takes the other branch', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS), SWITCHYARD_PARK_AFTER_MS: '200' };
    let rt: RuntimeProcess = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGKILL'));
    let api = client(rt.url);
    await api.flows.save.mutate({ document: replyFlow as never });
    await api.flows.deploy.mutate({ docId: 'await-reply' });

    const runOf = async (threadId: string) => (await api.events.emit.mutate(sent(threadId))).runs[0]!.runId;
    const a = await runOf('t-a');
    const b = await runOf('t-b');
    const c = await runOf('t-c');
    for (const id of [a, b, c]) {
      const r = await waitForRun(api, id, (x) => x.status === 'waiting');
      expect(r.nodes.reply?.request).toMatchObject({ event: 'email.received', field: 'threadId' });
    }

    // A reply in another thread matches nothing; the reply in t-b reaches b only.
    await api.events.emit.mutate(received('t-zzz', 'Unrelated'));
    await api.events.emit.mutate(received('t-b', 'Re: Proposal'));
    const doneB = await waitForRun(api, b, (x) => x.status === 'completed');
    expect(doneB.nodes.reply?.output).toMatchObject({ type: 'email.received', threadId: 't-b', subject: 'Re: Proposal' });
    expect(doneB.nodes.chase?.state).toBe('skipped');
    // A second reply in the same thread finds no wait: still one task for b.
    await api.events.emit.mutate(received('t-b', 'Re: Re: Proposal'));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await tasks(api)).filter((t) => t.sourceRunId === b).map((t) => t.title)).toEqual(['Reply from dana@northwind.test: Re: Proposal']);
    expect((await api.runs.get.query({ runId: a })).status).toBe('waiting');

    // Killed with a and c parked; the wait is in the database, so the reply after the restart reaches a.
    await new Promise((r) => setTimeout(r, 600));
    await rt.kill('SIGKILL');
    rt = await spawnRuntime(env);
    api = client(rt.url);
    await api.events.emit.mutate(received('t-a', 'Re: after the restart'));
    const doneA = await waitForRun(api, a, (x) => x.status === 'completed');
    expect((doneA.nodes.got?.output as { title?: string }).title).toBe('Reply from dana@northwind.test: Re: after the restart');

    // c never gets a reply: a day later it takes the timeout branch.
    await setClock(rt.url, BUSINESS_HOURS + 25 * HOUR);
    const doneC = await waitForRun(api, c, (x) => x.status === 'completed');
    expect(doneC.nodes.reply?.handles).toEqual(['timeout']);
    expect(doneC.nodes.got?.state).toBe('skipped');
    expect((await tasks(api)).filter((t) => t.sourceRunId === c).map((t) => t.title)).toEqual(['No reply in thread t-c']);
    // And a late reply for c changes nothing.
    await api.events.emit.mutate(received('t-c', 'Too late'));
    await new Promise((r) => setTimeout(r, 800));
    expect((await tasks(api)).filter((t) => t.sourceRunId === c)).toHaveLength(1);
  }, 240_000);

  it('compile diagnostics: an unknown event, a bad field and a bad timeout are reported on the node', async () => {
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) });
    cleanup.push(() => rt.kill('SIGTERM'));
    const api = client(rt.url);
    const bad = structuredClone(replyFlow);
    bad.nodes[1]!.params = { event: 'email.exploded', field: 'thread id', key: '', timeout: 'soon' } as never;
    const res = await api.flows.validate.mutate({ document: bad as never } as never) as unknown as { diagnostics: { nodeId?: string; path: (string | number)[] }[] };
    const onNode = res.diagnostics.filter((d) => d.nodeId === 'reply').map((d) => d.path.at(-1));
    expect(onNode).toEqual(expect.arrayContaining(['event', 'field', 'key', 'timeout']));
  }, 120_000);
});
