import { useCallback, useState } from 'react';
import type { WatchStatus } from '../agents/live';
import type { Subscribe } from '../live/reconnecting-subscription';
import { useLiveSubscription } from '../live/useLiveSubscription';
import type { ApiClient } from '../trpc';
import type { Counts } from './types';

/**
 * Follows `notifications.watch`: the unread count and a version that changes with anything in the
 * user's notifications. Reconnects with a growing delay, like the agents' watch; no client, no stream.
 */
export function useInboxCounts(client: ApiClient | null): { counts: Counts | null; status: WatchStatus } {
  const [counts, setCounts] = useState<Counts | null>(null);
  const subscribe = useCallback<Subscribe<Counts>>(
    (callbacks) => (client ? client.notifications.watch.subscribe(undefined, callbacks) : { unsubscribe: () => undefined }),
    [client],
  );
  const { status } = useLiveSubscription({ subscribe, onData: setCounts, enabled: client !== null });
  return { counts, status };
}
