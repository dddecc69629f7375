import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentsPort } from '@switchyard/actors';
import { SwitchyardError } from '@switchyard/schema';
import type { Config } from '../config';
import type { ServiceOverrides, Services } from '../context';
import { createOfflineProvider } from '../llm/offline.provider';
import { createOpenAiProvider } from '../llm/openai.provider';
import type { ServerOverrides } from '../server';
import { APPROVE_CRASH_POINTS, createAgentsService, type AgentsService, type ApproveCrashPoint } from './agents.service';

/** The agents service from the server's service bag (set up by `agentsOverrides`). */
export function agentsOf(services: Services): AgentsService {
  const a = services.agents;
  if (!a) throw new SwitchyardError('INTERNAL', 'Agents are not running in this runtime');
  return a;
}

/**
 * The agents port for the actor host, resolved at call time: the host and the agents are set up
 * by separate overrides, in either order.
 */
export const lateAgentsPort = (services: Services): AgentsPort => ({
  runSkill: (meta, req) => agentsOf(services).port.runSkill(meta, req),
  awaitApprovals: (meta, ids, signal) => agentsOf(services).port.awaitApprovals(meta, ids, signal),
});

export interface AgentsOptions {
  /** Per model call; default 30 s. */
  llmTimeoutMs?: number;
  /** How often a step waiting on agent proposals re-reads decisions made by another process; default 2 s. */
  approvalPollMs?: number;
  /** How often a caller waiting on a request another process runs re-reads its outcome; default 500 ms. */
  requestPollMs?: number;
}

/**
 * Plugs the agents into the server: the service (store, memory, LLM, mailbox actors), taking over
 * the agents this process should own on start (all of them on the embedded database; see
 * ownership.ts) and an orderly stop that gives them up. The model is the OpenAI-compatible server
 * when OPENAI_API_KEY or OPENAI_BASE_URL is set, else the offline provider.
 */
export function agentsOverrides(config: Config, options: AgentsOptions = {}, env: NodeJS.ProcessEnv = process.env): Pick<ServerOverrides, 'services' | 'plugins'> {
  return {
    services: async (base) => {
      const online = !!(config.openai.apiKey || config.openai.baseUrl);
      const provider = online
        ? createOpenAiProvider({ ...config.openai, timeoutMs: options.llmTimeoutMs ?? 30_000 })
        : createOfflineProvider();
      const agents = createAgentsService({
        em: () => base.db.orm.em.fork() as unknown as EntityManager,
        clock: () => base.clock,
        outbound: base.outbound,
        provider,
        log: base.log,
        ...(options.approvalPollMs ? { approvalPollMs: options.approvalPollMs } : {}),
        // One identity per process, shared with the host's run leases (runtime_instances).
        instanceId: config.runOwnerId,
        lease: { leaseMs: config.leaseMs, adoptAll: base.db.kind === 'pglite' },
        ...(base.db.kind === 'postgres' && config.databaseUrl ? { listenUrl: config.databaseUrl } : {}),
        ...(options.requestPollMs ? { requestPollMs: options.requestPollMs } : {}),
        ...(env.SWITCHYARD_WEB_SEARCH_URL ? { webSearchUrl: env.SWITCHYARD_WEB_SEARCH_URL } : {}),
        ...crashKnob(config, env),
      });
      return { agents };
    },
    plugins: [
      async (app, services) => {
        const agents = agentsOf(services);
        app.addHook('onClose', async () => agents.stop());
        await agents.start();
      },
    ],
  };
}

/**
 * Test-only: SWITCHYARD_CRASH_IN_APPROVE=<point> and SWITCHYARD_CRASH_IN_CHAT=after-question,
 * honoured only with SWITCHYARD_TEST_HOOKS=1.
 */
function crashKnob(config: Config, env: NodeJS.ProcessEnv): { crashInApprove?: ApproveCrashPoint; crashInChat?: 'after-question' } {
  if (!config.testHooks) return {};
  const point = env.SWITCHYARD_CRASH_IN_APPROVE;
  return {
    ...(point && (APPROVE_CRASH_POINTS as readonly string[]).includes(point) ? { crashInApprove: point as ApproveCrashPoint } : {}),
    ...(env.SWITCHYARD_CRASH_IN_CHAT === 'after-question' ? { crashInChat: 'after-question' as const } : {}),
  };
}

/** Combines overrides: services in order (each sees the ones before), then plugins in order. */
export function mergeOverrides(...all: Pick<ServerOverrides, 'services' | 'plugins'>[]): Pick<ServerOverrides, 'services' | 'plugins'> {
  return {
    services: async (base) => {
      const added: ServiceOverrides = {};
      for (const o of all) {
        const extra = await o.services?.(base);
        Object.assign(base, extra);
        Object.assign(added, extra);
      }
      return added;
    },
    plugins: all.flatMap((o) => o.plugins ?? []),
  };
}
