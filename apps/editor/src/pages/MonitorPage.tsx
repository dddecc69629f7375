import { hrefOf, linkHandler } from '../router';
import type { ApiClient } from '../trpc';
import { LiveActors } from '../monitor/LiveActors';
import { MetricsView } from '../monitor/MetricsView';
import { RunHistory } from '../monitor/RunHistory';
import { RunTimeline } from '../monitor/RunTimeline';
import '../monitor/monitor.css';

const TABS = [
  { id: 'live', label: 'Live actors' },
  { id: 'history', label: 'Run history' },
  { id: 'metrics', label: 'Metrics' },
] as const;

/**
 * The runtime monitoring view: live actors of every process, run history with per-run timelines,
 * and the operational and success metrics.
 */
export function MonitorPage({ client, tab, runId, onUnauthorized }: {
  client: ApiClient;
  tab: 'live' | 'history' | 'metrics';
  runId: string | null;
  onUnauthorized: () => void;
}) {
  return (
    <div className="page mon-page" data-testid="monitor-page">
      <div className="page__header">
        <div>
          <h1 className="page__title">Monitor</h1>
          <p className="page__subtitle">What runs now in every runtime process, what ran, and how well the automation works.</p>
        </div>
      </div>
      <nav className="mon-tabs" aria-label="Monitor">
        {TABS.map((t) => {
          const href = hrefOf({ page: 'monitor', tab: t.id });
          // A run's page is its own (the crumb after the tabs): no tab is current beside it.
          const current = t.id === tab && !runId;
          return (
            <a key={t.id} href={href} onClick={linkHandler(href)} className={`mon-tab${current ? ' mon-tab--active' : ''}`} aria-current={current ? 'page' : undefined} data-testid={`tab-${t.id}`}>
              {t.label}
            </a>
          );
        })}
        {runId ? <span className="mon-tab mon-tab--active mon-tab--crumb">Run <code>{runId.slice(0, 8)}</code></span> : null}
      </nav>
      {runId ? (
        <RunTimeline key={runId} client={client} runId={runId} onUnauthorized={onUnauthorized} />
      ) : tab === 'history' ? (
        <RunHistory client={client} onUnauthorized={onUnauthorized} />
      ) : tab === 'metrics' ? (
        <MetricsView client={client} onUnauthorized={onUnauthorized} />
      ) : (
        <LiveActors client={client} onUnauthorized={onUnauthorized} />
      )}
    </div>
  );
}
