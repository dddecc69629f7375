import type { AddressInfo } from 'node:net';
import type { EntityManager } from '@mikro-orm/postgresql';
import { agentsOverrides, mergeOverrides } from '../src/agents/wiring';
import { loadConfig } from '../src/config';
import { hostOverrides } from '../src/host/wiring';
import { plansOf, plansOverrides } from '../src/plans/wiring';
import { createServer } from '../src/server';
import { freshStorage, type Backend } from './host-support';
import { OTHER_TOKEN, OWNER_TOKEN, trpcClient } from './support/test-db';

export type Storage = Awaited<ReturnType<typeof freshStorage>>;

/** The real server in-process with the host, the agents and plans, on fresh (or given) storage. */
export async function startPlansServer(kind: Backend, opts: { env?: Record<string, string>; storage?: Storage } = {}) {
  const storage = opts.storage ?? (await freshStorage(kind));
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', SWITCHYARD_TOKEN: OWNER_TOKEN, SWITCHYARD_USERS: `other:${OTHER_TOKEN}`, SWITCHYARD_TEST_HOOKS: '1',
    ...storage.env, ...opts.env,
  });
  const server = await createServer(config, { logger: false, seedDemo: false, ...mergeOverrides(agentsOverrides(config, {}, { ...opts.env }), hostOverrides(config, {}), plansOverrides(config)) });
  const url = await server.start();
  const em = () => server.services.db.orm.em.fork() as unknown as EntityManager;
  return {
    url, server, storage,
    api: trpcClient(url, OWNER_TOKEN),
    other: trpcClient(url, OTHER_TOKEN),
    plans: plansOf(server.services),
    query: async <T = Record<string, unknown>>(q: string, params: unknown[] = []) => (await em().execute(q, params, 'all')) as T[],
    stop: () => server.stop(),
  };
}
export type PlansServer = Awaited<ReturnType<typeof startPlansServer>>;

export const RESEARCH_TOOLS = ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'] as const;
export const WRITER_TOOLS = ['getContact', 'createDraft'] as const;

/** The seed's day-14 cast: a researcher, a writer and John Doe. */
export async function seedCast(api: PlansServer['api']) {
  const researcher = await api.agents.create.mutate({ name: 'Research Agent', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
  const writer = await api.agents.create.mutate({ name: 'Writer Agent', skills: ['draft-email'], tools: [...WRITER_TOOLS] });
  const john = await api.crm.contacts.create.mutate({ name: 'John Doe', email: 'john.doe@acme.test', company: 'Acme', title: 'CTO', relationshipStrength: 0.8 });
  const jane = await api.crm.contacts.create.mutate({ name: 'Jane Roe', email: 'jane.roe@globex.test', company: 'Globex', title: 'VP Sales', relationshipStrength: 0.6 });
  return { researcher, writer, john, jane };
}

/** A plan document from steps and edges. */
export const planDoc = (id: string, steps: { id: string; skill: string; agent?: string; params?: Record<string, unknown>; critical?: boolean; retry?: Record<string, number>; timeoutMs?: number }[], edges: [string, string][] = []) => ({
  schemaVersion: 1, id, kind: 'plan', name: `Plan ${id}`,
  nodes: steps.map((s, i) => ({
    id: s.id, type: 'plan.step', position: { x: i * 250, y: 0 },
    params: { name: s.id, skill: s.skill, agent: s.agent ?? 'any', params: s.params ?? {}, ...(s.critical === undefined ? {} : { critical: s.critical }), ...(s.retry ? { retry: s.retry } : {}), ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}) },
  })),
  edges: edges.map(([source, target], i) => ({ id: `e${i}`, source, target })),
});

