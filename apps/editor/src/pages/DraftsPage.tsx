import { useCallback, useState } from 'react';
import { CrmListPage } from '../crm/CrmListPage';
import { DraftDialog } from '../crm/DraftDialog';
import { relativeTime, type DraftItem } from '../crm/types';
import { linkHandler } from '../router';
import type { ApiClient } from '../trpc';

type Status = 'draft' | 'sent' | 'discarded';

/** Drafts: what runs and agents wrote for you to review; open one to edit, send (after you approve) or discard. */
export function DraftsPage({ client, onUnauthorized, draftId }: { client: ApiClient; onUnauthorized: () => void; draftId?: string | null }) {
  const [status, setStatus] = useState<Status>('draft');
  const [open, setOpen] = useState<string | null>(draftId ?? null);
  const [key, setKey] = useState(0);
  const load = useCallback(
    (search: string, cursor: string | undefined) => client.crm.drafts.list.query({ limit: 50, status, ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) }),
    // `key` reloads the list after the dialog changed a draft.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, status, key],
  );
  return (
    <>
      <CrmListPage<DraftItem>
        tab="drafts"
        title="Drafts"
        subtitle="Emails your workflows and agents prepared. Nothing is sent until you approve it."
        searchLabel="Search subjects"
        load={load}
        onUnauthorized={onUnauthorized}
        filters={
          <select className="input input--compact" value={status} onChange={(e) => setStatus(e.target.value as Status)} aria-label="Status" data-testid="draft-status">
            <option value="draft">To review</option>
            <option value="sent">Sent</option>
            <option value="discarded">Discarded</option>
          </select>
        }
        columns={['Subject', 'To', 'Updated', 'From']}
        empty={<><h2 className="empty__title">No drafts here</h2><p className="empty__text">Drafts appear when a run writes a reply or you compose from a suggestion in the inbox.</p></>}
        row={(d) => (
          <tr key={d.id} data-testid="draft-row">
            <td>
              <button type="button" className="crm-link-button" onClick={() => setOpen(d.id)}>
                {d.subject || '(no subject)'}
              </button>
            </td>
            <td>{d.toAddrs.join(', ') || '—'}</td>
            <td>{relativeTime(d.updatedAt)}</td>
            <td>
              {d.sourceRunId ? (
                <a href={`/monitor/runs/${d.sourceRunId}`} onClick={linkHandler(`/monitor/runs/${d.sourceRunId}`)}>
                  run
                </a>
              ) : (
                'you'
              )}
            </td>
          </tr>
        )}
      />
      {open ? <DraftDialog client={client} draftId={open} onClose={() => setOpen(null)} onChanged={() => setKey((k) => k + 1)} /> : null}
    </>
  );
}
