import { useMemo } from 'react';
import { getToken } from '../auth';
import { createApiClient } from '../trpc';
import { useInboxCounts } from './useInboxCounts';

/** The unread count beside the Inbox nav entry, live over `notifications.watch`. */
export function InboxBadge() {
  const token = getToken();
  const client = useMemo(() => (token ? createApiClient(token) : null), [token]);
  const { counts } = useInboxCounts(client);
  const unread = counts?.unread ?? 0;
  if (unread === 0) return null;
  return (
    <span className="inbox-badge" data-testid="inbox-badge" aria-label={`${unread} unread`}>
      {unread > 99 ? '99+' : unread}
    </span>
  );
}
