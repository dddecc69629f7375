import type { Clock } from '@switchyard/actors';

/**
 * The runtime's one source of "now". Production reads the system clock; with test hooks enabled
 * a test can set the time (across process restarts too, by setting it again after start), and
 * every waiter is woken when it moves.
 */
export interface RuntimeClock extends Clock {
  set(epochMs: number): void;
  onChange(listener: () => void): () => void;
}

export function createClock(initial?: number): RuntimeClock {
  let offset = initial === undefined ? 0 : initial - Date.now();
  const listeners = new Set<() => void>();
  return {
    now: () => Date.now() + offset,
    set(epochMs) {
      offset = epochMs - Date.now();
      for (const l of listeners) l();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
