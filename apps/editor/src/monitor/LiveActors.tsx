import { useCallback, useEffect, useMemo, useState } from 'react';
import type { Subscribe } from '../live/reconnecting-subscription';
import { useLiveSubscription } from '../live/useLiveSubscription';
import { hrefOf, linkHandler } from '../router';
import type { ApiClient } from '../trpc';
import { describeError, isUnauthorized } from '../trpc';
import { Banner } from '../components/Banner';
import { AGENT_STATUS_LABEL, formatDuration, waitsOnText, type Actor, type ActorsPage } from './format';

type Kind = 'all' | 'run' | 'plan' | 'agent';
type Filters = { kind: Kind; status: string; waitsOn: string; q: string };


/** Follows `monitor.live` with the given filters; reconnects with a growing delay when the stream ends. */
function useLiveActors(client: ApiClient, filters: Filters, onUnauthorized: () => void) {
  const [page, setPage] = useState<ActorsPage | null>(null);
  const input = useMemo(() => ({
    ...(filters.kind === 'all' ? {} : { kind: filters.kind }),
    ...(filters.status ? { status: filters.status as 'running' } : {}),
    ...(filters.waitsOn ? { waitsOn: filters.waitsOn as 'delay' } : {}),
    ...(filters.q.trim() ? { q: filters.q.trim() } : {}),
    limit: 200,
  }), [filters]);
  const subscribe = useCallback<Subscribe<ActorsPage>>((callbacks) => client.monitor.live.subscribe(input, callbacks), [client, input]);
  // Live once the first page arrived; a lost session stops following and signs out.
  const { status, error } = useLiveSubscription({
    subscribe, onData: setPage, liveOn: 'data',
    onError: (e) => {
      if (!isUnauthorized(e)) return 'retry';
      onUnauthorized();
      return 'stop';
    },
  });
  return { page, status, error };
}

