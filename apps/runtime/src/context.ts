import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { EntityManager } from '@mikro-orm/postgresql';
import { authenticate, bearerToken, type AuthUser } from './auth/auth';
import type { Config } from './config';
import type { CrmStore } from './crm/crm.service';
import type { Database } from './db/database';
import type { Outbound } from './outbound/outbound';
import type { AgentsService } from './agents/agents.service';
import type { HostServices } from './host/services';
import type { PlansService } from './plans/plans.service';

/** The services `createServer` builds itself. */
export interface BaseServices {
  config: Config;
  db: Database;
  crm: CrmStore;
  clock: { now(): number };
  outbound: Outbound;
  log: FastifyBaseLogger;
}

/**
 * Everything procedures use, created once per server: the base services plus the domains plugged
 * in by the wiring modules (`hostOverrides`, `agentsOverrides`, `plansOverrides`), each optional
 * because a server may run without it (tests start only what they need). Read them through the
 * accessors that fail with a typed error when a domain is absent (`hostOf`, `agentsOf`, `plansOf`).
 * The imports are type-only, so no module cycle exists at run time.
 */
export interface Services extends BaseServices {
  hostServices?: HostServices;
  agents?: AgentsService;
  plans?: PlansService;
}

/** What a wiring module's (or a test's) `services` adds to the base ones or replaces. */
export type ServiceOverrides = Partial<Services>;

export interface Context {
  /** Null when the request carries no valid `Authorization: Bearer` token. */
  user: AuthUser | null;
  /** Forked per request: its identity map never leaks between requests or users. */
  em: EntityManager;
  services: Services;
}

/**
 * The tRPC context of one request. Only the Authorization header counts: a `?token=` query
 * parameter (the printed login link) is for the editor to pick up, never accepted by the API,
 * so tokens do not end up in logs and history through API URLs.
 */
export async function createContext(services: Services, req: Pick<FastifyRequest, 'headers'>): Promise<Context> {
  const em = services.db.orm.em.fork();
  const user = await authenticate(em, bearerToken(req.headers.authorization));
  return { user, em, services };
}
