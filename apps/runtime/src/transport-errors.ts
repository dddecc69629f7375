import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyServerOptions } from 'fastify';
import { JSON_LIMITS, SwitchyardError, type ErrorCode, type ErrorIssue } from '@switchyard/schema';
import { errorResponse, errorResponseOf } from './errors';

/**
 * Errors that happen before or around a route (body too large, unsupported content type, malformed
 * JSON, oversized headers, a route throwing something unexpected) answered in the documented shape,
 * `error.data.switchyard = { code, issues }`, with a status that says what happened and our own words
 * instead of Fastify's or an internal message.
 */

const MIB = JSON_LIMITS.maxBytes / 1024 / 1024;
/** Node's default `maxHeaderSize`; the runtime does not change it. */
const HEADER_KIB = 16;

type Described = { code: ErrorCode; message: string; issues?: ErrorIssue[] };

/** Our words for a Fastify client error (4xx). */
function describeClientError(error: FastifyError, status: number): Described {
  switch (status) {
    case 401: return { code: 'UNAUTHORIZED', message: 'Sign in first' };
    case 403: return { code: 'FORBIDDEN', message: 'Not allowed' };
    case 404: return { code: 'NOT_FOUND', message: 'Not found' };
    case 405: return { code: 'BAD_INPUT', message: 'That method is not supported here' };
    case 408: return { code: 'BAD_INPUT', message: 'The request took too long to arrive' };
    case 409: return { code: 'CONFLICT', message: 'That conflicts with the current state' };
    case 413: return { code: 'BAD_INPUT', message: `The request body is larger than ${MIB} MiB` };
    case 415: return { code: 'BAD_INPUT', message: 'Unsupported content type: send application/json' };
    case 429: return { code: 'RATE_LIMITED', message: 'Too many requests' };
  }
  if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { code: 'BAD_INPUT', message: 'The body is empty but its content type is application/json' };
  if (error.code === 'FST_ERR_VALIDATION' && Array.isArray(error.validation)) {
    return {
      code: 'BAD_INPUT', message: 'Invalid input',
      issues: error.validation.map((v) => ({ path: v.instancePath.split('/').filter(Boolean), message: v.message ?? 'Invalid' })),
    };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return /prototype/i.test(error.message)
      ? { code: 'BAD_INPUT', message: 'The body contains a forbidden prototype key (__proto__ or constructor.prototype)' }
      : { code: 'BAD_INPUT', message: 'The body is not valid JSON' };
  }
  if (error.code === 'FST_ERR_BAD_URL') return { code: 'BAD_INPUT', message: 'The URL is malformed' };
  return { code: 'BAD_INPUT', message: 'The request could not be read' };
}

/**
 * Fastify's error handler (and `frameworkErrors`): typed errors keep their code, Fastify's 4xx keep
 * their status with our words, anything else is INTERNAL with a generic message and is logged.
 */
export function sendTransportError(error: FastifyError, reply: FastifyReply) {
  const status = error.statusCode;
  if (!reply.request.raw.complete) lingerOnClose(reply.request.raw.socket);
  const client = !(error instanceof SwitchyardError) && status !== undefined && status >= 400 && status < 500;
  let response;
  if (client) {
    const d = describeClientError(error, status);
    response = errorResponse(d.code, d.message, { status, ...(d.issues ? { issues: d.issues } : {}) });
  } else {
    response = errorResponseOf(error);
    if (response.body.error.data.switchyard.code === 'INTERNAL') reply.log.error({ err: error, url: reply.request.url }, 'Request failed');
  }
  return reply.code(response.status).type('application/json; charset=utf-8').send(response.body);
}

/** How long a refused upload may go on being read (and dropped) after the answer, nginx's `lingering_time`. */
const LINGER_MS = 2000;

/**
 * Fastify closes the connection when it refuses a body it has not read (413, bad JSON...). Closing a
 * socket with unread data makes the kernel send a reset, and a client still uploading then sees
 * EPIPE/ECONNRESET instead of our answer. Like nginx's lingering close: send the answer, then go on
 * reading and dropping what arrives for at most LINGER_MS before closing for good.
 */
function lingerOnClose(socket: Socket | null | undefined) {
  if (!socket || socket.destroyed) return;
  socket.destroySoon = function lingeringClose(this: Socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
    this.resume();
  };
}

/**
 * Node's HTTP parser rejects oversized headers (431) and malformed requests before Fastify sees them;
 * this writes the same typed JSON as every other error instead of Fastify's own body.
 */
export const clientErrorHandler: NonNullable<FastifyServerOptions['clientErrorHandler']> = (error, socket: Socket) => {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, `The request headers are larger than ${HEADER_KIB} KiB`]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'The request took too long to arrive']
      : [400, 'The request is not valid HTTP'];
  const body = JSON.stringify(errorResponse('BAD_INPUT', message, { status }).body);
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  } else socket.destroy();
};
