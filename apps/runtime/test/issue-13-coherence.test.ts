import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, backendsUnderTest, switchyardCode } from './host-support';
import { rejection } from './support/test-db';
import { startAgentsServer } from './support/agents-support';
import { PROBE_INTERVAL_MS, leavesOf, normalise, statesValue } from '../src/monitor/coherence';

const DAY = 86_400_000;

/**
 * A model that answers a memory question from the "What you remember" lines of its system prompt,
 * except for keys starting with "hazy", where it guesses wrong.
 */
async function startMemoryModel() {
  const asked: string[] = [];
  // While held, answers wait for `release()`; `waitForQuestion()` resolves once a question arrived.
  let held: Promise<void> | null = null;
  let release = () => {};
  let arrived = 0;
  let heldAt = 0;
  let questionArrived = () => {};
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', async () => {
      arrived += 1;
      questionArrived();
      if (held) await held;
      const body = JSON.parse(raw) as { model: string; messages: { role: string; content: string }[] };
      const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
      const question = body.messages.at(-1)?.content ?? '';
      asked.push(question);
      const key = /stored "([^"]+)"/.exec(question)?.[1] ?? '';
      const line = system.split('\n').find((l) => l.startsWith(`- ${key}: `));
      const content = key.startsWith('hazy') ? 'I believe it was purple.' : line ? line.slice(`- ${key}: `.length) : 'No idea.';
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        id: 'chatcmpl-1', object: 'chat.completion', created: 1_767_800_000, model: body.model,
        choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', refusal: null, content } }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    asked,
    hold: () => {
      heldAt = arrived;
      held = new Promise<void>((r) => (release = () => {
        held = null;
        r();
      }));
    },
    release: () => release(),
    /** Resolves once a question arrived since `hold()`. */
    waitForQuestion: () => new Promise<void>((r) => {
      questionArrived = () => {
        if (arrived > heldAt) r();
      };
      questionArrived();
    }),
    env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_API_KEY: 'sk-test', SWITCHYARD_MODEL: 'memory-model' },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('the coherence check', () => {
  it('normalises text and checks a structured value field by field', () => {
    expect(normalise('  "Teal."  ')).toBe('teal');
    expect(leavesOf({ name: 'Acme', tiers: ['gold', 2], none: null })).toEqual(['Acme', 'gold', '2']);
    expect(statesValue('It is TEAL!', 'teal')).toBe(true);
    expect(statesValue('Acme, on the gold tier', { name: 'Acme', tier: 'gold' })).toBe(true);
    expect(statesValue('Acme', { name: 'Acme', tier: 'gold' })).toBe(false);
    expect(statesValue('anything', null)).toBe(false);
  });
});

