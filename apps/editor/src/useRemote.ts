import { useCallback, useEffect, useRef, useState } from 'react';

export type Remote<T> =
  | { status: 'loading'; data: T | null }
  | { status: 'ready'; data: T }
  | { status: 'error'; data: T | null; error: unknown };

/**
 * Loads data from the runtime and keeps the last good value while reloading, so a refresh does
 * not blank the page. `initial` skips the first request when the caller already has the data.
 */
export function useRemote<T>(load: () => Promise<T>, initial?: T): Remote<T> & { reload: () => void } {
  const [state, setState] = useState<Remote<T>>(
    initial === undefined ? { status: 'loading', data: null } : { status: 'ready', data: initial },
  );
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });
  const generation = useRef(0);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((prev) => ({ status: 'loading', data: prev.data }));
    loadRef.current().then(
      (data) => {
        if (mine === generation.current) setState({ status: 'ready', data });
      },
      (error: unknown) => {
        if (mine === generation.current) setState((prev) => ({ status: 'error', data: prev.data, error }));
      },
    );
  }, []);

  const hadInitial = useRef(initial !== undefined);
  useEffect(() => {
    if (hadInitial.current) return;
    reload();
    // A late answer to a request from an unmounted view must not touch state. (A counter, not a
    // DOM node: the same ref object is the one to bump.)
    const counter = generation;
    return () => {
      counter.current++;
    };
  }, [reload]);

  return { ...state, reload };
}
