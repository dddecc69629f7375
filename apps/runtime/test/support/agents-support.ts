import type { EntityManager } from '@mikro-orm/postgresql';
import { agentsOverrides, agentsOf, mergeOverrides, type AgentsOptions } from '../../src/agents/wiring';
import { loadConfig } from '../../src/config';
import type { RuntimeClock } from '../../src/host/clock';
import { hostOverrides } from '../../src/host/wiring';
import { createServer } from '../../src/server';
import { freshStorage, waitForRun, type Backend } from '../host-support';
import { OTHER_TOKEN, OWNER_TOKEN, trpcClient } from './test-db';

export type Storage = Awaited<ReturnType<typeof freshStorage>>;

/**
 * The real server in-process with the actor host and the agents, on `storage` (fresh unless
 * given, so a test can restart a server on the same database).
 */
export async function startAgentsServer(kind: Backend, opts: { env?: Record<string, string>; agents?: AgentsOptions; storage?: Storage } = {}) {
  const storage = opts.storage ?? (await freshStorage(kind));
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', SWITCHYARD_TOKEN: OWNER_TOKEN, SWITCHYARD_USERS: `other:${OTHER_TOKEN}`, SWITCHYARD_TEST_HOOKS: '1',
    ...storage.env, ...opts.env,
  });
  const server = await createServer(config, { logger: false, seedDemo: false, ...mergeOverrides(agentsOverrides(config, opts.agents, {}), hostOverrides(config, {})) });
  const url = await server.start();
  const em = () => server.services.db.orm.em.fork() as unknown as EntityManager;
  return {
    url, server, storage, em,
    api: trpcClient(url, OWNER_TOKEN),
    other: trpcClient(url, OTHER_TOKEN),
    clock: server.services.clock as RuntimeClock,
    agents: agentsOf(server.services),
    query: async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await em().execute(sql, params, 'all')) as T[],
    stop: () => server.stop(),
  };
}
export type AgentsServer = Awaited<ReturnType<typeof startAgentsServer>>;

export { waitForRun };
export { startFakeOpenAi, type FakeChatRequest } from './fake-openai';

/** A one-node-after-trigger workflow: an email arrives, the agent drafts a reply. */
export const agentReplyFlow = (agentId: string, extra: Record<string, unknown> = {}) => ({
  schemaVersion: 1, id: 'agent-reply', kind: 'workflow', name: 'Agent drafts replies',
  nodes: [
    { id: 'trigger', type: 'trigger.emailReceived', position: { x: 0, y: 0 }, params: {} },
    { id: 'reply', type: 'agent.runSkill', position: { x: 250, y: 0 }, params: { agentId, skill: 'draft-email', params: { tone: 'friendly' }, ...extra } },
  ],
  edges: [{ id: 'e1', source: 'trigger', target: 'reply' }],
});

/**
 * The reply flow with a task after the agent's step: the task shows the step continued (after a
 * person decided the agent's proposals, when there were any).
 */
export const agentReplyThenTaskFlow = (agentId: string, id: string) => {
  const base = agentReplyFlow(agentId);
  return {
    ...base, id, name: 'Agent replies, then a task',
    nodes: [...base.nodes, { id: 'after', type: 'action.createTask', position: { x: 500, y: 0 }, params: { title: 'Check the reply to {{ trigger.subject }}' } }],
    edges: [...base.edges, { id: 'e2', source: 'reply', target: 'after' }],
  };
};
