import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { sqlOne } from './db';
import { uuidFromName } from './ids';
import type { HostServices } from './services';
import type { EntityManager } from '@mikro-orm/postgresql';

const MAX_BODY = 1024 * 1024;

/**
 * Non-tRPC HTTP routes of the host: signed webhook triggers, and (only with test hooks on) the
 * controllable clock.
 */
export function registerHostRoutes(app: FastifyInstance, deps: { services: HostServices; em: () => EntityManager; testHooks: boolean }) {
  void app.register(async (scope) => {
    // Signatures are over the exact bytes received, so this scope keeps the raw body.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { id: string } }>('/hooks/:id', async (req, reply) => {
      const id = req.params.id;
      if (!/^[0-9a-f-]{36}$/i.test(id)) return reply.code(404).send({ error: 'NOT_FOUND' });
      const t = await sqlOne<{ id: string; flow_id: string; user_id: string; version: number; node_id: string; webhook_secret: string }>(deps.em(),
        `select t.* from flow_triggers t join flows f on f.id = t.flow_id where t.id = ? and t.kind = 'webhook' and t.active and f.deleted_at is null`, [id]);
      if (!t) return reply.code(404).send({ error: 'NOT_FOUND', message: 'No active webhook here' });
      const raw = typeof req.body === 'string' ? req.body : '';
      const given = String(req.headers['x-switchyard-signature'] ?? '').replace(/^sha256=/, '');
      const expected = createHmac('sha256', t.webhook_secret).update(raw).digest('hex');
      if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
        return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'Bad or missing X-Switchyard-Signature' });
      }
      let payload: unknown = raw;
      try {
        payload = raw ? JSON.parse(raw) : {};
      } catch {
        /* non-JSON bodies are passed on as text */
      }
      // A sender retrying with the same Idempotency-Key gets the same run, not a second one.
      const key = String(req.headers['idempotency-key'] ?? '').slice(0, 200);
      const { runId, created } = await deps.services.host.startRun({
        userId: t.user_id, flowId: t.flow_id, version: t.version, triggerNodeId: t.node_id,
        trigger: { type: 'webhook', eventId: null, payload: { body: payload, headers: { 'content-type': req.headers['content-type'] ?? null } } },
        ...(key ? { runId: uuidFromName(`webhook:${t.id}:${key}`) } : {}),
      });
      return reply.code(202).send({ runId, duplicate: !created });
    });
  });

  if (deps.testHooks) {
    app.post('/__test/clock', async (req, reply) => {
      const body = z.object({ now: z.number().int().positive() }).safeParse(req.body);
      if (!body.success) return reply.code(400).send({ error: 'BAD_INPUT' });
      deps.services.clock.set(body.data.now);
      return { now: deps.services.clock.now() };
    });
  }
}
