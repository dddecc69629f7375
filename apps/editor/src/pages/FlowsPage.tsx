import { useCallback, useEffect, useMemo, useState } from 'react';
import type { FlowList } from '../auth';
import { Banner } from '../components/Banner';
import { formatDateTime, formatRelative } from '../format';
import { describeError, isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';

type Flow = FlowList['items'][number];
type Kind = Flow['kind'];
type KindFilter = 'all' | Kind;

const KIND_LABEL: Record<Kind, string> = { workflow: 'Workflow', behavior: 'Behavior', plan: 'Plan' };
const FILTERS: ReadonlyArray<{ id: KindFilter; label: string }> = [
  { id: 'all', label: 'All' },
  { id: 'workflow', label: 'Workflows' },
  { id: 'behavior', label: 'Behaviors' },
  { id: 'plan', label: 'Plans' },
];

export function FlowsPage({
  client,
  initial,
  onUnauthorized,
}: {
  client: ApiClient;
  initial: FlowList | undefined;
  onUnauthorized: () => void;
}) {
  const load = useCallback(() => client.flows.list.query({}), [client]);
  const flows = useRemote(load, initial);
  const [filter, setFilter] = useState<KindFilter>('all');
  const [search, setSearch] = useState('');

  const unauthorized = flows.status === 'error' && isUnauthorized(flows.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  const items = flows.data?.items ?? null;
  const visible = useMemo(() => {
    if (!items) return [];
    const needle = search.trim().toLowerCase();
    return items.filter(
      (f) =>
        (filter === 'all' || f.kind === filter) &&
        (needle === '' || f.name.toLowerCase().includes(needle) || f.description.toLowerCase().includes(needle)),
    );
  }, [items, filter, search]);

  return (
    <div className="page">
      <div className="page__header">
        <div>
          <h1 className="page__title">Flows</h1>
          <p className="page__subtitle">Workflows, proactive behaviors and multi-agent plans in this studio.</p>
        </div>
        <button
          type="button"
          className="button button--secondary"
          onClick={flows.reload}
          disabled={flows.status === 'loading'}
        >
          {flows.status === 'loading' && items ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>

      {flows.status === 'error' && !unauthorized ? (
        <Banner
          tone="error"
          testId="error-banner"
          message={describeError(flows.error, 'load your flows')}
          action={
            <button type="button" className="button button--secondary button--small" onClick={flows.reload}>
              Try again
            </button>
          }
        />
      ) : null}

      {items === null ? (
        flows.status === 'loading' ? (
          <LoadingTable />
        ) : null
      ) : items.length === 0 ? (
        <EmptyState />
      ) : (
        <>
          <div className="toolbar">
            <div className="segmented" role="group" aria-label="Filter by kind">
              {FILTERS.map((f) => {
                const count = f.id === 'all' ? items.length : items.filter((i) => i.kind === f.id).length;
                return (
                  <button
                    key={f.id}
                    type="button"
                    className={`segmented__item${filter === f.id ? ' segmented__item--active' : ''}`}
                    aria-pressed={filter === f.id}
                    onClick={() => setFilter(f.id)}
                  >
                    {f.label}
                    <span className="segmented__count">{count}</span>
                  </button>
                );
              })}
            </div>
            <input
              className="input input--search"
              type="search"
              placeholder="Search flows"
              aria-label="Search flows"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          <FlowTable flows={visible} />
          {visible.length === 0 ? (
            <p className="table-note" data-testid="no-matches">
              No flows match these filters.
            </p>
          ) : null}
        </>
      )}
    </div>
  );
}

function FlowTable({ flows }: { flows: Flow[] }) {
  return (
    <div className="table-card">
      <table className="table" data-testid="flow-list">
        <FlowTableHead />
        <tbody>
          {flows.map((flow) => (
            <tr key={flow.id} data-testid="flow-row" data-flow-id={flow.id}>
              <td className="table__name">
                <span className="flow-name">{flow.name}</span>
                {flow.description ? (
                  <span className="flow-description" title={flow.description}>
                    {flow.description}
                  </span>
                ) : null}
              </td>
              <td>
                <span className={`kind kind--${flow.kind}`}>{KIND_LABEL[flow.kind]}</span>
              </td>
              <td>
                <StatusBadge flow={flow} />
              </td>
              <td className="table__num">
                <VersionCell flow={flow} />
              </td>
              <td>
                <LastRun run={flow.lastRun} />
              </td>
              <td>
                <time dateTime={flow.updatedAt} title={formatDateTime(flow.updatedAt)} className="muted">
                  {formatRelative(flow.updatedAt)}
                </time>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Fixed column widths keep the table steady while loading and across filters; names take the rest. */
function FlowTableHead() {
  return (
    <>
      <colgroup>
        <col />
        <col style={{ width: 120 }} />
        <col style={{ width: 112 }} />
        <col style={{ width: 128 }} />
        <col style={{ width: 168 }} />
        <col style={{ width: 120 }} />
      </colgroup>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col">Status</th>
          <th scope="col" className="table__num">
            Version
          </th>
          <th scope="col">Last run</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
    </>
  );
}

function StatusBadge({ flow }: { flow: Flow }) {
  switch (flow.status) {
    case 'deployed':
      return (
        <span className="badge badge--deployed" title={`Version ${flow.deployedVersion ?? flow.version} is live`}>
          Deployed
        </span>
      );
    case 'draft':
      return <span className="badge badge--draft">Draft</span>;
  }
}

function VersionCell({ flow }: { flow: Flow }) {
  // A deployed flow edited since shows both: what you are editing and what is running.
  if (flow.deployedVersion !== null && flow.deployedVersion !== flow.version) {
    return (
      <span title={`Editing v${flow.version}; v${flow.deployedVersion} is live`}>
        v{flow.version} <span className="muted">(v{flow.deployedVersion} live)</span>
      </span>
    );
  }
  return <span>v{flow.version}</span>;
}

/** Run statuses are open-ended on the wire; known ones get a colour, others stay neutral. */
function runTone(status: string): 'ok' | 'failed' | 'active' | 'waiting' | 'neutral' {
  switch (status) {
    case 'completed':
    case 'succeeded':
    case 'done':
      return 'ok';
    case 'failed':
    case 'error':
      return 'failed';
    case 'running':
    case 'started':
      return 'active';
    case 'waiting':
    case 'paused':
    case 'awaiting-approval':
    case 'pending':
      return 'waiting';
    default:
      return 'neutral';
  }
}

/** `awaiting_approval` -> "Awaiting approval". */
function humanizeStatus(status: string): string {
  const words = status.replaceAll(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function LastRun({ run }: { run: Flow['lastRun'] }) {
  if (!run) return <span className="muted">Never run</span>;
  return (
    <div className="run">
      <span className="run__status">
        <span className={`run__dot run__dot--${runTone(run.status)}`} aria-hidden="true" />
        {humanizeStatus(run.status)}
      </span>
      <time dateTime={run.startedAt} title={`Started ${formatDateTime(run.startedAt)}`} className="run__time">
        {formatRelative(run.startedAt)}
      </time>
    </div>
  );
}

function EmptyState() {
  return (
    <div className="empty" data-testid="empty-state">
      <div className="empty__art" aria-hidden="true">
        <svg width="48" height="48" viewBox="0 0 48 48" fill="none" stroke="currentColor" strokeWidth="2">
          <rect x="4" y="8" width="14" height="10" rx="3" />
          <rect x="30" y="8" width="14" height="10" rx="3" />
          <rect x="17" y="30" width="14" height="10" rx="3" />
          <path d="M11 18v4a4 4 0 0 0 4 4h4a4 4 0 0 1 4 4M37 18v4a4 4 0 0 1-4 4h-4a4 4 0 0 0-4 4" strokeLinecap="round" />
        </svg>
      </div>
      <h2 className="empty__title">No flows yet — create one or install a template</h2>
      <p className="empty__text">
        A flow is a workflow, a proactive behavior or a multi-agent plan. Flows you create and templates you
        install show up here as drafts until you deploy them.
      </p>
    </div>
  );
}

function LoadingTable() {
  return (
    <div className="table-card" data-testid="loading" aria-busy="true" aria-label="Loading flows">
      <table className="table">
        <FlowTableHead />
        <tbody>
          {[0, 1, 2].map((i) => (
            <tr key={i}>
              {[48, 18, 16, 8, 20, 14].map((w, j) => (
                <td key={j} className={j === 3 ? 'table__num' : undefined}>
                  <span className="skeleton" style={{ width: `${w * 4}px` }} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
