import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { agentReplyFlow, startAgentsServer, waitForRun, type AgentsServer } from './support/agents-support';
import { startObeyingModel } from './support/obeying-openai';
import { rejection } from './support/test-db';

/**
 * Issue 9, Agents: a workflow retry of an agent step used to replay attempt 0's stored failure
 * (attempt 0 was dropped, so attempts 0 and 1 shared one request key), and a 429 with
 * `retry-after` surfaced as OUTBOUND_FAILED with `retry-after` ignored.
 */
describe.each(backendsUnderTest())('agent step retries and rate limits (%s)', (backend) => {
  let model: Awaited<ReturnType<typeof startObeyingModel>>;
  let s: AgentsServer;
  let agentId: string;
  let userId: string;

  beforeAll(async () => {
    model = await startObeyingModel();
    s = await startAgentsServer(backend, { env: { OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'sk-test', SWITCHYARD_MODEL: 'obeying' } });
    const agent = await s.api.agents.create.mutate({ name: 'Replier', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    agentId = agent.id;
    userId = (await s.query<{ user_id: string }>('select user_id from agents where id = ?', [agentId]))[0]!.user_id;
    await s.api.flows.save.mutate({ document: agentReplyFlow(agentId, { retry: { maxAttempts: 2, backoffMs: 0, factor: 1 } }) as never });
    await s.api.flows.deploy.mutate({ docId: 'agent-reply' });
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
    await model?.stop();
  });

  const emailIn = async (subject: string) => {
    const { runs } = await s.api.events.emit.mutate({ type: 'email.received', payload: { from: 'ada@client.test', to: ['me@example.test'], subject, body: 'Hello there.' } });
    return waitForRun(s.api as never, runs[0]!.runId, (r) => r.status === 'completed' || r.status === 'failed', 60_000);
  };
  const requestsOf = (runId: string) => s.query<{ request_key: string; status: string; error: { code: string; retryAfterMs?: number } | null }>(
    `select request_key, status, error from agent_requests where payload->'meta'->>'runId' = ? order by created_at, id`, [runId]);

  it('a retried step calls the model again: each attempt is its own request', async () => {
    model.failNext({ status: 500 });
    const before = model.requests.length;
    const run = await emailIn('Retry me');
    expect(run.status).toBe('completed');
    expect(model.requests.length - before).toBe(2);
    const reqs = await requestsOf(run.id);
    expect(reqs.map((r) => r.status)).toEqual(['failed', 'done']);
    expect(new Set(reqs.map((r) => r.request_key)).size).toBe(2);
    const calls = await s.query<{ status: string }>('select status from llm_calls where run_id = ? order by id', [run.id]);
    expect(calls.map((c) => c.status)).toEqual(['error', 'ok']);
    expect(await s.query('select id from drafts where source_run_id = ?', [run.id])).toHaveLength(1);
  });

  it('a 429 with retry-after is RATE_LIMITED and the retry waits at least that long', async () => {
    model.failNext({ status: 429, headers: { 'retry-after': '2' } });
    const before = model.arrivals.length;
    const run = await emailIn('Rate limited');
    expect(run.status).toBe('completed');
    const [failed, retried] = model.arrivals.slice(before);
    expect(retried! - failed!).toBeGreaterThanOrEqual(1900);
    const reqs = await requestsOf(run.id);
    expect(reqs[0]!.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 2000 });
    expect(reqs.map((r) => r.status)).toEqual(['failed', 'done']);
  });

  it('a direct call that hits a 429 is a typed RATE_LIMITED error, not OUTBOUND_FAILED', async () => {
    model.failNext({ status: 429, headers: { 'retry-after': '7' } });
    const e = await rejection(s.api.agents.runSkill.mutate({ id: agentId, skill: 'draft-email', params: { to: 'ada@client.test', instructions: 'hi' } }));
    expect(switchyardCode(e)).toBe('RATE_LIMITED');
    expect(String((e as Error).message)).toContain('retry after 7 s');
  });

  it('a restored attempt replays its stored result; the next attempt asks the model again, effects stay exactly once', async () => {
    const meta = { runId: randomUUID(), userId, nodeId: 'reply', nodeType: 'agent.runSkill', effectKey: `test|${randomUUID()}` };
    const req = { agentId, skill: 'draft-email', params: { to: 'ada@client.test', instructions: 'hello' }, grantEffects: false };
    const before = model.requests.length;
    const first = await s.agents.port.runSkill(meta, { ...req, attempt: 0 });
    const perAttempt = model.requests.length - before;
    expect(perAttempt).toBeGreaterThan(0);
    // The same attempt asked again (a restored step): its stored result, no model call.
    expect(await s.agents.port.runSkill(meta, { ...req, attempt: 0 })).toEqual(first);
    expect(model.requests.length - before).toBe(perAttempt);
    // The next attempt is a new request with its own model calls ...
    await s.agents.port.runSkill(meta, { ...req, attempt: 1 });
    expect(model.requests.length - before).toBe(2 * perAttempt);
    // ... but the draft it writes is keyed by the step, not the attempt.
    expect(await s.query('select id from drafts where source_run_id = ?', [meta.runId])).toHaveLength(1);
  });
});