/** Issue 13: coherence across sessions, measured by a memory probe and shown with the other success metrics. */
describe.each(backendsUnderTest())('coherence across sessions (%s)', (backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  });

  it('with a model: facts from an earlier session asked in a new one; the figures equal the stored probes', async () => {
    const model = await startMemoryModel();
    cleanup.push(() => model.stop());
    const s = await startAgentsServer(backend, { env: { ...model.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) } });
    cleanup.push(async () => {
      await s.stop();
      await s.storage.drop();
    });
    s.clock.set(BUSINESS_HOURS);
    const ann = await s.api.agents.create.mutate({ name: 'Ann', skills: ['draft-email'], tools: ['getContact'] });
    const bob = await s.api.agents.create.mutate({ name: 'Bob', skills: ['draft-email'], tools: ['getContact'] });
    // Day 1 (the earlier session): what the agents stored.
    await s.api.agents.remember.mutate({ id: ann.id, key: 'favourite-colour', value: 'teal' });
    await s.api.agents.remember.mutate({ id: ann.id, key: 'customer', value: { name: 'Acme', tier: 'gold' } });
    await s.api.agents.remember.mutate({ id: ann.id, key: 'hazy-detail', value: 'green' });
    await s.api.agents.remember.mutate({ id: ann.id, key: 'short-lived', value: 'gone by tomorrow', ttlSeconds: 3600 });
    await s.api.agents.remember.mutate({ id: bob.id, key: 'renewal-date', value: '2026-03-01' });
    // Day 2: the probe, in a new session.
    s.clock.set(BUSINESS_HOURS + DAY);
    const probe = await s.api.monitor.probeCoherence.mutate({});
    // The expired fact is not in memory any more: not asked.
    expect(probe.probes.map((p) => [p.agentName, p.key, p.consistent]).sort()).toEqual([
      ['Ann', 'customer', true], ['Ann', 'favourite-colour', true], ['Ann', 'hazy-detail', false], ['Bob', 'renewal-date', true],
    ]);
    expect(model.asked).toHaveLength(4);
    expect(probe).toMatchObject({ asked: 4, consistent: 3, rate: 0.75, failed: [] });

    const db = await s.query<{ agent_id: string; asked: string; consistent: string }>(
      'select agent_id, count(*) as asked, count(*) filter (where consistent) as consistent from coherence_probes group by agent_id');
    const m = await s.api.monitor.metrics.query({ from: new Date(BUSINESS_HOURS).toISOString(), to: new Date(BUSINESS_HOURS + 2 * DAY).toISOString() });
    const c = m.success.coherence!;
    const total = db.reduce((n, r) => n + Number(r.asked), 0);
    const ok = db.reduce((n, r) => n + Number(r.consistent), 0);
    expect([c.asked, c.consistent, c.rate]).toEqual([total, ok, ok / total]);
    expect(c.perAgent.map((a) => [a.agentId, a.asked, a.consistent]).sort()).toEqual(db.map((r) => [r.agent_id, Number(r.asked), Number(r.consistent)]).sort());
    expect(c.daily).toEqual([{ day: new Date(BUSINESS_HOURS + DAY).toISOString().slice(0, 10), asked: total, consistent: ok, rate: ok / total }]);
    expect(c.target).toBe(0.9);
    // The day before the probe has no probes: no figure, not 0%.
    const before = await s.api.monitor.metrics.query({ from: new Date(BUSINESS_HOURS - DAY).toISOString(), to: new Date(BUSINESS_HOURS + 1000).toISOString() });
    expect(before.success.coherence).toMatchObject({ asked: 0, rate: null });

    // The audit trail: question, answer, verdict.
    const trail = await s.api.monitor.coherenceProbes.query({ agentId: ann.id });
    expect(trail.find((p) => p.key === 'hazy-detail')).toMatchObject({ consistent: false, answer: 'I believe it was purple.', expected: 'green', model: 'memory-model' });
    // One agent only, one fact: probed again on its own (a minute later: the probe's rate limit).
    s.clock.set(BUSINESS_HOURS + DAY + 2 * PROBE_INTERVAL_MS);
    const one = await s.api.monitor.probeCoherence.mutate({ agentId: bob.id, factsPerAgent: 1 });
    expect(one.probes.map((p) => p.key)).toEqual(['renewal-date']);

    // Another user's agent, a bad input: typed errors, nothing stored.
    const stored = (await s.query<{ n: string }>('select count(*) as n from coherence_probes'))[0]!.n;
    expect(switchyardCode(await rejection(s.other.monitor.probeCoherence.mutate({ agentId: ann.id })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.api.monitor.probeCoherence.mutate({ factsPerAgent: 0 })))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.api.monitor.probeCoherence.mutate({ agentId: 'not-a-uuid' })))).toBe('BAD_INPUT');
    expect((await s.other.monitor.coherenceProbes.query({}))).toEqual([]);
    expect((await s.query<{ n: string }>('select count(*) as n from coherence_probes'))[0]!.n).toBe(stored);
  });

  it('offline: the agent answers from its memory, deterministically', async () => {
    const s = await startAgentsServer(backend, { env: { SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) } });
    cleanup.push(async () => {
      await s.stop();
      await s.storage.drop();
    });
    s.clock.set(BUSINESS_HOURS);
    const ann = await s.api.agents.create.mutate({ name: 'Ann', skills: ['draft-email'], tools: ['getContact'] });
    await s.api.agents.remember.mutate({ id: ann.id, key: 'customer', value: { name: 'Acme', tier: 'gold' } });
    await s.api.agents.remember.mutate({ id: ann.id, key: 'colour', value: 'teal' });
    s.clock.set(BUSINESS_HOURS + DAY);
    const first = await s.api.monitor.probeCoherence.mutate({});
    s.clock.set(BUSINESS_HOURS + DAY + 2 * PROBE_INTERVAL_MS);
    const second = await s.api.monitor.probeCoherence.mutate({});
    // Oldest first.
    expect(first.probes.map((p) => [p.key, p.answer, p.consistent])).toEqual([['customer', '{"name":"Acme","tier":"gold"}', true], ['colour', 'teal', true]]);
    expect(second.probes.map((p) => [p.key, p.answer, p.consistent])).toEqual(first.probes.map((p) => [p.key, p.answer, p.consistent]));
    const calls = await s.query<{ model: string; purpose: string }>(`select model, purpose from llm_calls where agent_id = ?`, [ann.id]);
    expect(calls).toEqual(Array(4).fill({ model: 'offline', purpose: 'coherence-probe' }));
  });

  it('the probe’s cost is limited per user: one at a time, a minute apart; a failed one does not count; other users are not held back', async () => {
    const model = await startMemoryModel();
    cleanup.push(() => model.stop());
    const s = await startAgentsServer(backend, { env: { ...model.env, SWITCHYARD_TEST_NOW: String(BUSINESS_HOURS) } });
    cleanup.push(async () => {
      await s.stop();
      await s.storage.drop();
    });
    s.clock.set(BUSINESS_HOURS);
    const ann = await s.api.agents.create.mutate({ name: 'Ann', skills: ['draft-email'], tools: ['getContact'] });
    const otto = await s.other.agents.create.mutate({ name: 'Otto', skills: ['draft-email'], tools: ['getContact'] });
    await s.api.agents.remember.mutate({ id: ann.id, key: 'colour', value: 'teal' });
    await s.other.agents.remember.mutate({ id: otto.id, key: 'city', value: 'Oslo' });
    const t0 = BUSINESS_HOURS + DAY;
    s.clock.set(t0);

    // While the model holds its answer, a second probe of the same user is refused; another user's runs.
    model.hold();
    const first = s.api.monitor.probeCoherence.mutate({});
    await model.waitForQuestion();
    const busy = await rejection(s.api.monitor.probeCoherence.mutate({ agentId: ann.id }));
    expect([switchyardCode(busy), (busy as Error).message]).toEqual(['RATE_LIMITED', 'A memory probe of yours is running already: wait for its result before starting another']);
    model.release();
    expect((await first).asked).toBe(1);
    expect((await s.other.monitor.probeCoherence.mutate({})).asked).toBe(1);

    // Done, but less than a minute after it started: refused, with the wait; nothing asked, nothing stored.
    s.clock.set(t0 + PROBE_INTERVAL_MS - 20_000);
    const asked = model.asked.length;
    const stored = (await s.query<{ n: string }>('select count(*) as n from coherence_probes'))[0]!.n;
    const soon = await rejection(s.api.monitor.probeCoherence.mutate({}));
    expect(switchyardCode(soon)).toBe('RATE_LIMITED');
    // 20 s to go, give or take the milliseconds the runtime's clock moved on since it was set.
    const wait = Number(/^The memory probe runs at most once a minute: try again in (\d+) s$/.exec((soon as Error).message)?.[1]);
    expect([20, 21]).toContain(wait);
    expect(model.asked).toHaveLength(asked);
    expect((await s.query<{ n: string }>('select count(*) as n from coherence_probes'))[0]!.n).toBe(stored);

    // A minute on: allowed. A probe that fails as a whole (another user's agent) does not hold the next one back.
    s.clock.set(t0 + 2 * PROBE_INTERVAL_MS);
    expect(switchyardCode(await rejection(s.api.monitor.probeCoherence.mutate({ agentId: otto.id })))).toBe('NOT_FOUND');
    expect((await s.api.monitor.probeCoherence.mutate({})).asked).toBe(1);
    expect(switchyardCode(await rejection(s.api.monitor.probeCoherence.mutate({})))).toBe('RATE_LIMITED');
  });
});
