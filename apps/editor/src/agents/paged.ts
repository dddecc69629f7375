import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiClient, QueryOutput } from '../trpc';

/** A page as every list of the API answers it: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type AgentPage = QueryOutput<ApiClient['agents']['list']>;

/** Every agent of the user, page after page (for pickers, which must offer all of them). */
export async function listAllAgents(client: ApiClient): Promise<AgentPage> {
  let page = await client.agents.list.query({ limit: 200 });
  const items = [...page.items];
  while (page.nextCursor) {
    page = await client.agents.list.query({ limit: 200, cursor: page.nextCursor });
    items.push(...page.items);
  }
  return { items, nextCursor: null };
}

/**
 * Loads pages on request and appends them. `reload` refetches from the start as far as was loaded
 * before (so a refresh after an edit does not fold a list the person had opened further), keeping
 * the shown items until the new ones arrive; an answer to an older request is dropped.
 */
export type Paged<T> = {
  status: 'loading' | 'ready' | 'error';
  /** null until the first page arrives. */
  items: T[] | null;
  nextCursor: string | null;
  error: unknown;
  loadingMore: boolean;
  loadMore: () => void;
  reload: () => void;
};

export function usePaged<T>(loadPage: (cursor: string | undefined) => Promise<Page<T>>, idOf: (item: T) => string): Paged<T> {
  const [state, setState] = useState<{ status: Paged<T>['status']; items: T[] | null; nextCursor: string | null; error: unknown; loadingMore: boolean }>(
    { status: 'loading', items: null, nextCursor: null, error: null, loadingMore: false },
  );
  const loadRef = useRef(loadPage);
  const idRef = useRef(idOf);
  useEffect(() => {
    loadRef.current = loadPage;
    idRef.current = idOf;
  });
  const generation = useRef(0);
  /** How many items are shown, the cursor after them, and whether a next page is on its way. */
  const shown = useRef(0);
  const cursor = useRef<string | null>(null);
  const busy = useRef(false);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    const want = shown.current;
    busy.current = false;
    setState((s) => ({ ...s, status: 'loading', loadingMore: false }));
    void (async () => {
      let page = await loadRef.current(undefined);
      const items = [...page.items];
      while (page.nextCursor && items.length < want) {
        page = await loadRef.current(page.nextCursor);
        items.push(...page.items);
      }
      return { items, nextCursor: page.nextCursor };
    })().then(
      ({ items, nextCursor }) => {
        if (mine !== generation.current) return;
        shown.current = items.length;
        cursor.current = nextCursor;
        setState({ status: 'ready', items, nextCursor, error: null, loadingMore: false });
      },
      (error: unknown) => {
        if (mine === generation.current) setState((s) => ({ ...s, status: 'error', error, loadingMore: false }));
      },
    );
  }, []);

  const loadMore = useCallback(() => {
    const after = cursor.current;
    if (!after || busy.current) return;
    const mine = generation.current;
    busy.current = true;
    setState((s) => ({ ...s, loadingMore: true }));
    loadRef.current(after).then(
      (page) => {
        if (mine !== generation.current) return;
        busy.current = false;
        cursor.current = page.nextCursor;
        setState((s) => {
          // An item that moved onto this page since (one deleted before it) is not listed twice.
          const known = new Set((s.items ?? []).map((i) => idRef.current(i)));
          const items = [...(s.items ?? []), ...page.items.filter((i) => !known.has(idRef.current(i)))];
          shown.current = items.length;
          return { ...s, items, nextCursor: page.nextCursor, loadingMore: false };
        });
      },
      (error: unknown) => {
        if (mine !== generation.current) return;
        busy.current = false;
        setState((s) => ({ ...s, status: 'error', error, loadingMore: false }));
      },
    );
  }, []);

  useEffect(() => {
    reload();
    // A late answer for an unmounted view must not touch state.
    const counter = generation;
    return () => {
      counter.current++;
    };
  }, [reload]);

  return { ...state, loadMore, reload };
}
