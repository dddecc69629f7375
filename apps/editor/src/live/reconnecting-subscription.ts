/**
 * Following a tRPC subscription (SSE) that reconnects on its own. The subscription link does not
 * reconnect over the editor's header-sending EventSource, so a failed or ended stream is opened
 * again here with a growing delay. The runtime's streams start with the current state, so nothing
 * missed in between stays stale. No React here: `useLiveSubscription` wraps it for components.
 */

/**
 * `connecting` until the stream is open, `live` while it is, `paused` between a failure and the
 * next attempt (pages say so and show the last known state).
 */
export type LiveStatus = 'connecting' | 'live' | 'paused';

/** What a page shows about the connection; `error` is the last failure, cleared once live again. */
export interface LiveState {
  status: LiveStatus;
  /** While paused: how long until the next attempt. */
  retryInMs: number | null;
  error: unknown;
}

export const INITIAL_LIVE_STATE: LiveState = { status: 'connecting', retryInMs: null, error: null };

/** Wait before the n-th reconnection attempt (1-based): 1 s, 2 s, 4 s, … at most 30 s. */
export const reconnectDelay = (attempt: number): number => Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));

/** The callbacks of a tRPC `.subscribe(input, callbacks)`. */
export interface SubscriptionCallbacks<T> {
  onStarted: () => void;
  onData: (data: T) => void;
  onError: (error: unknown) => void;
  onComplete: () => void;
}

/** Opens one stream, e.g. `(cb) => client.notifications.watch.subscribe(undefined, cb)`. */
export type Subscribe<T> = (callbacks: SubscriptionCallbacks<T>) => { unsubscribe: () => void };

export interface FollowOptions<T> {
  subscribe: Subscribe<T>;
  onData: (data: T) => void;
  /** Called when the status, the retry delay or the error changes. */
  onState: (state: LiveState) => void;
  /**
   * `started` (default): live once the stream is open. `data`: only once something arrived (for
   * streams whose first message is the page to show).
   */
  liveOn?: 'started' | 'data';
  /** On a failure: `stop` gives up (e.g. the session is gone: reconnecting cannot help). Default: retry. */
  onError?: (error: unknown) => 'retry' | 'stop';
  delay?: (attempt: number) => number;
}

/**
 * Subscribes, and after an error or the end of the stream subscribes again after
 * `delay(attempt)`; the attempt count starts over once live. Returns `stop`: it unsubscribes,
 * cancels a pending attempt and ignores anything the old stream still delivers.
 */
export function followSubscription<T>(o: FollowOptions<T>): () => void {
  const delay = o.delay ?? reconnectDelay;
  let attempt = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: { unsubscribe: () => void } | null = null;
  let state: LiveState = INITIAL_LIVE_STATE;
  const set = (next: LiveState) => {
    if (next.status === state.status && next.retryInMs === state.retryInMs && next.error === state.error) return;
    state = next;
    o.onState(next);
  };

  const connect = () => {
    // Each stream has its own `done`: a late callback of a replaced stream changes nothing.
    let done = false;
    const live = () => {
      if (stopped || done) return;
      attempt = 0;
      set({ status: 'live', retryInMs: null, error: null });
    };
    const retry = (failure: { error: unknown } | null) => {
      if (stopped || done) return;
      done = true;
      current?.unsubscribe();
      current = null;
      if (failure && o.onError?.(failure.error) === 'stop') {
        stopped = true;
        return;
      }
      attempt += 1;
      const wait = delay(attempt);
      set({ status: 'paused', retryInMs: wait, error: failure ? failure.error : state.error });
      timer = setTimeout(connect, wait);
    };
    const sub = o.subscribe({
      onStarted: () => {
        if (o.liveOn !== 'data') live();
      },
      onData: (data) => {
        if (stopped || done) return;
        live();
        o.onData(data);
      },
      onError: (error) => retry({ error }),
      // The runtime ends its streams when it stops: a restarted one is asked again.
      onComplete: () => retry(null),
    });
    // A stream that failed synchronously, inside subscribe, is closed too.
    if (done || stopped) sub.unsubscribe();
    else current = sub;
  };

  // Every (re)start says so, also to a page that showed an earlier stream as live.
  o.onState(state);
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    current?.unsubscribe();
  };
}