/** Live actors of every runtime process: runs and agents, with what each waits on and who holds it. */
export function LiveActors({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const [filters, setFilters] = useState<Filters>({ kind: 'all', status: '', waitsOn: '', q: '' });
  const [typed, setTyped] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setFilters((f) => (f.q === typed ? f : { ...f, q: typed })), 300);
    return () => clearTimeout(t);
  }, [typed]);
  const { page, status, error } = useLiveActors(client, filters, onUnauthorized);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  // Ages tick between pushes: the page's `at` plus the time since it arrived.
  const [receivedAt, setReceivedAt] = useState(() => Date.now());
  useEffect(() => setReceivedAt(Date.now()), [page]);
  const drift = now - receivedAt;
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  const statuses = filters.kind === 'agent' ? ['idle', 'working', 'waiting_approval', 'error'] : filters.kind === 'run' ? ['running', 'waiting'] : filters.kind === 'plan' ? ['running'] : ['running', 'waiting', 'idle', 'working', 'waiting_approval', 'error'];

  return (
    <section className="mon-section" data-testid="live-actors">
      {page ? (
        <div className="mon-kpis mon-kpis--small">
          <div className="mon-kpi"><span className="mon-kpi__value" data-testid="count-running">{page.totals.running}</span><span className="mon-kpi__label">runs running</span></div>
          <div className="mon-kpi"><span className="mon-kpi__value" data-testid="count-waiting">{page.totals.waiting}</span><span className="mon-kpi__label">runs waiting</span></div>
          <div className="mon-kpi"><span className="mon-kpi__value">{page.totals.agents}</span><span className="mon-kpi__label">agents</span></div>
          <div className="mon-processes" data-testid="processes">
            <span className="mon-kpi__label">Runtime processes</span>
            <ul>
              {page.processes.map((p) => (
                <li key={p.id} title={`Lease until ${new Date(p.leaseUntil).toLocaleTimeString()}`} data-testid="process">
                  <span className={`mon-dot ${p.alive ? 'mon-dot--ok' : 'mon-dot--bad'}`} aria-hidden="true" />
                  <code>{p.id}</code>
                  <span className="muted"> {p.runs} run{p.runs === 1 ? '' : 's'}{p.alive ? '' : ' · lease expired'}</span>
                </li>
              ))}
            </ul>
          </div>
        </div>
      ) : null}

      <div className="mon-filters">
        <div className="segmented" role="group" aria-label="Kind">
          {(['all', 'run', 'plan', 'agent'] as const).map((k) => (
            <button key={k} type="button" className={`segmented__item${filters.kind === k ? ' segmented__item--active' : ''}`} aria-pressed={filters.kind === k}
              onClick={() => set({ kind: k, status: '', waitsOn: k === 'agent' ? '' : filters.waitsOn })} data-testid={`kind-${k}`}>
              {k === 'all' ? 'All' : k === 'run' ? 'Runs' : k === 'plan' ? 'Plans' : 'Agents'}
            </button>
          ))}
        </div>
        <select className="input input--compact" value={filters.status} onChange={(e) => set({ status: e.target.value })} aria-label="State" data-testid="filter-status">
          <option value="">Any state</option>
          {statuses.map((s) => <option key={s} value={s}>{AGENT_STATUS_LABEL[s as 'idle'] ?? (s === 'running' ? 'Running' : 'Waiting')}</option>)}
        </select>
        {filters.kind === 'all' || filters.kind === 'run' ? (
          <select className="input input--compact" value={filters.waitsOn} onChange={(e) => set({ waitsOn: e.target.value })} aria-label="Waits on" data-testid="filter-waits">
            <option value="">Waiting on anything</option>
            <option value="delay">A delay</option>
            <option value="approval">An approval</option>
            <option value="agent">An agent</option>
            <option value="step">A running step</option>
          </select>
        ) : null}
        <input className="input input--search input--compact" type="search" placeholder="Search flows and agents" value={typed} onChange={(e) => setTyped(e.target.value)} aria-label="Search" data-testid="filter-q" />
        <span className={`mon-live mon-live--${status}`} data-testid="live-status">
          <span className="mon-dot" aria-hidden="true" />
          {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
      </div>

      {error && status === 'paused' ? <Banner tone="error" message={describeError(error, 'follow the live actors')} /> : null}

      {page === null ? (
        <p className="muted">Loading live actors…</p>
      ) : page.items.length === 0 ? (
        <div className="empty" data-testid="actors-empty">
          <h2 className="empty__title">Nothing is running right now</h2>
          <p className="empty__text">Runs that wait on a delay, an approval or an agent, and your agents, show up here live — from every runtime process.</p>
        </div>
      ) : (
        <div className="table-card">
          <table className="table mon-table" data-testid="actors-table">
            <colgroup>
              <col style={{ width: '22%' }} />
              <col style={{ width: 124 }} />
              <col style={{ width: '24%' }} />
              <col style={{ width: 150 }} />
              <col style={{ width: 64 }} />
              <col style={{ width: 84 }} />
              <col />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Actor</th>
                <th scope="col">State</th>
                <th scope="col">Waits on / doing</th>
                <th scope="col">Owner process</th>
                <th scope="col" className="table__num">Queue</th>
                <th scope="col" className="table__num">Age</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((a) => <ActorRow key={`${a.kind}:${a.id}`} actor={a} drift={drift} />)}
            </tbody>
          </table>
          {page.nextCursor ? (
            <p className="table-note muted" data-testid="actors-more">Showing the newest {page.items.filter((a) => a.kind === 'run').length} runs; narrow the filters to find older ones.</p>
          ) : null}
        </div>
      )}
    </section>
  );
}

