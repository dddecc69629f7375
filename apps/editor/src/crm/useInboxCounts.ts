import { useEffect, useState } from 'react';
import { reconnectDelay, type WatchStatus } from '../agents/live';
import type { ApiClient } from '../trpc';
import type { Counts } from './types';

/**
 * Follows `notifications.watch`: the unread count and a version that changes with anything in the
 * user's notifications. Reconnects with a growing delay, like the agents' watch.
 */
export function useInboxCounts(client: ApiClient | null): { counts: Counts | null; status: WatchStatus } {
  const [counts, setCounts] = useState<Counts | null>(null);
  const [status, setStatus] = useState<WatchStatus>('connecting');
  useEffect(() => {
    if (!client) return;
    let attempt = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let current: { unsubscribe: () => void } | null = null;
    const connect = () => {
      let done = false;
      const retry = () => {
        if (stopped || done) return;
        done = true;
        current?.unsubscribe();
        attempt += 1;
        setStatus('paused');
        timer = setTimeout(connect, reconnectDelay(attempt));
      };
      current = client.notifications.watch.subscribe(undefined, {
        onStarted: () => {
          attempt = 0;
          setStatus('live');
        },
        onData: (c) => {
          if (done) return;
          setStatus('live');
          setCounts(c);
        },
        onError: retry,
        onComplete: retry,
      });
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      current?.unsubscribe();
    };
  }, [client]);
  return { counts, status };
}
