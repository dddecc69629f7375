import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { rejection } from './support/test-db';
import { startAgentsServer, startFakeOpenAi, waitForRun, type AgentsServer } from './support/agents-support';

const node = (id: string, type: string, params: Record<string, unknown> = {}, x = 0) => ({ id, type, position: { x, y: 0 }, params });
const chain = (...ids: string[]) => ids.slice(1).map((id, i) => ({ id: `e${i}`, source: ids[i]!, target: id }));

/** Six steps, the model at step 2 (an agent drafting with the test model server), effects after it. */
const sixSteps = (agentId: string) => ({
  schemaVersion: 1, id: 'replay-six', kind: 'workflow', name: 'Draft, then tasks',
  nodes: [
    node('start', 'trigger.manual'),
    node('reply', 'agent.runSkill', { agentId, skill: 'draft-email', params: { replyTo: { from: 'ada@analytical.test', subject: 'Renewal', body: 'Can we talk?' } } }, 200),
    node('review', 'action.createTask', { title: 'Review: {{ nodes.reply.output.subject }}' }, 400),
    node('follow', 'action.createTask', { title: 'Follow up: {{ nodes.reply.output.subject }}' }, 600),
    node('note', 'action.sendNotification', { title: 'Drafted {{ nodes.reply.output.subject }}' }, 800),
    node('close', 'action.createTask', { title: 'Close the loop' }, 1000),
  ],
  edges: chain('start', 'reply', 'review', 'follow', 'note', 'close'),
});
const delayFlow = {
  schemaVersion: 1, id: 'replay-delay', kind: 'workflow', name: 'Waits an hour',
  nodes: [node('start', 'trigger.manual'), node('wait', 'flow.delay', { duration: '1 hour' }, 200), node('task', 'action.createTask', { title: 'Later' }, 400)],
  edges: chain('start', 'wait', 'task'),
};

/** A filter and an if (decided in the step that reaches them, machine format 4) before a task or a notification. */
const filtersFlow = {
  schemaVersion: 1, id: 'replay-filters', kind: 'workflow', name: 'Filter and if',
  nodes: [
    node('start', 'trigger.manual'), node('known', 'condition.expression', { expression: 'len(trigger.from) > 3' }, 200),
    node('vip', 'condition.if', { expression: 'trigger.amount >= 1000' }, 400),
    node('call', 'action.createTask', { title: 'Call {{ trigger.from }}' }, 600), node('note', 'action.sendNotification', { title: 'Lead {{ trigger.from }}' }, 600),
  ],
  edges: [...chain('start', 'known', 'vip'), { id: 'e-true', source: 'vip', sourceHandle: 'true', target: 'call' }, { id: 'e-false', source: 'vip', sourceHandle: 'false', target: 'note' }],
};

