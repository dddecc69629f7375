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
  const server = await createServer(config, { logger: false, seedDemo: false, ...mergeOverrides(agentsOverrides(config, {}, {}), hostOverrides(config, {}), plansOverrides(config)) });
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
