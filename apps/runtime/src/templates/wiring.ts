import { fileURLToPath } from 'node:url';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../context';
import type { ServerOverrides } from '../server';
import { agentsOf } from '../agents/wiring';
import { hostOf } from '../host/wiring';
import { createTemplatesService, type TemplatesService } from './templates.service';

/** The repository's `templates/` folder: the built-in gallery. */
export const BUILTIN_TEMPLATES_DIR = fileURLToPath(new URL('../../../../templates/', import.meta.url));

const services = new WeakMap<Services, TemplatesService>();

/**
 * The templates service of a server, made on first use from the server's services (the host's
 * flows, the agents). Built-in templates are loaded into the catalog before the first call is
 * answered, and again by every process that starts: a version that rose is added then.
 */
export function templatesOf(s: Services): TemplatesService {
  let t = services.get(s);
  if (!t) {
    t = createTemplatesService({
      em: () => s.db.orm.em.fork() as unknown as EntityManager,
      now: () => new Date(s.clock.now()).toISOString(),
      builtinDir: process.env.SWITCHYARD_TEMPLATES_DIR || BUILTIN_TEMPLATES_DIR,
      deployFlow: (userId, docId) => hostOf(s).flows.deploy(userId, docId),
      removeFlow: (userId, docId) => {
        const { flows, host } = hostOf(s);
        return flows.remove(userId, docId, (runId, runUserId) => host.cancel(runUserId, runId));
      },
      removeAgent: (userId, agentId) => agentsOf(s).remove(userId, agentId),
      afterDeploy: async () => {
        await hostOf(s).scheduler.sync();
      },
      log: s.log,
    });
    services.set(s, t);
  }
  return t;
}

/**
 * Loads the built-in templates into the catalog when the server starts (a version that rose is
 * added then), so the gallery is complete before anyone opens it. A failure is logged, not fatal:
 * the first `templates.*` call tries again.
 */
export function templatesOverrides(): Pick<ServerOverrides, 'plugins'> {
  return {
    plugins: [
      async (_app, services) => {
        await templatesOf(services).ready().catch((err: unknown) => services.log.error({ err }, 'could not load the built-in templates; the first templates call tries again'));
      },
    ],
  };
}
