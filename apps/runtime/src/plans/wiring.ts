import type { EntityManager } from '@mikro-orm/postgresql';
import { SwitchyardError } from '@switchyard/schema';
import { agentsOf } from '../agents/wiring';
import type { Config } from '../config';
import type { Services } from '../context';
import { hostOf } from '../host/wiring';
import type { ServerOverrides } from '../server';
import { registerChatPlanner } from './chat';
import { createPlansService, type PlansService } from './plans.service';

/** The plans service from the server's service bag (set up by `plansOverrides`). */
export function plansOf(services: Services): PlansService {
  const p = services.plans as PlansService | undefined;
  if (!p) throw new SwitchyardError('INTERNAL', 'Plans are not running in this runtime');
  return p;
}

/**
 * Plugs plans into the server, after the agents (every step goes through an agent's mailbox):
 * the service, the resume of this process's unfinished plan runs on start, an orderly stop.
 */
export function plansOverrides(config: Config): Pick<ServerOverrides, 'services' | 'plugins'> {
  return {
    services: async (base) => {
      const plans = createPlansService({
        em: () => base.db.orm.em.fork() as unknown as EntityManager,
        clock: () => base.clock,
        agents: agentsOf(base),
        exportDocument: (userId, docId, version) => hostOf(base).flows.exportDocument(userId, docId, version),
        instanceId: config.instanceId,
        log: base.log,
      });
      // Chat with an agent proposes a plan when a request needs several skills (plans/chat.ts).
      registerChatPlanner(agentsOf(base), { plans, em: () => base.db.orm.em.fork() as unknown as EntityManager, now: () => base.clock.now() });
      return { plans };
    },
    plugins: [
      async (app, services) => {
        const plans = plansOf(services);
        app.addHook('onClose', async () => plans.stop());
        await plans.start();
      },
    ],
  };
}
