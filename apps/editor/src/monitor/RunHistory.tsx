import { useCallback, useEffect, useState } from 'react';
import { hrefOf, linkHandler } from '../router';
import type { ApiClient } from '../trpc';
import { isUnauthorized } from '../trpc';
import { LoadErrorBanner } from '../components/Banner';
import { formatDateTime, formatRelative } from '../format';
import { formatDuration, type HistoryItem } from './format';

type Filters = { docId: string; flowKind: string; status: string; trigger: string; from: string; to: string };
const EMPTY: Filters = { docId: '', flowKind: '', status: '', trigger: '', from: '', to: '' };
const STATUSES = ['running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled', 'parked'];
/** Trigger types runs record: a person, the scheduler, a webhook delivery, or the event that started them. */
const TRIGGERS: ReadonlyArray<[string, string]> = [
  ['manual', 'Manual'], ['schedule', 'Schedule'], ['webhook', 'Webhook'], ['email.received', 'Email received'],
  ['email.sent', 'Email sent'], ['contact.created', 'Contact created'], ['user.login', 'User login'],
];

/** `<input type="date">` to an instant: the start of that day here (`end` = the start of the next day). */
const dayStart = (d: string, end = false) => {
  const t = new Date(`${d}T00:00:00`);
  if (end) t.setDate(t.getDate() + 1);
  return t.toISOString();
};

/** Every run, newest first, with filters and paging. */
export function RunHistory({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<HistoryItem[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [flows, setFlows] = useState<{ docId: string; name: string }[]>([]);

  useEffect(() => {
    client.flows.list.query({ limit: 200 } as never).then(
      (r) => setFlows((r as unknown as { items: { docId: string; name: string }[] }).items.map((f) => ({ docId: f.docId, name: f.name }))),
      () => undefined,
    );
  }, [client]);

  const load = useCallback(async (f: Filters, after: string | null) => {
    setLoading(true);
    try {
      const page = await client.monitor.runs.query({
        ...(f.docId ? { docId: f.docId } : {}), ...(f.flowKind ? { flowKind: f.flowKind as 'workflow' } : {}),
        ...(f.status ? { status: f.status as 'completed' } : {}), ...(f.trigger ? { trigger: f.trigger } : {}),
        ...(f.from ? { from: dayStart(f.from) } : {}), ...(f.to ? { to: dayStart(f.to, true) } : {}),
        limit: 50, ...(after ? { cursor: after } : {}),
      });
      setItems((prev) => (after && prev ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setError(null);
    } catch (e) {
      if (isUnauthorized(e)) onUnauthorized();
      else setError(e);
    } finally {
      setLoading(false);
    }
  }, [client, onUnauthorized]);

  useEffect(() => {
    void load(filters, null);
  }, [filters, load]);
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  return (
    <section className="mon-section" data-testid="run-history">
      <div className="mon-filters">
        <select className="input input--compact" value={filters.docId} onChange={(e) => set({ docId: e.target.value })} aria-label="Flow" data-testid="history-flow">
          <option value="">All flows</option>
          {flows.map((f) => <option key={f.docId} value={f.docId}>{f.name}</option>)}
        </select>
        <select className="input input--compact" value={filters.flowKind} onChange={(e) => set({ flowKind: e.target.value })} aria-label="Kind" data-testid="history-kind">
          <option value="">Any kind</option>
          <option value="workflow">Workflows</option>
          <option value="behavior">Behaviors</option>
          <option value="plan">Plans</option>
        </select>
        <select className="input input--compact" value={filters.status} onChange={(e) => set({ status: e.target.value })} aria-label="Status" data-testid="history-status">
          <option value="">Any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s[0]!.toUpperCase() + s.slice(1)}</option>)}
        </select>
        <select className="input input--compact" value={filters.trigger} onChange={(e) => set({ trigger: e.target.value })} aria-label="Trigger" data-testid="history-trigger">
          <option value="">Any trigger</option>
          {TRIGGERS.map(([t, label]) => <option key={t} value={t}>{label}</option>)}
        </select>
        <label className="mon-date">From <input className="input input--compact" type="date" value={filters.from} onChange={(e) => set({ from: e.target.value })} data-testid="history-from" /></label>
        <label className="mon-date">To <input className="input input--compact" type="date" value={filters.to} onChange={(e) => set({ to: e.target.value })} data-testid="history-to" /></label>
        {Object.values(filters).some(Boolean) ? <button type="button" className="button button--ghost button--small" onClick={() => setFilters(EMPTY)}>Clear filters</button> : null}
      </div>
      {error ? <LoadErrorBanner error={error} task="load the run history" onRetry={() => void load(filters, null)} /> : null}
      {items === null ? (
        <p className="muted">Loading runs…</p>
      ) : items.length === 0 ? (
        <div className="empty" data-testid="history-empty">
          <h2 className="empty__title">No runs match</h2>
          <p className="empty__text">Runs appear here as soon as a flow starts — by hand, on an event, on a schedule or from a webhook.</p>
        </div>
      ) : (
        <div className="table-card">
          <table className="table mon-table" data-testid="history-table">
            <colgroup>
              <col style={{ width: '30%' }} />
              <col style={{ width: '16%' }} />
              <col />
              <col />
              <col style={{ width: 96 }} />
              <col style={{ width: 72 }} />
              <col style={{ width: 104 }} />
              <col style={{ width: 80 }} />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Flow</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Started</th>
                <th scope="col" className="table__num">Duration</th>
                <th scope="col" className="table__num">Steps</th>
                <th scope="col" className="table__num">Model calls</th>
                <th scope="col" className="table__num">Effects</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => {
                const href = hrefOf({ page: 'monitor', tab: 'history', runId: r.id });
                return (
                  <tr key={r.id} data-testid="history-row" data-id={r.id}>
                    <td className="table__name">
                      <a className="flow-name flow-link" href={href} onClick={linkHandler(href)} data-testid="open-timeline">{r.flowName}</a>
                      <span className="flow-description">{r.flowKind} v{r.flowVersion} · <code>{r.id.slice(0, 8)}</code></span>
                      {r.replayOf ? <span className="flow-description" data-testid="history-replay">↻ replay of <code>{r.replayOf.runId.slice(0, 8)}</code> from {r.replayOf.fromNodeId}</span> : null}
                    </td>
                    <td>
                      <span className={`mon-state mon-state--${r.status}`}>{r.status}</span>
                      {r.error ? <span className="mon-error mon-error--inline" title={r.error.message}>{r.error.message}</span> : r.reason ? <span className="muted mon-error--inline">{r.reason}</span> : null}
                    </td>
                    <td>{r.triggerType ?? '—'}</td>
                    <td title={formatDateTime(r.startedAt)}>{formatRelative(r.startedAt)}</td>
                    <td className="table__num">{r.durationMs === null ? '—' : formatDuration(r.durationMs)}</td>
                    <td className="table__num">{r.steps}</td>
                    <td className="table__num">{r.modelCalls}</td>
                    <td className="table__num">{r.effects}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {cursor ? (
            <div className="table-note">
              <button type="button" className="button button--secondary button--small" onClick={() => void load(filters, cursor)} disabled={loading} data-testid="history-more">
                {loading ? 'Loading…' : 'Show older runs'}
              </button>
            </div>
          ) : null}
        </div>
      )}
    </section>
  );
}
