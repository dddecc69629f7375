import { useEffect, useEffectEvent, useState } from 'react';
import { INITIAL_LIVE_STATE, followSubscription, type FollowOptions, type LiveState, type Subscribe } from './reconnecting-subscription';

export interface LiveSubscriptionOptions<T> {
  /**
   * Opens the stream. Its identity is the subscription: a new function (e.g. from `useCallback`
   * with new input) closes the old stream and opens the new one.
   */
  subscribe: Subscribe<T>;
  /** Every message; the latest function is called, changing it does not resubscribe. */
  onData: (data: T) => void;
  /** False: no stream (e.g. no client yet); turning it off closes the open one. Default true. */
  enabled?: boolean;
  liveOn?: FollowOptions<T>['liveOn'];
  /** On a failure: `stop` gives up instead of reconnecting (the latest function is called). */
  onError?: (error: unknown) => 'retry' | 'stop';
}

const same = (a: LiveState, b: LiveState) => a.status === b.status && a.retryInMs === b.retryInMs && a.error === b.error;

/**
 * Follows a tRPC subscription for as long as the component is mounted (and `enabled`),
 * reconnecting with a growing delay (`reconnectDelay`) after an error or the end of the stream;
 * answers the connection's status for the page to show. Nothing is delivered after unmount.
 */
export function useLiveSubscription<T>({ subscribe, onData, enabled = true, liveOn = 'started', onError }: LiveSubscriptionOptions<T>): LiveState {
  const [state, setState] = useState<LiveState>(INITIAL_LIVE_STATE);
  const deliver = useEffectEvent((data: T) => onData(data));
  const decide = useEffectEvent((error: unknown) => onError?.(error) ?? 'retry');
  useEffect(() => {
    if (!enabled) return;
    return followSubscription<T>({
      subscribe, liveOn,
      onData: (data) => deliver(data),
      onError: (error) => decide(error),
      onState: (next) => setState((prev) => (same(prev, next) ? prev : next)),
    });
  }, [subscribe, enabled, liveOn]);
  return state;
}
