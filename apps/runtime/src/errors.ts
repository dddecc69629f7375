import { CheckConstraintViolationException, ForeignKeyConstraintViolationException, NotNullConstraintViolationException, UniqueConstraintViolationException } from '@mikro-orm/core';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY, type TRPC_ERROR_CODE_KEY, type TRPCErrorShape } from '@trpc/server/rpc';
import { SwitchyardError, issuesFromZod, type ErrorCode, type ErrorIssue } from '@switchyard/schema';

/** The one mapping from the project's error codes to tRPC's (and so to HTTP statuses). */
export const TRPC_CODE_OF: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_INPUT: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  INVALID_DOCUMENT: 'UNPROCESSABLE_CONTENT',
  INVALID_STATE: 'PRECONDITION_FAILED',
  OUTBOUND_BLOCKED: 'FORBIDDEN',
  OUTBOUND_FAILED: 'BAD_GATEWAY',
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
};

/** tRPC's own errors (unknown procedure, bad JSON, missing session...) in our vocabulary. */
const CODE_FROM_TRPC: Partial<Record<TRPC_ERROR_CODE_KEY, ErrorCode>> = {
  BAD_REQUEST: 'BAD_INPUT',
  PARSE_ERROR: 'BAD_INPUT',
  UNSUPPORTED_MEDIA_TYPE: 'BAD_INPUT',
  PAYLOAD_TOO_LARGE: 'BAD_INPUT',
  METHOD_NOT_SUPPORTED: 'BAD_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  UNPROCESSABLE_CONTENT: 'INVALID_DOCUMENT',
  PRECONDITION_FAILED: 'INVALID_STATE',
  TOO_MANY_REQUESTS: 'RATE_LIMITED',
  BAD_GATEWAY: 'OUTBOUND_FAILED',
  SERVICE_UNAVAILABLE: 'UNAVAILABLE',
};

/** What clients find in `error.data.switchyard`. */
export interface SwitchyardErrorData {
  code: ErrorCode;
  issues: ErrorIssue[];
}

const INTERNAL_MESSAGE = 'Internal server error';

type IssueLike = { path?: readonly unknown[]; message: string; code?: string };
const hasIssues = (e: unknown): e is { issues: IssueLike[] } =>
  typeof e === 'object' && e !== null && Array.isArray((e as { issues?: unknown }).issues);

/** Standard-schema paths may hold `{ key }` segments; ours are plain keys. */
const normalizeIssues = (issues: IssueLike[]) =>
  issuesFromZod(issues.map((i) => ({
    ...i,
    path: (i.path ?? []).map((p) => (typeof p === 'object' && p !== null && 'key' in p ? (p as { key: PropertyKey }).key : (p as PropertyKey))),
  })));

/** Classifies any error that reaches tRPC: our typed errors, zod input errors, database constraint errors. */
export function describeError(error: TRPCError): SwitchyardErrorData & { message: string } {
  const cause = error.cause;
  if (cause instanceof SwitchyardError) return { code: cause.code, message: cause.message, issues: cause.issues };
  if (error.code === 'BAD_REQUEST' && hasIssues(cause)) return { code: 'BAD_INPUT', message: 'Invalid input', issues: normalizeIssues(cause.issues) };
  // tRPC's own JSON.parse of the body or `?input=`: V8's wording is not ours to pass on.
  if (error.code === 'BAD_REQUEST' && cause instanceof SyntaxError) return { code: 'BAD_INPUT', message: 'The input is not valid JSON', issues: [] };
  // Safety net for constraint violations a service did not turn into a typed error itself.
  if (cause instanceof UniqueConstraintViolationException) return { code: 'CONFLICT', message: 'That already exists', issues: [] };
  if (cause instanceof ForeignKeyConstraintViolationException || cause instanceof CheckConstraintViolationException || cause instanceof NotNullConstraintViolationException) {
    return { code: 'BAD_INPUT', message: 'The input violates a data constraint', issues: [] };
  }
  if (error.code === 'INTERNAL_SERVER_ERROR') return { code: 'INTERNAL', message: INTERNAL_MESSAGE, issues: [] };
  return { code: CODE_FROM_TRPC[error.code] ?? 'INTERNAL', message: error.message, issues: [] };
}

/** True for errors nobody anticipated: those are logged server-side with their stack. */
export const isUnexpected = (error: TRPCError) => describeError(error).code === 'INTERNAL';

/**
 * tRPC `errorFormatter`: rewrites code, HTTP status and message from our error code, and adds
 * `data.switchyard = { code, issues }`. Never a stack or an internal message to the client.
 */
export function errorFormatter({ shape, error }: { shape: TRPCErrorShape<object>; error: TRPCError }) {
  const d = describeError(error);
  const trpcCode = TRPC_CODE_OF[d.code];
  const data = shape.data as { path?: string };
  return {
    message: d.message,
    code: TRPC_ERROR_CODES_BY_KEY[trpcCode],
    data: {
      code: trpcCode,
      httpStatus: getHTTPStatusCodeFromError(new TRPCError({ code: trpcCode })),
      ...(data.path === undefined ? {} : { path: data.path }),
      switchyard: { code: d.code, issues: d.issues } satisfies SwitchyardErrorData,
    },
  };
}

/** For code outside tRPC (plain Fastify routes): the same classification as a status + JSON body. */
export function httpErrorBody(e: unknown): { status: number; body: { error: { code: ErrorCode; message: string; issues: ErrorIssue[] } } } {
  const d = describeError(e instanceof TRPCError ? e : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: e }));
  return {
    status: getHTTPStatusCodeFromError(new TRPCError({ code: TRPC_CODE_OF[d.code] })),
    body: { error: { code: d.code, message: d.message, issues: d.issues } },
  };
}

/** tRPC's key for an HTTP status, so transport errors carry the same `data.code` a tRPC error would. */
const TRPC_KEY_OF_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'METHOD_NOT_SUPPORTED', 408: 'TIMEOUT',
  409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 422: 'UNPROCESSABLE_CONTENT', 429: 'TOO_MANY_REQUESTS',
};

/** The documented error shape (what a tRPC error looks like) for responses tRPC never sees. */
export interface ErrorResponseBody {
  error: { message: string; code: number; data: { code: TRPC_ERROR_CODE_KEY; httpStatus: number; switchyard: SwitchyardErrorData } };
}

/**
 * Builds the documented error response for errors that never reach tRPC (Fastify's transport errors,
 * unknown routes, malformed HTTP): `error.data.switchyard = { code, issues }`, the same as a procedure's
 * error. `status` defaults to the code's status; transport errors keep their own (413, 415, 431...).
 */
export function errorResponse(code: ErrorCode, message: string, options: { status?: number; issues?: ErrorIssue[] } = {}): { status: number; body: ErrorResponseBody } {
  const codeKey = TRPC_CODE_OF[code];
  const status = options.status ?? getHTTPStatusCodeFromError(new TRPCError({ code: codeKey }));
  const key = options.status === undefined ? codeKey : (TRPC_KEY_OF_STATUS[status] ?? codeKey);
  return {
    status,
    body: { error: { message, code: TRPC_ERROR_CODES_BY_KEY[key], data: { code: key, httpStatus: status, switchyard: { code, issues: options.issues ?? [] } } } },
  };
}

/** `errorResponse` for anything thrown: typed errors keep their code and message, the rest is INTERNAL with a generic message. */
export function errorResponseOf(e: unknown): { status: number; body: ErrorResponseBody } {
  const d = describeError(e instanceof TRPCError ? e : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: e }));
  return errorResponse(d.code, d.message, { issues: d.issues });
}