/** Issue 13: replay a finished run from a chosen step with the journaled results of the steps before it. */
describe.each(backendsUnderTest())('replay from a step (%s)', (backend) => {
  let fake: Awaited<ReturnType<typeof startFakeOpenAi>>;
  let s: AgentsServer;
  let original: string;

  beforeAll(async () => {
    fake = await startFakeOpenAi();
    s = await startAgentsServer(backend, { env: { OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'sk-test', SWITCHYARD_MODEL: 'test-model' } });
    await s.api.crm.contacts.create.mutate({ name: 'Ada Lovelace', email: 'ada@analytical.test', company: 'Analytical Engines' } as never);
    const agent = await s.api.agents.create.mutate({ name: 'Replier', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    for (const doc of [sixSteps(agent.id), delayFlow, filtersFlow]) {
      await s.api.flows.save.mutate({ document: doc as never });
      await s.api.flows.deploy.mutate({ docId: doc.id });
    }
    original = (await s.api.runs.start.mutate({ docId: 'replay-six' })).runId;
    expect((await waitForRun(s.api as never, original, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
    await fake?.stop();
  });

  const modelCalls = () => fake.requests.filter((r) => r.response_format?.json_schema?.name === 'email_draft').length;
  const tasksOf = async (runId: string) => (await s.query<{ title: string }>('select title from tasks where source_run_id = ? order by created_at, title', [runId])).map((t) => t.title);
  const runCount = async () => Number((await s.query<{ n: string }>('select count(*) as n from runs'))[0]!.n);

  it('from step 4 of 6 with the model at step 2: no call reaches the model server, the new run completes on the same version, linked both ways', async () => {
    expect(modelCalls()).toBe(1);
    expect((await tasksOf(original)).sort()).toEqual(['Close the loop', 'Follow up: Re: from the model', 'Review: Re: from the model']);
    const before = fake.requests.length;

    const replay = await s.api.monitor.replay.mutate({ runId: original, fromNodeId: 'follow' });
    expect(replay).toMatchObject({ replayOf: original, fromNodeId: 'follow' });
    expect(replay.reused.sort()).toEqual(['reply', 'review', 'start']);
    const done = await waitForRun(s.api as never, replay.runId, (r) => r.status !== 'running' && r.status !== 'waiting');
    expect(done.status).toBe('completed');
    expect(fake.requests.length).toBe(before);
    expect(await s.query('select id from llm_calls where run_id = ?', [replay.runId])).toEqual([]);
    expect(await s.query(`select id from agent_requests where payload->'meta'->>'runId' = ?`, [replay.runId])).toEqual([]);
    // Steps 4-6 ran again (the model's subject reused from the journal); step 3's task was not made twice.
    expect((await tasksOf(replay.runId)).sort()).toEqual(['Close the loop', 'Follow up: Re: from the model']);
    expect(await s.query('select node_id from effects where run_id = ? order by node_id', [replay.runId])).toEqual([{ node_id: 'close' }, { node_id: 'follow' }, { node_id: 'note' }]);
    // The same pinned flow version.
    const rows = await s.query<{ id: string; flow_id: string; flow_version: number; replay_of: string | null; replay_from: string | null }>(
      'select id, flow_id, flow_version, replay_of, replay_from from runs where id in (?, ?)', [original, replay.runId]);
    const [o, n] = [rows.find((r) => r.id === original)!, rows.find((r) => r.id === replay.runId)!];
    expect([n.flow_id, n.flow_version, n.replay_of, n.replay_from]).toEqual([o.flow_id, o.flow_version, original, 'follow']);

    // Both run pages tell it; the new timeline shows the reused steps as replayed.
    const newView = await s.api.monitor.run.query({ runId: replay.runId });
    expect(newView.run.replayOf).toEqual({ runId: original, fromNodeId: 'follow' });
    const spans = Object.fromEntries(newView.spans.map((x) => [x.nodeId, x]));
    expect(Object.keys(spans).sort()).toEqual(['close', 'follow', 'note', 'reply', 'review', 'start']);
    expect(['start', 'reply', 'review'].map((id) => [spans[id]!.replayed, spans[id]!.status])).toEqual([[true, 'succeeded'], [true, 'succeeded'], [true, 'succeeded']]);
    expect(['follow', 'note', 'close'].map((id) => [spans[id]!.replayed ?? false, spans[id]!.status])).toEqual([[false, 'succeeded'], [false, 'succeeded'], [false, 'succeeded']]);
    const originalReply = (await s.api.monitor.run.query({ runId: original })).spans.find((x) => x.nodeId === 'reply')!;
    expect(spans.reply!.output).toEqual(originalReply.output);
    expect(spans.reply!.input).toEqual(originalReply.input);
    expect(spans.reply!.input).toMatchObject({ skill: 'draft-email' });
    expect(spans.reply!.modelCalls).toEqual([]);
    expect(newView.markers.map((m) => m.kind)).toEqual(['replayed']);
    const oldView = await s.api.monitor.run.query({ runId: original });
    expect(oldView.run.replays).toEqual([{ runId: replay.runId, fromNodeId: 'follow', status: 'completed', startedAt: expect.any(String) }]);
    expect(oldView.run.replayOf).toBeNull();
    // The history says which runs are replays.
    const history = await s.api.monitor.runs.query({ docId: 'replay-six' });
    expect(history.items.find((r) => r.id === replay.runId)?.replayOf).toEqual({ runId: original, fromNodeId: 'follow' });
    expect(history.items.find((r) => r.id === original)?.replayOf).toBeNull();
  });

  it('from the model step itself the model is asked again (the count above can move), and from the trigger everything runs again', async () => {
    const before = modelCalls();
    const fromModel = await s.api.monitor.replay.mutate({ runId: original, fromNodeId: 'reply' });
    expect((await waitForRun(s.api as never, fromModel.runId, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');
    expect(modelCalls()).toBe(before + 1);
    expect(fromModel.reused).toEqual(['start']);
    expect(await tasksOf(fromModel.runId)).toHaveLength(3);
    const fromStart = await s.api.monitor.replay.mutate({ runId: original, fromNodeId: 'start' });
    expect((await waitForRun(s.api as never, fromStart.runId, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');
    expect(modelCalls()).toBe(before + 2);
    expect((await s.api.monitor.run.query({ runId: original })).run.replays.map((r) => r.fromNodeId)).toEqual(['start', 'reply', 'follow']);
  });

  it('a decision made before the chosen step is reused: the replay does not wait for approval again', async () => {
    const doc = {
      schemaVersion: 1, id: 'replay-approval', kind: 'workflow', name: 'Approve, then two tasks',
      nodes: [node('start', 'trigger.manual'), node('ok', 'flow.approval', { title: 'Go?' }, 200), node('first', 'action.createTask', { title: 'First' }, 400), node('second', 'action.createTask', { title: 'Second' }, 600)],
      edges: [{ id: 'e1', source: 'start', target: 'ok' }, { id: 'e2', source: 'ok', sourceHandle: 'approved', target: 'first' }, { id: 'e3', source: 'first', target: 'second' }],
    };
    await s.api.flows.save.mutate({ document: doc as never });
    await s.api.flows.deploy.mutate({ docId: doc.id });
    const { runId } = await s.api.runs.start.mutate({ docId: doc.id });
    await waitForRun(s.api as never, runId, (r) => r.status === 'waiting');
    await s.api.runs.approve.mutate({ runId, comment: 'yes' } as never);
    expect((await waitForRun(s.api as never, runId, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');

    const replay = await s.api.monitor.replay.mutate({ runId, fromNodeId: 'second' });
    expect(replay.reused.sort()).toEqual(['first', 'ok', 'start']);
    expect((await waitForRun(s.api as never, replay.runId, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');
    expect(await tasksOf(replay.runId)).toEqual(['Second']);
    const ok = (await s.api.monitor.run.query({ runId: replay.runId })).spans.find((x) => x.nodeId === 'ok')!;
    expect(ok).toMatchObject({ replayed: true, status: 'succeeded', output: { decision: 'approve', comment: 'yes' } });
  });

  it('a filter and an if are on the timeline as decided in the step that reached them (no step of their own); replay from them is BAD_INPUT, from the task after them it works', async () => {
    const runId = (await s.api.runs.start.mutate({ docId: 'replay-filters', payload: { from: 'ada@analytical.test', amount: 5000 } } as never)).runId;
    expect((await waitForRun(s.api as never, runId, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');
    const timeline = await s.api.monitor.run.query({ runId });
    const span = (id: string) => timeline.spans.find((x) => x.nodeId === id);
    for (const id of ['known', 'vip']) {
      expect(span(id), id).toMatchObject({ status: 'succeeded', decided: true, output: { value: true } });
      expect(span(id)!.endedAt).toBe(span(id)!.startedAt);
    }
    expect(span('call')).toMatchObject({ status: 'succeeded' });
    expect(span('call')!.decided).toBeUndefined();
    expect(span('note')).toBeUndefined();
    const runs = await runCount();
    const refused = await rejection(s.api.monitor.replay.mutate({ runId, fromNodeId: 'vip' }));
    expect(switchyardCode(refused)).toBe('BAD_INPUT');
    expect((refused as Error).message).toContain('decided in the step that reached it');
    expect(await runCount()).toBe(runs);
    const replay = await s.api.monitor.replay.mutate({ runId, fromNodeId: 'call' });
    expect((await waitForRun(s.api as never, replay.runId, (r) => r.status !== 'running' && r.status !== 'waiting')).status).toBe('completed');
    expect(replay.reused.sort()).toEqual(['known', 'note', 'start', 'vip']);
    expect(await tasksOf(replay.runId)).toEqual(['Call ada@analytical.test']);
  });

  it('an unknown run, another user\'s run, a step not in the run and a run still going are typed errors; nothing is stored', async () => {
    const waiting = (await s.api.runs.start.mutate({ docId: 'replay-delay' })).runId;
    await waitForRun(s.api as never, waiting, (r) => r.status === 'waiting');
    const runs = await runCount();
    const calls = fake.requests.length;
    const code = async (p: Promise<unknown>) => switchyardCode(await rejection(p));
    expect(await code(s.api.monitor.replay.mutate({ runId: '00000000-0000-4000-8000-000000000000', fromNodeId: 'follow' }))).toBe('NOT_FOUND');
    expect(await code(s.other.monitor.replay.mutate({ runId: original, fromNodeId: 'follow' }))).toBe('NOT_FOUND');
    expect(await code(s.api.monitor.replay.mutate({ runId: original, fromNodeId: 'nowhere' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.replay.mutate({ runId: original, fromNodeId: '1 bad id' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.replay.mutate({ runId: 'not-a-uuid', fromNodeId: 'follow' }))).toBe('BAD_INPUT');
    expect(await code(s.api.monitor.replay.mutate({ runId: waiting, fromNodeId: 'task' }))).toBe('INVALID_STATE');
    expect(await runCount()).toBe(runs);
    expect(fake.requests.length).toBe(calls);
    // A run of a deleted flow is history: not replayed.
    await s.api.flows.save.mutate({ document: { ...delayFlow, id: 'replay-gone', nodes: delayFlow.nodes.filter((x) => x.id !== 'wait'), edges: chain('start', 'task') } as never });
    await s.api.flows.deploy.mutate({ docId: 'replay-gone' });
    const gone = (await s.api.runs.start.mutate({ docId: 'replay-gone' })).runId;
    await waitForRun(s.api as never, gone, (r) => r.status === 'completed');
    await s.api.flows.delete.mutate({ docId: 'replay-gone' });
    const before = await runCount();
    expect(await code(s.api.monitor.replay.mutate({ runId: gone, fromNodeId: 'task' }))).toBe('INVALID_STATE');
    expect(await runCount()).toBe(before);
  });
});
