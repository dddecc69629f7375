import type { EntityManager } from '@mikro-orm/postgresql';
import { agentsOf } from '../agents/wiring';
import { hostOf } from '../host/wiring';
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
        const schedule = createCoherenceSchedule({
          em: () => services.db.orm.em.fork() as unknown as EntityManager,
          agents: () => agentsOf(services),
          // The runtime clock (a test may move it): a move past the hour runs the day's probe.
          clock: hostOf(services).clock,
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
