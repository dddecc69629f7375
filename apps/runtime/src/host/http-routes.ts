import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { assertJsonLimits, type ErrorCode, type ErrorIssue } from '@switchyard/schema';
import { errorResponse, httpErrorBody } from '../errors';
import { sql, sqlOne } from './db';
import { uuidFromName } from './ids';
import type { HostServices } from './services';
import type { EntityManager } from '@mikro-orm/postgresql';

const MAX_BODY = 1024 * 1024;
/** How far a delivery's signed timestamp may be from the runtime's clock, either way. */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;
export const SIGNATURE_HEADER = 'x-switchyard-signature';
export const TIMESTAMP_HEADER = 'x-switchyard-timestamp';

/**
 * The signature a sender puts in `X-Switchyard-Signature`: `sha256=` + hex HMAC-SHA256, keyed with
 * the webhook's secret, of `<timestamp>.<raw body>` (the timestamp being `X-Switchyard-Timestamp`,
 * Unix seconds), as Stripe and Slack sign theirs.
 */
export function webhookSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/**
 * A webhook error: `error.code`, `message` and `issues` as docs/runtime.md has always shown senders,
 * plus `error.data` exactly as every other error of the server carries it (`data.switchyard = { code,
 * issues }`, `data.httpStatus`), so one client-side reader works for webhooks too.
 */
function webhookErrorBody(code: ErrorCode, message: string, issues: ErrorIssue[], status?: number) {
  const r = errorResponse(code, message, { issues, ...(status === undefined ? {} : { status }) });
  return { status: r.status, body: { error: { code, message, issues, data: r.body.error.data } } };
}

const send = (reply: FastifyReply, e: { status: number; body: unknown }) => reply.code(e.status).send(e.body);

const fail = (reply: FastifyReply, code: ErrorCode, message: string, issues: ErrorIssue[] = []) => send(reply, webhookErrorBody(code, message, issues));

/** Anything thrown, typed or not, as a webhook error (INTERNAL with a generic message when untyped). */
const failWith = (reply: FastifyReply, e: unknown) => {
  const { body } = httpErrorBody(e);
  return send(reply, webhookErrorBody(body.error.code, body.error.message, body.error.issues));
};

/** Fastify's own 4xx (body too large, unreadable body...) in the documented error shape, without its internals. */
const TRANSPORT_ERRORS: Record<number, string> = {
  400: 'The request could not be read',
  413: `The body is larger than ${MAX_BODY} bytes`,
  415: 'Unsupported content type',
};

/**
 * Non-tRPC HTTP routes of the host: signed webhook triggers, and (only with test hooks on) the
 * controllable clock.
 */
