import { readFileSync } from 'node:fs';
import { publicProcedure, router } from './trpc';
import { agentsRouter } from './routers/agents.router';
import { crmRouter } from './routers/crm.router';
import { eventsRouter } from './routers/events.router';
import { flowsRouter } from './routers/flows.router';
import { monitorRouter } from './routers/monitor.router';
import { notificationsRouter } from './routers/notifications.router';
import { runsRouter } from './routers/runs.router';
import { skillsRouter } from './routers/skills.router';
import { plansRouter } from './routers/plans.router';
import { templatesRouter } from './routers/templates.router';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const appRouter = router({
  /** The only procedure that needs no session. */
  health: publicProcedure.query(({ ctx }) => ({ ok: true as const, db: ctx.services.db.kind, version: VERSION })),
  crm: crmRouter,
  flows: flowsRouter,
  runs: runsRouter,
  events: eventsRouter,
  agents: agentsRouter,
  skills: skillsRouter,
  plans: plansRouter,
  monitor: monitorRouter,
  templates: templatesRouter,
  notifications: notificationsRouter,
  // Domain routers are merged here, one key each (flows, runs, events, agents, ...), with their
  // imports at the top: `import { flowsRouter } from './routers/flows.router'` -> `flows: flowsRouter,`.
});

/** The editor imports this with `import type` and nothing else from the runtime. */
export type AppRouter = typeof appRouter;
