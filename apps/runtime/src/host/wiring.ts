import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config';
import type { FastifyInstance } from 'fastify';
import type { ServerOverrides } from '../server';
import { createClock } from './clock';
import { POSTGRES_WRITE_LANES } from './host';
import { registerHostRoutes } from './http-routes';
import type { CompilerVariant } from './machines';
import { registerFaultRoutes } from './test-hooks';
import { createHostServices, type HostServices } from './services';
import { SwitchyardError } from '@switchyard/schema';
import type { Services } from '../context';
import { lateAgentsPort } from '../agents/wiring';

/** The host's services from the server's service bag (set up by `hostOverrides`). */
export function hostOf(services: Services): HostServices {
  const hs = services.hostServices;
  if (!hs) throw new SwitchyardError('INTERNAL', 'The actor host is not running');
  return hs;
}

/** Test-only knobs, honoured only with SWITCHYARD_TEST_HOOKS=1. */
function testKnobs(config: Config, env: NodeJS.ProcessEnv): {
  now?: number; crashAfter?: { effectOf?: string; sendOf?: string }; compilerVariant?: CompilerVariant; crashAfterClaim?: boolean; crashAfterCommand?: boolean; crashAfterInbox?: number; verifyDeltas?: 'throw';
} {
  if (!config.testHooks) return {};
  const now = Number(env.SWITCHYARD_TEST_NOW);
  const variant = env.SWITCHYARD_TEST_COMPILER;
  return {
    ...(Number.isFinite(now) && now > 0 ? { now } : {}),
    ...(variant === 'reshaped' || variant === 'future' || variant === 'invoked' ? { compilerVariant: variant } : {}),
    ...(env.SWITCHYARD_CRASH_AFTER_CLAIM === '1' ? { crashAfterClaim: true } : {}),
    ...(env.SWITCHYARD_CRASH_AFTER_COMMAND === '1' ? { crashAfterCommand: true } : {}),
    // The n-th event (1 unless set higher) that starts runs: SIGKILL right after its statement.
    ...(Number(env.SWITCHYARD_CRASH_AFTER_INBOX) >= 1 ? { crashAfterInbox: Math.floor(Number(env.SWITCHYARD_CRASH_AFTER_INBOX)) } : {}),
    // Every journal delta is checked against full copies of its states: a wrong one fails the test run.
    verifyDeltas: 'throw',
    crashAfter: { effectOf: env.SWITCHYARD_CRASH_AFTER_EFFECT || undefined, sendOf: env.SWITCHYARD_CRASH_AFTER_SEND || undefined },
  };
}

/** The base URL the server prints once listening (server.ts): a wildcard bind is reached as localhost. */
function listeningUrl(app: FastifyInstance, host: string) {
  const address = app.server.address();
  if (!address || typeof address === 'string') return '';
  const name = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${address.port}`;
}

/**
 * Plugs the actor host into the server: services (clock, host, flows, scheduler), the webhook and
 * test routes, rehydration of active runs on start and an orderly stop before the database closes.
 */
export function hostOverrides(config: Config, env: NodeJS.ProcessEnv = process.env): Pick<ServerOverrides, 'services' | 'plugins'> {
  const knobs = testKnobs(config, env);
  let hs: HostServices | undefined;
  let baseUrl = () => '';
  return {
    services: async (base) => {
      const em = () => base.db.orm.em.fork() as unknown as EntityManager;
      hs = createHostServices({
        em,
        outbound: { request: (r) => base.outbound.request(r) },
        clock: createClock(knobs.now),
        log: base.log,
        ...(knobs.crashAfter ? { crashAfter: knobs.crashAfter } : {}),
        agents: lateAgentsPort(base),
        lease: { instanceId: config.runOwnerId, leaseMs: config.leaseMs },
        ...(base.db.kind === 'postgres' && config.databaseUrl ? { listenUrl: config.databaseUrl } : {}),
        ...(knobs.compilerVariant ? { compilerVariant: knobs.compilerVariant } : {}),
        ...(knobs.crashAfterClaim ? { crashAfterClaim: true } : {}),
        ...(knobs.crashAfterCommand ? { crashAfterCommand: true } : {}),
        ...(knobs.crashAfterInbox ? { crashAfterInbox: knobs.crashAfterInbox } : {}),
        ...(knobs.verifyDeltas ? { verifyDeltas: knobs.verifyDeltas } : {}),
        adoptAll: base.db.kind === 'pglite',
        writeLanes: base.db.kind === 'postgres' ? POSTGRES_WRITE_LANES : 1,
        sweepMs: config.sweepSeconds * 1000,
        parkAfterMs: config.parkAfterMs,
        webhookBase: () => baseUrl(),
      });
      return { clock: hs.clock, hostServices: hs };
    },
    plugins: [
      async (app, services) => {
        const host = hostOf(services);
        // Deploy answers with absolute webhook URLs, based on the URL the server listens on.
        baseUrl = () => listeningUrl(app, config.host);
        registerHostRoutes(app, { services: host, em: () => services.db.orm.em.fork() as unknown as EntityManager, testHooks: config.testHooks });
        if (config.testHooks) registerFaultRoutes(app, () => services.db.orm.em.fork() as unknown as EntityManager, () => host.host.parkingStats());
        app.addHook('onClose', async () => host.stop());
        await host.start();
      },
    ],
  };
}
