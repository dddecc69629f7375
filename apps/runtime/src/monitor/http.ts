import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { FastifyInstance } from 'fastify';
import { errorResponse } from '../errors';
import type { Services } from '../context';
import { refreshFromDatabase, registry } from './metrics';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** The scrape token: SWITCHYARD_METRICS_TOKEN, at least 16 characters; without it /metrics is off. */
export function metricsToken(env: NodeJS.ProcessEnv = process.env): string | null {
  const t = env.SWITCHYARD_METRICS_TOKEN?.trim();
  return t && t.length >= 16 ? t : null;
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * `GET /metrics`: Prometheus text format, for a scraper holding the metrics token
 * (`Authorization: Bearer <token>`, Prometheus's `authorization` / `bearer_token` setting). The
 * user sessions' tokens do not open it. It holds counts and process figures, no run's contents and no user ids; the
 * run counters' `flow` label is a flow's doc id (chosen by its owner, the same id of two users is one series), as
 * docs/monitoring.md tells operators.
 */
export function registerMetricsRoute(app: FastifyInstance, services: Services, env: NodeJS.ProcessEnv = process.env) {
  const token = metricsToken(env);
  app.get('/metrics', async (req, reply) => {
    if (!token) {
      const { status, body } = errorResponse('NOT_FOUND', 'Metrics are off: set SWITCHYARD_METRICS_TOKEN (16 characters or more) to turn them on');
      return reply.code(status).send(body);
    }
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!given || !same(given, token)) {
      const { status, body } = errorResponse('UNAUTHORIZED', 'GET /metrics needs the metrics token: Authorization: Bearer <SWITCHYARD_METRICS_TOKEN>');
      return reply.code(status).header('www-authenticate', 'Bearer realm="metrics"').send(body);
    }
    await refreshFromDatabase(() => services.db.orm.em.fork() as unknown as EntityManager, {
      instanceId: services.config.runOwnerId, version: VERSION, database: services.db.kind,
    });
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