/** Polls `plans.get` until the run is no longer running. */
export async function waitForPlan(api: PlansServer['api'], id: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api.plans.get.query({ id });
    if (r.status !== 'running') return r;
    if (Date.now() > until) throw new Error(`plan ${id} still running: ${JSON.stringify(r.steps.map((s) => [s.name, s.status]))}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

export interface FakeModelRequest {
  schema: string | null;
  text: string;
}

/**
 * A small OpenAI-compatible server for plans: `task_analysis` answers a research-then-email plan
 * whose email params use the research output (a task saying "IGNORE THE SKILLS" gets an unknown
 * skill, "LOOPBACK" a cyclic plan, "MODELDOWN" a server error); `email_draft` echoes the instructions it was given
 * (after "SLOWDRAFT" it answers after 2.5 s, so a test can kill the runtime meanwhile); anything
 * else (the plan summary) is "MODEL SUMMARY".
 */
export async function startPlanModel() {
  const http = await import('node:http');
  const requests: FakeModelRequest[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as { model: string; messages: { role: string; content: string | null }[]; response_format?: { json_schema?: { name: string } } };
      const schema = body.response_format?.json_schema?.name ?? null;
      const text = (body.messages ?? []).map((m) => m.content ?? '').join('\n');
      requests.push({ schema, text });
      const answer = (content: string) => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id: `chatcmpl-${requests.length}`, object: 'chat.completion', created: 1_767_800_000, model: body.model,
          choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', refusal: null, content } }],
          usage: { prompt_tokens: Math.ceil(text.length / 4), completion_tokens: 20, total_tokens: Math.ceil(text.length / 4) + 20 },
        }));
      };
      if (schema === 'task_analysis' && text.includes('MODELDOWN')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { message: 'the model crashed', type: 'server_error' } }));
      }
      if (schema === 'task_analysis' && text.includes('IGNORE THE SKILLS')) {
        // A task that tells the model to use a skill that does not exist (the model obeys).
        return answer(JSON.stringify({ requiredSkills: [{ name: 'wire', skill: 'wire-money', dependsOn: [], params: { amount: 1e6 }, critical: true }], sequencing: 'sequential', estimatedDurationMinutes: 1 }));
      }
      if (schema === 'task_analysis' && text.includes('LOOPBACK')) {
        // Steps that wait for each other, and one waiting for a step that does not exist.
        return answer(JSON.stringify({
          requiredSkills: [
            { name: 'research', skill: 'research-contact', dependsOn: ['email', 'ghost'], params: {}, critical: true },
            { name: 'email', skill: 'draft-email', dependsOn: ['research'], params: {}, critical: true },
          ],
          sequencing: 'sequential', estimatedDurationMinutes: 2,
        }));
      }
      if (schema === 'task_analysis') {
        return answer(JSON.stringify({
          requiredSkills: [
            { name: 'research', skill: 'research-contact', dependsOn: [], params: {}, critical: true },
            { name: 'email', skill: 'draft-email', dependsOn: ['research'], critical: true,
              params: { to: '{{ steps.research.output.profile.email }}', subject: 'Hello {{ steps.research.output.profile.name }}', instructions: 'MODEL PLAN: mention {{ steps.research.output.insights }}' } },
          ],
          sequencing: 'sequential', estimatedDurationMinutes: 3,
        }));
      }
      if (schema === 'email_draft') {
        const instructions = /Instructions from the user: (.*)/.exec(text)?.[1] ?? '';
        const reply = () => answer(JSON.stringify({ subject: 'From the model', body: `MODEL DRAFT. ${instructions}` }));
        return text.includes('SLOWDRAFT') ? void setTimeout(reply, 2500) : reply();
      }
      return answer('MODEL SUMMARY: the plan went fine.');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, OPENAI_API_KEY: 'sk-test', SWITCHYARD_MODEL: 'plan-test-model' },
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/**
 * A web-search endpoint for research steps at once: it holds every request until searches for
 * `together` different queries (one per research step) are in flight, or 4 s passed (well within
 * the client's 10 s timeout), then answers each `holdMs` later. `overlapped` says whether that many
 * different searches were ever in flight at the same time: steps run one after the other never are.
 */
export async function startBarrierSearch(together: number, holdMs: number) {
  const http = await import('node:http');
  const inFlight = new Map<string, number>();
  let overlapped = false;
  const waiting: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://search.test').searchParams.get('q') ?? '';
    inFlight.set(q, (inFlight.get(q) ?? 0) + 1);
    let gone = false;
    const go = () => {
      if (gone) return;
      gone = true;
      clearTimeout(failsafe);
      setTimeout(() => {
        const left = (inFlight.get(q) ?? 1) - 1;
        if (left) inFlight.set(q, left);
        else inFlight.delete(q);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ results: [{ title: 'A keynote', url: 'https://example.test/keynote', snippet: 'Speaker at a conference' }] }));
      }, holdMs);
    };
    const failsafe = setTimeout(go, 4000);
    waiting.push(go);
    if (inFlight.size >= together) {
      overlapped = true;
      for (const w of waiting.splice(0)) w();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    overlapped: () => overlapped,
    env: { SWITCHYARD_WEB_SEARCH_URL: `http://127.0.0.1:${port}/search`, SWITCHYARD_OUTBOUND_ALLOW: `127.0.0.1:${port}` },
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
