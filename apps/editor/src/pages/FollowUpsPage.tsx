import { useCallback, useState } from 'react';
import { CrmListPage } from '../crm/CrmListPage';
import { relativeTime, type FollowUpItem } from '../crm/types';
import { linkHandler } from '../router';
import type { ApiClient } from '../trpc';

type Status = 'pending' | 'snoozed' | 'completed';

/** Follow-ups: who to get back to and when; complete one here or from its reminder in the inbox. */
export function FollowUpsPage({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const [status, setStatus] = useState<Status>('pending');
  const [key, setKey] = useState(0);
  const load = useCallback(
    (search: string, cursor: string | undefined) => client.crm.followUps.list.query({ limit: 50, status, ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, status, key],
  );
  const complete = async (f: FollowUpItem) => {
    await client.crm.followUps.update.mutate({ id: f.id, status: 'completed' });
    setKey((k) => k + 1);
  };
  const now = Date.now();
  return (
    <CrmListPage<FollowUpItem>
      tab="follow-ups"
      title="Follow-ups"
      subtitle="Reminders to get back to someone, from your flows and the follow-up behavior."
      searchLabel="Search notes"
      load={load}
      onUnauthorized={onUnauthorized}
      filters={
        <select className="input input--compact" value={status} onChange={(e) => setStatus(e.target.value as Status)} aria-label="Status">
          <option value="pending">Pending</option>
          <option value="snoozed">Snoozed</option>
          <option value="completed">Completed</option>
        </select>
      }
      columns={['Note', 'Contact', 'Due', '']}
      empty={<><h2 className="empty__title">No follow-ups here</h2><p className="empty__text">Follow-ups appear when a run’s “Schedule follow-up” step runs.</p></>}
      row={(f) => (
        <tr key={f.id} data-testid="follow-up-row">
          <td>{f.note || 'Follow up'}</td>
          <td><a href={`/contacts/${f.contactId}`} onClick={linkHandler(`/contacts/${f.contactId}`)}>{f.contactName ?? 'contact'}</a></td>
          <td>
            {f.status !== 'completed' && Date.parse(f.dueAt) < now ? <span className="pill pill--overdue">overdue</span> : null} {relativeTime(f.dueAt)}
          </td>
          <td className="table__actions">
            {f.status !== 'completed' ? (
              <button type="button" className="button button--secondary button--small" onClick={() => void complete(f)}>
                Mark complete
              </button>
            ) : (
              <span className="pill pill--completed">done {relativeTime(f.completedAt)}</span>
            )}
          </td>
        </tr>
      )}
    />
  );
}