export function registerHostRoutes(app: FastifyInstance, deps: { services: HostServices; em: () => EntityManager; testHooks: boolean }) {
  void app.register(async (scope) => {
    // Signatures are over the exact bytes received, so this scope keeps the raw body.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY }, (_req, body, done) => done(null, body));
    scope.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) return send(reply, webhookErrorBody('BAD_INPUT', TRANSPORT_ERRORS[status] ?? 'Bad request', [], status));
      req.log.error({ err }, 'webhook request failed');
      return failWith(reply, err);
    });

    scope.post<{ Params: { id: string } }>('/hooks/:id', async (req, reply) => {
      const id = req.params.id;
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return fail(reply, 'NOT_FOUND', 'No active webhook here');
      const em = deps.em();
      const t = await sqlOne<{ id: string; flow_id: string; user_id: string; version: number; node_id: string; webhook_secret: string }>(em,
        `select t.* from flow_triggers t join flows f on f.id = t.flow_id where t.id = ? and t.kind = 'webhook' and t.active and f.deleted_at is null`, [id]);
      if (!t) return fail(reply, 'NOT_FOUND', 'No active webhook here');
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);

      // 1. Authentic: the signature covers the timestamp and the exact body bytes.
      const given = req.headers[SIGNATURE_HEADER];
      const timestamp = req.headers[TIMESTAMP_HEADER];
      if (typeof given !== 'string' || typeof timestamp !== 'string') {
        return fail(reply, 'UNAUTHORIZED', 'Sign the request: X-Switchyard-Timestamp and X-Switchyard-Signature are required', [
          { path: ['headers', typeof timestamp === 'string' ? SIGNATURE_HEADER : TIMESTAMP_HEADER], message: 'Missing (or sent more than once)', code: 'missing_header' },
        ]);
      }
      if (!/^\d{1,12}$/.test(timestamp)) {
        return fail(reply, 'UNAUTHORIZED', 'X-Switchyard-Timestamp must be Unix time in seconds', [{ path: ['headers', TIMESTAMP_HEADER], message: 'Not Unix seconds', code: 'bad_timestamp' }]);
      }
      const expected = Buffer.from(webhookSignature(t.webhook_secret, timestamp, raw));
      const presented = Buffer.from(given.trim().toLowerCase());
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
        return fail(reply, 'UNAUTHORIZED', 'Bad X-Switchyard-Signature', [{ path: ['headers', SIGNATURE_HEADER], message: 'Does not match the body and timestamp', code: 'bad_signature' }]);
      }

      // 2. Fresh: a captured request stops working once its timestamp is older than the tolerance...
      const now = deps.services.clock.now();
      const signedAt = Number(timestamp) * 1000;
      if (Math.abs(now - signedAt) > WEBHOOK_TOLERANCE_MS) {
        return fail(reply, 'UNAUTHORIZED', `The request's timestamp is more than ${WEBHOOK_TOLERANCE_MS / 60_000} minutes from the server's clock`, [
          { path: ['headers', TIMESTAMP_HEADER], message: 'Stale or in the future: sign each delivery with the current time', code: 'stale_timestamp' },
        ]);
      }

      // 3. The JSON rule every API input keeps (depth, size, text PostgreSQL can store, no prototype
      // keys), checked before anything recursive (storing, templating) sees the body. JSON.parse is
      // iterative in V8, so parsing a deep body first is safe; a body that is not JSON is its text.
      const text = raw.toString('utf8');
      let payload: unknown = text;
      try {
        payload = text ? JSON.parse(text) : {};
      } catch {
        /* non-JSON bodies are passed on as text */
      }
      try {
        assertJsonLimits(payload, ['body']);
      } catch (e) {
        return failWith(reply, e);
      }

      // 4. ...and cannot be replayed before then: each signature is accepted once.
      const nowIso = new Date(now).toISOString();
      await sql(em, 'delete from webhook_deliveries where trigger_id = ? and signed_at < ?', [t.id, new Date(now - WEBHOOK_TOLERANCE_MS).toISOString()]);
      const signature = given.trim().toLowerCase();
      const fresh = await sql(em,
        `insert into webhook_deliveries (trigger_id, signature, signed_at, received_at) values (?, ?, ?, ?)
         on conflict (trigger_id, signature) do nothing returning signature`, [t.id, signature, new Date(signedAt).toISOString(), nowIso]);
      if (!fresh.length) {
        return fail(reply, 'CONFLICT', 'This exact request was received already; sign each delivery (and retry) with a new timestamp', [
          { path: ['headers', SIGNATURE_HEADER], message: 'Replayed signature', code: 'replayed' },
        ]);
      }

      // A sender retrying (re-signed) with the same Idempotency-Key gets the same run, not a second one.
      const key = String(req.headers['idempotency-key'] ?? '').slice(0, 200);
      try {
        const { runId, created } = await deps.services.host.startRun({
          userId: t.user_id, flowId: t.flow_id, version: t.version, triggerNodeId: t.node_id,
          trigger: { type: 'webhook', eventId: null, payload: { body: payload, headers: { 'content-type': req.headers['content-type'] ?? null } } },
          ...(key ? { runId: uuidFromName(`webhook:${t.id}:${key}`) } : {}),
        });
        return await reply.code(202).send({ runId, duplicate: !created });
      } catch (e) {
        // Not accepted, so the sender may retry these exact bytes.
        await sql(em, 'delete from webhook_deliveries where trigger_id = ? and signature = ?', [t.id, signature]).catch(() => undefined);
        throw e;
      }
    });
  });

  if (deps.testHooks) {
    app.post('/__test/clock', async (req, reply) => {
      const body = z.object({ now: z.number().int().positive() }).safeParse(req.body);
      if (!body.success) return reply.code(400).send({ error: 'BAD_INPUT' });
      deps.services.clock.set(body.data.now);
      // Answers once the cron slots and condition checks the move passed are claimed (and started).
      await deps.services.scheduler.settled();
      return { now: deps.services.clock.now() };
    });
  }
}
