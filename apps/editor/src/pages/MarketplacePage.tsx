import { useCallback, useEffect, useState } from 'react';
import { TEMPLATE_CATEGORIES, permissionLabel } from '@switchyard/schema';
import { LoadErrorBanner } from '../components/Banner';
import { useConfirm } from '../components/ConfirmDialog';
import { GrantDialog } from '../marketplace/GrantDialog';
import { PublishDialog } from '../marketplace/PublishDialog';
import { CATEGORY_LABELS, TemplateCard, type TemplateSummary } from '../marketplace/TemplateCard';
import { UpgradeDialog } from '../marketplace/UpgradeDialog';
import '../marketplace/marketplace.css';
import { hrefOf, linkHandler } from '../router';
import { describeError, isUnauthorized, type ApiClient, type QueryOutput } from '../trpc';
import { useRemote } from '../useRemote';

const SORTS = [
  { id: 'popular', label: 'Most installed' },
  { id: 'rating', label: 'Highest rated' },
  { id: 'newest', label: 'Newest' },
] as const;
/** `auto`: best match while searching, else most installed. */
type Sort = (typeof SORTS)[number]['id'] | 'auto';
type Category = (typeof TEMPLATE_CATEGORIES)[number];

/** Permissions whose effects stay inside the studio: the "Nothing leaves the studio" filter allows only these. */
const INSIDE_ONLY = ['email.read', 'email.draft', 'tasks.write', 'contacts.read', 'notifications.write', 'memory.write', 'calendar.read', 'agents.run'] as const;

/** The template gallery (`/marketplace`) and the Installed tab (`/marketplace/installed`). */
export function MarketplacePage({ client, tab, onUnauthorized }: { client: ApiClient; tab: 'browse' | 'installed'; onUnauthorized: () => void }) {
  const [publishing, setPublishing] = useState(false);
  return (
    <div className="page mp-page">
      <header className="page__header">
        <div>
          <h1 className="page__title">Templates</h1>
          <p className="page__subtitle">Flows and agents ready to install: customize them, accept what they may do, and they are yours.</p>
        </div>
        <div className="mp-header-actions">
          <button type="button" className="button button--secondary" onClick={() => setPublishing(true)} data-testid="publish-button">Publish your own</button>
        </div>
      </header>
      {publishing ? <PublishDialog client={client} onClose={() => setPublishing(false)} /> : null}
      <div className="segmented" role="tablist" aria-label="Templates">
        {(['browse', 'installed'] as const).map((t) => {
          const href = hrefOf({ page: 'marketplace', tab: t });
          return (
            <a key={t} role="tab" aria-selected={tab === t} className={`segmented__item${tab === t ? ' segmented__item--active' : ''}`} href={href} onClick={linkHandler(href)} data-testid={`tab-${t}`}>
              {t === 'browse' ? 'Browse' : 'Installed'}
            </a>
          );
        })}
      </div>
      {tab === 'browse' ? <Gallery client={client} onUnauthorized={onUnauthorized} /> : <Installed client={client} onUnauthorized={onUnauthorized} />}
    </div>
  );
}

