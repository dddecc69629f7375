import type { EntityManager } from '@mikro-orm/postgresql';
import { agentsOf } from '../agents/wiring';
import type { Config } from '../config';
import type { ServerOverrides } from '../server';
import { createCoherenceSchedule } from './coherence-schedule';

/**
 * The monitoring view's background work: the daily memory probe (coherence across sessions) when
 * SWITCHYARD_COHERENCE_PROBE_HOUR is set. Plugged in after the agents, whose models it asks.
 */
export function monitorOverrides(config: Config): Pick<ServerOverrides, 'plugins'> {
  return {
    plugins: [
      async (app, services) => {
        if (config.coherenceProbeHour === null) return;
        const clock = services.clock as { now(): number; onChange?(fn: () => void): () => void };
        const schedule = createCoherenceSchedule({
          em: () => services.db.orm.em.fork() as unknown as EntityManager,
          agents: () => agentsOf(services),
          clock,
          instanceId: config.runOwnerId,
          hourUtc: config.coherenceProbeHour,
          log: services.log,
        });
        app.addHook('onClose', async () => schedule.stop());
        schedule.start();
      },
    ],
  };
}
