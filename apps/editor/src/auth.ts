import { createApiClient, isUnauthorized, type ApiClient, type QueryOutput } from './trpc';

/**
 * The session token: the runtime prints a one-time login URL (`/?token=...`, Jupyter style). The
 * token lives in sessionStorage so it survives reloads but not the closing of the tab, and is
 * stripped from the address bar at once so it does not end up in history, bookmarks or
 * screenshots.
 */
const STORAGE_KEY = 'switchyard.token';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled (privacy modes); the user then signs in per page load.
    return null;
  }
}

export function setToken(token: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, token);
  } catch {
    // See getToken: without storage the token only lives in memory for this page.
  }
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored, nothing to clear.
  }
}

/**
 * Takes `?token=` out of the page URL (keeping any other query parameters and the hash) and
 * returns it, or null when the URL carries none.
 */
export function takeTokenFromUrl(): string | null {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return null;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  const trimmed = token.trim();
  return trimmed === '' ? null : trimmed;
}

/** Accepts either the bare token or the whole login URL pasted from the terminal. */
export function normalizeTokenInput(input: string): string {
  const trimmed = input.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      const fromUrl = new URL(trimmed).searchParams.get('token');
      if (fromUrl) return fromUrl.trim();
    } catch {
      // Not a URL after all; treat it as a token.
    }
  }
  return trimmed;
}

export const TOKEN_REJECTED =
  'That token was not accepted. Copy the link or token again from the terminal running `npm start` — a new one is printed each time the runtime starts.';

export type FlowList = QueryOutput<ApiClient['flows']['list']>;

export type Verification =
  | { ok: true; client: ApiClient; flows: FlowList }
  | { ok: false; reason: 'unauthorized' | 'unreachable'; error: unknown };

/** Every flow, page after page (`flows.list` pages with a cursor; the flows table filters and sorts on the client). */
export async function listAllFlows(client: ApiClient): Promise<FlowList> {
  let page = await client.flows.list.query({ limit: 200 });
  const items = [...page.items];
  while (page.nextCursor) {
    page = await client.flows.list.query({ limit: 200, cursor: page.nextCursor });
    items.push(...page.items);
  }
  return { items, nextCursor: null };
}

/**
 * Checks a token against the runtime with a real call (`flows.list`, which the first page needs
 * anyway, so its answer is handed on instead of being fetched twice).
 */
export async function verifyToken(token: string): Promise<Verification> {
  const client = createApiClient(token);
  try {
    const flows = await listAllFlows(client);
    return { ok: true, client, flows };
  } catch (error) {
    return { ok: false, reason: isUnauthorized(error) ? 'unauthorized' : 'unreachable', error };
  }
}
