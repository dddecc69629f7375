import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { LoadErrorBanner } from '../components/Banner';
import { isUnauthorized } from '../trpc';
import { useRemote } from '../useRemote';
import { CrmTabs, type CrmTab } from './CrmTabs';
import './crm.css';

/** The frame of a CRM list page: title, tabs, search, one page of rows with "Show more". */
export function CrmListPage<T extends { id: string }>({
  tab, title, subtitle, searchLabel, load, onUnauthorized, columns, row, empty, filters,
}: {
  tab: CrmTab;
  title: string;
  subtitle: string;
  searchLabel: string;
  load: (search: string, cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>;
  onUnauthorized: () => void;
  columns: string[];
  row: (item: T, reload: () => void) => ReactNode;
  empty: ReactNode;
  filters?: ReactNode;
}) {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const [more, setMore] = useState<{ items: T[]; cursor: string | null } | null>(null);
  useEffect(() => {
    const t = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);
  const first = useCallback(() => load(query, undefined), [load, query]);
  const page = useRemote(first);
  useEffect(() => setMore(null), [page.data]);
  const unauthorized = page.status === 'error' && isUnauthorized(page.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);
  const items = page.data ? [...page.data.items, ...(more?.items ?? [])] : null;
  const cursor = more ? more.cursor : (page.data?.nextCursor ?? null);
  const loadMore = async () => {
    if (!cursor) return;
    const next = await load(query, cursor);
    setMore((m) => ({ items: [...(m?.items ?? []), ...next.items], cursor: next.nextCursor }));
  };
  return (
    <div className="page">
      <div className="page__header">
        <div>
          <h1 className="page__title">{title}</h1>
          <p className="page__subtitle">{subtitle}</p>
        </div>
      </div>
      <CrmTabs current={tab} />
      <div className="crm-toolbar">
        <input className="input input--search crm-search" type="search" placeholder={searchLabel} aria-label={searchLabel} value={search} onChange={(e) => setSearch(e.target.value)} data-testid="crm-search" />
        {filters}
      </div>
      {page.status === 'error' && !unauthorized ? <LoadErrorBanner error={page.error} task={`load ${title.toLowerCase()}`} onRetry={page.reload} /> : null}
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <div className="empty" data-testid="crm-empty">{empty}</div>
      ) : (
        <div className="table-card">
          <table className="table" data-testid="crm-table">
            <thead>
              <tr>{columns.map((c) => <th key={c}>{c}</th>)}</tr>
            </thead>
            <tbody>{items.map((item) => row(item, page.reload))}</tbody>
          </table>
          {cursor ? (
            <p className="table-note">
              <button type="button" className="button button--secondary button--small" onClick={() => void loadMore()}>
                Show more
              </button>
            </p>
          ) : null}
        </div>
      )}
    </div>
  );
}

export function Strength({ value }: { value: number }) {
  return (
    <span className="strength" title={`Relationship strength ${value.toFixed(2)}`}>
      <span className="strength__bar">
        <span className="strength__fill" style={{ width: `${Math.round(value * 100)}%` }} />
      </span>
      {value.toFixed(2)}
    </span>
  );
}
