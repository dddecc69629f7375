import { useCallback, useState } from 'react';
import { CrmListPage } from '../crm/CrmListPage';
import { relativeTime, type TaskItem } from '../crm/types';
import { linkHandler } from '../router';
import type { ApiClient } from '../trpc';

/** Tasks runs created (and yours): open or done, with a checkbox to complete them. */
export function TasksPage({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const [status, setStatus] = useState<'open' | 'completed'>('open');
  const [key, setKey] = useState(0);
  const load = useCallback(
    (search: string, cursor: string | undefined) => client.crm.tasks.list.query({ limit: 50, status, ...(search ? { search } : {}), ...(cursor ? { cursor } : {}) }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, status, key],
  );
  const toggle = async (t: TaskItem) => {
    await client.crm.tasks.update.mutate({ id: t.id, status: t.status === 'open' ? 'completed' : 'open' });
    setKey((k) => k + 1);
  };
  return (
    <CrmListPage<TaskItem>
      tab="tasks"
      title="Tasks"
      subtitle="To-dos your workflows created, with their due times."
      searchLabel="Search tasks"
      load={load}
      onUnauthorized={onUnauthorized}
      filters={
        <select className="input input--compact" value={status} onChange={(e) => setStatus(e.target.value as 'open' | 'completed')} aria-label="Status">
          <option value="open">Open</option>
          <option value="completed">Done</option>
        </select>
      }
      columns={['', 'Task', 'Priority', 'Due', 'Contact', 'From']}
      empty={<><h2 className="empty__title">No tasks here</h2><p className="empty__text">Tasks appear when a run’s “Create task” step runs.</p></>}
      row={(t) => (
        <tr key={t.id} data-testid="task-row">
          <td>
            <input type="checkbox" checked={t.status === 'completed'} onChange={() => void toggle(t)} aria-label={`Mark “${t.title}” ${t.status === 'open' ? 'done' : 'open'}`} />
          </td>
          <td>{t.title}{t.description ? <div className="crm-list__sub">{t.description}</div> : null}</td>
          <td><span className={`pill pill--${t.priority}`}>{t.priority}</span></td>
          <td>{t.dueAt ? relativeTime(t.dueAt) : '—'}</td>
          <td>{t.contactId ? <a href={`/contacts/${t.contactId}`} onClick={linkHandler(`/contacts/${t.contactId}`)}>{t.contactName ?? 'contact'}</a> : '—'}</td>
          <td>{t.sourceRunId ? <a href={`/monitor/runs/${t.sourceRunId}`} onClick={linkHandler(`/monitor/runs/${t.sourceRunId}`)}>run</a> : 'you'}</td>
        </tr>
      )}
    />
  );
}
