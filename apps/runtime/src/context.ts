import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { EntityManager } from '@mikro-orm/postgresql';
import { authenticate, bearerToken, type AuthUser } from './auth/auth';
import type { Config } from './config';
import type { CrmStore } from './crm/crm.service';
import type { Database } from './db/database';
import type { Outbound } from './outbound/outbound';

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
 * Everything procedures use, created once per server. Extensible: the host and later domains add
 * members by augmenting this interface from their module
 * (`declare module '../context' { interface Services { host: Host } }`, which may also narrow
 * `clock`) and returning them from `createServer(config, { services })`.
 */
export interface Services extends BaseServices {
  [key: string]: unknown;
}

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