function Gallery({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const [query, setQuery] = useState('');
  const [debounced, setDebounced] = useState('');
  const [category, setCategory] = useState<Category | ''>('');
  const [minRating, setMinRating] = useState(0);
  const [safeOnly, setSafeOnly] = useState(false);
  const [sort, setSort] = useState<Sort>('auto');
  const [items, setItems] = useState<TemplateSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const t = setTimeout(() => setDebounced(query.trim()), 250);
    return () => clearTimeout(t);
  }, [query]);

  const effectiveSort: 'relevance' | (typeof SORTS)[number]['id'] = sort === 'auto' ? (debounced ? 'relevance' : 'popular') : sort;
  const input = useCallback((c?: string) => ({
    ...(debounced ? { query: debounced } : {}), ...(category ? { category } : {}), sort: effectiveSort, limit: 24, ...(c ? { cursor: c } : {}),
    ...(minRating ? { minRating } : {}), ...(safeOnly ? { permissions: [...INSIDE_ONLY] } : {}),
  }), [debounced, category, effectiveSort, minRating, safeOnly]);

  useEffect(() => {
    let live = true;
    setError(null);
    client.templates.search.query(input()).then((page) => {
      if (!live) return;
      setItems(page.items);
      setCursor(page.nextCursor);
    }, (e: unknown) => {
      if (!live) return;
      if (isUnauthorized(e)) onUnauthorized();
      setError(e);
    });
    return () => {
      live = false;
    };
  }, [client, input, onUnauthorized, attempt]);

  const more = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await client.templates.search.query(input(cursor));
      setItems((prev) => [...(prev ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(e);
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <>
      <div className="mp-filters">
        <input className="input input--search mp-filters__search" type="search" placeholder="Search templates by name, tag or description" value={query}
          onChange={(e) => setQuery(e.target.value)} aria-label="Search templates" data-testid="template-search" />
        <select className="input mp-filters__select" value={category} onChange={(e) => setCategory(e.target.value as Category | '')} aria-label="Category" data-testid="template-category">
          <option value="">All categories</option>
          {TEMPLATE_CATEGORIES.map((c) => <option key={c} value={c}>{CATEGORY_LABELS[c] ?? c}</option>)}
        </select>
        <select className="input mp-filters__select" value={minRating} onChange={(e) => setMinRating(Number(e.target.value))} aria-label="Minimum rating" data-testid="template-min-rating">
          <option value={0}>Any rating</option>
          <option value={4}>4 stars and up</option>
          <option value={3}>3 stars and up</option>
        </select>
        <label className="check mp-filters__check" title="Only templates that send no email, change no contact or calendar and call no web address">
          <input type="checkbox" checked={safeOnly} onChange={(e) => setSafeOnly(e.target.checked)} data-testid="template-inside-only" />
          <span>Nothing leaves the studio</span>
        </label>
        <select className="input mp-filters__select" value={sort} onChange={(e) => setSort(e.target.value as Sort)} aria-label="Sort" data-testid="template-sort">
          <option value="auto">{debounced ? 'Best match' : 'Most installed'}</option>
          {SORTS.filter((o) => o.id !== 'popular' || debounced).map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
        </select>
      </div>
      {error ? <LoadErrorBanner error={error} task="load the templates" onRetry={() => setAttempt((n) => n + 1)} /> : null}
      {items === null ? (
        <ul className="mp-grid" aria-busy="true" aria-label="Loading templates">
          {[0, 1, 2, 3, 4, 5].map((i) => <li key={i} className="mp-card mp-card--loading"><span className="skeleton" style={{ width: '100%', height: 200 }} /></li>)}
        </ul>
      ) : items.length === 0 ? (
        <div className="empty" data-testid="templates-empty">
          <h2 className="empty__title">No template matches</h2>
          <p className="empty__text">Try other words, or all categories.</p>
        </div>
      ) : (
        <>
          <ul className="mp-grid" data-testid="template-grid">
            {items.map((t) => <TemplateCard key={t.id} template={t} />)}
          </ul>
          {cursor ? (
            <div className="mp-more">
              <button type="button" className="button button--secondary" onClick={more} disabled={loadingMore}>{loadingMore ? 'Loading…' : 'Show more'}</button>
            </div>
          ) : null}
        </>
      )}
    </>
  );
}

type Install = QueryOutput<ApiClient['templates']['installed']>['items'][number];

function Installed({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const load = useCallback(() => client.templates.installed.query({}), [client]);
  const installed = useRemote(load);
  const [upgrading, setUpgrading] = useState<string | null>(null);
  const [granting, setGranting] = useState<Install | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const { dialog, ask } = useConfirm();
  const unauthorized = installed.status === 'error' && isUnauthorized(installed.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  const uninstall = async (i: Install) => {
    const ok = await ask({
      title: `Uninstall “${i.name}”?`,
      description: `Deletes what it created: ${[...i.agents.map((a) => `the agent “${a.name}”`), ...i.flows.map((f) => `the flow “${f.name}”`)].join(', ') || 'nothing is left'}. Runs still going are cancelled.`,
      confirmLabel: 'Uninstall',
    });
    if (!ok) return;
    try {
      await client.templates.uninstall.mutate({ installId: i.id });
      setNotice(`Uninstalled “${i.name}”.`);
    } catch (e) {
      setNotice(describeError(e, 'uninstall the template'));
    }
    installed.reload();
  };

  const items = installed.data?.items;
  return (
    <>
      {dialog}
      {notice ? <p className="muted" role="status">{notice}</p> : null}
      {installed.status === 'error' ? <LoadErrorBanner error={installed.error} task="load your installed templates" onRetry={installed.reload} /> : null}
      {items && items.length === 0 ? (
        <div className="empty" data-testid="installed-empty">
          <h2 className="empty__title">Nothing installed yet</h2>
          <p className="empty__text">Install a template from the gallery; it shows up here with updates when a new version comes out.</p>
          <a className="button button--primary" href="/marketplace" onClick={linkHandler('/marketplace')}>Browse templates</a>
        </div>
      ) : null}
      {items?.length ? (
        <ul className="mp-installed" data-testid="installed-list">
          {items.map((i) => (
            <li key={i.id} className="mp-installed__item" data-testid="installed-item" data-template-id={i.templateId}>
              <div className="mp-installed__main">
                <div className="mp-installed__title">
                  <strong>{i.name}</strong>
                  <span className="muted">installed from <a href={hrefOf({ page: 'template', templateId: i.templateId })} onClick={linkHandler(hrefOf({ page: 'template', templateId: i.templateId }))}>{i.templateName}</a>@{i.version}</span>
                  {i.updateAvailable ? <span className="mp-update-badge" data-testid="update-available">Update available: {i.latestVersion}</span> : null}
                  {i.missing.length ? <span className="mp-missing-badge" data-testid="permissions-missing" title={i.missing.map(permissionLabel).join('; ')}>Needs permission: {i.missing.map(permissionLabel).join(', ')}</span> : null}
                </div>
                <div className="mp-installed__parts">
                  {i.agents.map((a) => <a key={a.id} className="chip" href={hrefOf({ page: 'agent', agentId: a.id })} onClick={linkHandler(hrefOf({ page: 'agent', agentId: a.id }))}>Agent · {a.name}</a>)}
                  {i.flows.map((f) => <a key={f.docId} className="chip" href={hrefOf({ page: 'editor', docId: f.docId })} onClick={linkHandler(hrefOf({ page: 'editor', docId: f.docId }))}>{f.kind === 'plan' ? `Plan · ${f.name}` : `Flow · ${f.name} (${f.status})`}</a>)}
                </div>
              </div>
              <div className="mp-installed__actions">
                {i.updateAvailable ? <button type="button" className="button button--primary button--small" onClick={() => setUpgrading(i.id)} data-testid="update-button">Update</button> : null}
                <button type="button" className={`button button--small ${i.missing.length ? 'button--primary' : 'button--ghost'}`} onClick={() => setGranting(i)} data-testid="permissions-button">Permissions…</button>
                <button type="button" className="button button--ghost button--small" onClick={() => uninstall(i)} data-testid="uninstall-button">Uninstall</button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {granting ? <GrantDialog client={client} install={granting} onClose={() => setGranting(null)} onGranted={() => { setNotice(`Allowed for “${granting.name}”.`); installed.reload(); }} /> : null}
      {upgrading ? <UpgradeDialog client={client} installId={upgrading} onClose={() => setUpgrading(null)} onUpgraded={installed.reload} /> : null}
    </>
  );
}