function ActorRow({ actor: a, drift }: { actor: Actor; drift: number }) {
  if (a.kind === 'plan') {
    const href = hrefOf({ page: 'plans', runId: a.id });
    const doing = a.waitsOn.length
      ? a.waitsOn.map((w) => `${w.step}: waiting for ${w.agentName ?? 'an agent'} (${w.skill})`).join('; ')
      : a.cancelRequested ? 'cancelling' : 'between steps';
    return (
      <tr data-testid="actor-row" data-kind="plan" data-id={a.id}>
        <td className="table__name">
          <span className="mon-kind">Plan</span>
          <a className="flow-name flow-link" href={href} onClick={linkHandler(href)}>{a.name}</a>
          <span className="flow-description">{a.steps.done} of {a.steps.total} steps done{a.steps.failed ? ` · ${a.steps.failed} failed` : ''}</span>
        </td>
        <td><span className="mon-state mon-state--running">Running</span></td>
        <td>{doing}</td>
        <td>{a.owner ? <OwnerCell owner={a.owner} alive={a.ownerAlive} /> : <span className="muted">—</span>}</td>
        <td className="table__num" title="Steps running now">{a.steps.running}</td>
        <td className="table__num">{formatDuration(a.ageMs + drift)}</td>
        <td />
      </tr>
    );
  }
  if (a.kind === 'agent') {
    const href = hrefOf({ page: 'agent', agentId: a.id });
    const doing = a.status === 'waiting_approval'
      ? `${a.pendingApprovals} proposal${a.pendingApprovals === 1 ? '' : 's'} wait for your decision`
      : a.currentRequest
        ? `${a.currentRequest.kind === 'chat' ? 'answering a chat message' : `running ${a.currentRequest.skill ?? 'a skill'}`}${a.currentRequest.runId ? ' for a run' : ''}`
        : '—';
    return (
      <tr data-testid="actor-row" data-kind="agent" data-id={a.id}>
        <td className="table__name">
          <span className="mon-kind">Agent</span>
          <a className="flow-name flow-link" href={href} onClick={linkHandler(href)}>{a.name}</a>
        </td>
        <td><span className={`mon-state mon-state--${a.status}`}>{AGENT_STATUS_LABEL[a.status]}</span></td>
        <td>{doing}</td>
        <td>{a.owner ? <OwnerCell owner={a.owner} alive={a.ownerAlive} /> : <span className="muted">—</span>}</td>
        <td className="table__num" title="Requests queued or running in its mailbox">{a.mailboxDepth}</td>
        <td className="table__num">{a.currentRequest ? formatDuration(a.ageMs + drift) : '—'}</td>
        <td className="mon-error" title={a.lastError ?? undefined}>{a.status === 'error' ? a.lastError : ''}</td>
      </tr>
    );
  }
  const href = hrefOf({ page: 'monitor', tab: 'history', runId: a.id });
  const canvas = hrefOf({ page: 'editor', docId: a.docId, runId: a.id });
  return (
    <tr data-testid="actor-row" data-kind="run" data-id={a.id}>
      <td className="table__name">
        <span className="mon-kind">{a.flowKind === 'behavior' ? 'Behavior' : a.flowKind === 'plan' ? 'Plan' : 'Run'}</span>
        <a className="flow-name flow-link" href={href} onClick={linkHandler(href)} data-testid="open-run" title="Its timeline">{a.flowName}</a>
        <span className="flow-description">v{a.flowVersion} · {a.triggerType ?? 'run'} · <code>{a.id.slice(0, 8)}</code></span>
        <a className="mon-canvas-link" href={canvas} onClick={linkHandler(canvas)} data-testid="open-canvas" title="The flow's canvas, following this run live">Open on canvas</a>
      </td>
      <td><span className={`mon-state mon-state--${a.status}`}>{a.status === 'waiting' ? 'Waiting' : 'Running'}</span></td>
      <td data-testid="waits-on">{a.waitsOn.length ? a.waitsOn.map((w) => waitsOnText(w)).join('; ') : <span className="muted">between steps</span>}</td>
      <td>{a.owner ? <OwnerCell owner={a.owner} alive={a.ownerAlive} /> : <span className="muted">none (parked)</span>}</td>
      <td className="table__num" title="Decisions or cancellations sent through another process, not applied yet">{a.queueDepth}</td>
      <td className="table__num">{formatDuration(a.ageMs + drift)}</td>
      <td className="mon-error" title={a.lastError?.message}>{a.lastError?.message ?? ''}</td>
    </tr>
  );
}

function OwnerCell({ owner, alive }: { owner: string; alive: boolean }) {
  return (
    <span className="mon-owner" title={alive ? 'Its lease is current' : 'Its lease expired or was released (a graceful stop): another process will adopt the work'} data-testid="owner">
      <span className={`mon-dot ${alive ? 'mon-dot--ok' : 'mon-dot--bad'}`} aria-hidden="true" />
      <code>{owner}</code>
    </span>
  );
}
