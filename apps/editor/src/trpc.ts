import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  isTRPCClientError,
  splitLink,
  type TRPCClient,
} from '@trpc/client';
// The editor knows the runtime only through this type; nothing of the server is bundled.
import type { AppRouter } from '@switchyard/runtime/router';
import { HeaderEventSource } from './sse';

export type ApiClient = TRPCClient<AppRouter>;

/** What a query procedure resolves to, e.g. `QueryOutput<ApiClient['flows']['list']>`. */
export type QueryOutput<P extends { query: (...args: never[]) => Promise<unknown> }> = Awaited<ReturnType<P['query']>>;

/** What a subscription yields per event, e.g. `SubscriptionData<ApiClient['agents']['watch']>`. */
export type SubscriptionData<P extends { subscribe: (input: never, opts: never) => unknown }> = Parameters<
  NonNullable<NonNullable<Parameters<P['subscribe']>[1]>['onData']>
>[0];

const TRPC_URL = '/trpc';

/**
 * One client per session token, always sent as a bearer header (the runtime accepts it nowhere
 * else). Queries and mutations are batched over HTTP; subscriptions (e.g. `monitor.live`) go over
 * Server-Sent Events through a fetch-based EventSource, because the browser's cannot set headers.
 */
export function createApiClient(token: string): ApiClient {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: TRPC_URL,
          EventSource: HeaderEventSource,
          eventSourceOptions: () => ({ headers: { Authorization: `Bearer ${token}` } }),
        }),
        false: httpBatchLink({
          url: TRPC_URL,
          headers: () => ({ Authorization: `Bearer ${token}` }),
          // The runtime refuses batches of more than 50 calls and headers over 16 KiB (the URL counts):
          // larger batches are split into several requests instead.
          maxItems: 50,
          maxURLLength: 8_000,
        }),
      }),
    ],
  });
}

/** The tRPC error code of a failed call (`UNAUTHORIZED`, `NOT_FOUND`, ...), when the server sent one. */
export function errorCode(error: unknown): string | null {
  if (!isTRPCClientError(error)) return null;
  const data: unknown = error.data;
  if (data && typeof data === 'object' && 'code' in data && typeof data.code === 'string') return data.code;
  return null;
}

function httpStatus(error: unknown): number | null {
  if (!isTRPCClientError(error)) return null;
  const data: unknown = error.data;
  if (data && typeof data === 'object' && 'httpStatus' in data && typeof data.httpStatus === 'number') return data.httpStatus;
  // A rejection before tRPC (e.g. an auth hook answering 401 with its own body) only leaves the response.
  const meta: unknown = error.meta;
  if (meta && typeof meta === 'object' && 'response' in meta) {
    const response = meta.response;
    if (response instanceof Response) return response.status;
  }
  return null;
}

/** The project's own error code (`INVALID_STATE`, `BAD_INPUT`, ...) from `error.data.switchyard.code`. */
export function switchyardCode(error: unknown): string | null {
  if (!isTRPCClientError(error)) return null;
  const data: unknown = error.data;
  if (!data || typeof data !== 'object' || !('switchyard' in data)) return null;
  const sy: unknown = data.switchyard;
  return sy && typeof sy === 'object' && 'code' in sy && typeof sy.code === 'string' ? sy.code : null;
}

export function isUnauthorized(error: unknown): boolean {
  return errorCode(error) === 'UNAUTHORIZED' || httpStatus(error) === 401;
}

/**
 * A sentence for a person: what went wrong and what to try. `action` completes "Couldn't …",
 * e.g. "load your flows". Messages of typed server errors are shown as they are (they are written
 * for users); transport failures get a plain explanation.
 */
export function describeError(error: unknown, action: string): string {
  if (isUnauthorized(error)) return 'Your session token was not accepted. Sign in again with the link printed by `npm start`.';
  if (isTRPCClientError(error)) {
    const code = errorCode(error);
    // No tRPC error shape: the request never reached a procedure (server down, proxy error, HTML page).
    if (code === null) return `Couldn't reach the Switchyard runtime to ${action}. Check that \`npm start\` is still running, then try again.`;
    if (code === 'INTERNAL_SERVER_ERROR') return `The runtime hit an unexpected error while trying to ${action}. Its terminal output has the details.`;
    return `Couldn't ${action}: ${error.message}`;
  }
  return `Couldn't ${action}: ${error instanceof Error ? error.message : 'something went wrong'}.`;
}
