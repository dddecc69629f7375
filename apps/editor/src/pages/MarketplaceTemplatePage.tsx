import { useCallback, useEffect, useState } from 'react';
import { permissionLabel } from '@switchyard/schema';
import { LoadErrorBanner } from '../components/Banner';
import { FlowPreview } from '../marketplace/FlowPreview';
import { InstallWizard } from '../marketplace/InstallWizard';
import { Markdown } from '../marketplace/Markdown';
import { PermissionIcons, PermissionList } from '../marketplace/permissions';
import { PublishDialog } from '../marketplace/PublishDialog';
import { StarInput, Stars } from '../marketplace/Stars';
import { CATEGORY_LABELS } from '../marketplace/TemplateCard';
import '../marketplace/marketplace.css';
import { formatDate } from '../format';
import { hrefOf, linkHandler } from '../router';
import { describeError, isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';

/** One template: docs, previews of its flows, its agents, permissions in words, versions, reviews; install and rate. */
export function MarketplaceTemplatePage({ client, templateId, onUnauthorized }: { client: ApiClient; templateId: string; onUnauthorized: () => void }) {
  const load = useCallback(() => client.templates.get.query({ id: templateId }), [client, templateId]);
  const template = useRemote(load);
  const [installing, setInstalling] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const [ownNotice, setOwnNotice] = useState<string | null>(null);
  const [stars, setStars] = useState(0);
  const [review, setReview] = useState('');
  const [rateState, setRateState] = useState<{ busy: boolean; message: string | null }>({ busy: false, message: null });
  const unauthorized = template.status === 'error' && isUnauthorized(template.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);
  const t = template.data;
  useEffect(() => {
    if (t?.myRating) {
      setStars(t.myRating.stars);
      setReview(t.myRating.review);
    }
  }, [t?.myRating]);

  const back = hrefOf({ page: 'marketplace', tab: 'browse' });
  if (!t) {
    return (
      <div className="page">
        <a className="back-link" href={back} onClick={linkHandler(back)}>← Templates</a>
        {template.status === 'error' ? <LoadErrorBanner error={template.error} task="load the template" onRetry={template.reload} /> : <p className="muted">Loading…</p>}
      </div>
    );
  }

  const rate = async () => {
    setRateState({ busy: true, message: null });
    try {
      await client.templates.rate.mutate({ id: t.id, stars, review });
      setRateState({ busy: false, message: 'Thanks, your rating is saved.' });
      template.reload();
    } catch (e) {
      setRateState({ busy: false, message: describeError(e, 'save your rating') });
    }
  };

  return (
    <div className="page mp-page" data-testid="template-page">
      <a className="back-link" href={back} onClick={linkHandler(back)}>← Templates</a>
      <header className="mp-detail__header">
        <div>
          <h1 className="page__title" data-testid="template-title">{t.name}</h1>
          <p className="page__subtitle">{t.description}</p>
          <div className="mp-card__meta">
            <span className="mp-category">{CATEGORY_LABELS[t.category] ?? t.category}</span>
            <Stars average={t.rating.average} count={t.rating.count} />
            <span className="mp-installs" data-testid="detail-installs">{t.installs.toLocaleString()} install{t.installs === 1 ? '' : 's'}</span>
            <span className="muted">v{t.version} · by {t.author}</span>
            {t.tags.map((tag) => <span key={tag} className="mp-tag">#{tag}</span>)}
          </div>
        </div>
        <div className="mp-detail__actions">
          <button type="button" className="button button--primary" onClick={() => setInstalling(true)} data-testid="install-button">
            {t.installed.length ? 'Install again' : 'Install'}
          </button>
          {t.mine ? (
            <div className="mp-header-actions">
              <button type="button" className="button button--secondary button--small" onClick={() => setPublishing(true)} data-testid="publish-version-button">New version</button>
              {t.published ? (
                <button type="button" className="button button--ghost button--small" data-testid="unpublish-button" onClick={async () => {
                  try {
                    await client.templates.unpublish.mutate({ id: t.id });
                    setOwnNotice('Unpublished: others no longer see it; existing installs keep working.');
                    template.reload();
                  } catch (e) {
                    setOwnNotice(describeError(e, 'unpublish the template'));
                  }
                }}>Unpublish</button>
              ) : <span className="muted">Not published</span>}
            </div>
          ) : null}
          {ownNotice ? <span className="muted" role="status">{ownNotice}</span> : null}
          {t.installed.length ? (
            <a className="muted" href={hrefOf({ page: 'marketplace', tab: 'installed' })} onClick={linkHandler(hrefOf({ page: 'marketplace', tab: 'installed' }))}>
              Installed {t.installed.length}× — manage
            </a>
          ) : null}
        </div>
      </header>

      <div className="mp-detail">
        <div className="mp-detail__main">
          {t.flows.length ? (
            <section className="mp-section">
              <h2 className="mp-section__title">Flows</h2>
              {t.flows.map((f) => (
                <figure key={f.id} className="mp-flow">
                  <FlowPreview flow={f} height={150} labels />
                  <figcaption>
                    <strong>{f.name}</strong> <span className="muted">{f.description}</span>
                  </figcaption>
                </figure>
              ))}
            </section>
          ) : null}
          <section className="mp-section">
            <h2 className="mp-section__title">About</h2>
            {t.docs ? <Markdown source={t.docs} /> : <p className="muted">No documentation.</p>}
          </section>
          <section className="mp-section" data-testid="reviews">
            <h2 className="mp-section__title">Reviews</h2>
            {t.mine ? null : <div className="mp-rate">
              <StarInput value={stars} onChange={setStars} disabled={rateState.busy} />
              <textarea className="input input--area" placeholder="What worked, what did not (optional)" value={review} maxLength={5000}
                onChange={(e) => setReview(e.target.value)} aria-label="Your review" data-testid="review-text" />
              <div>
                <button type="button" className="button button--secondary button--small" onClick={rate} disabled={!stars || rateState.busy} data-testid="rate-submit">
                  {t.myRating ? 'Update my rating' : 'Rate'}
                </button>
                {rateState.message ? <span className="muted mp-rate__message" role="status">{rateState.message}</span> : null}
              </div>
            </div>}
            {t.reviews.length ? (
              <ul className="mp-reviews">
                {t.reviews.map((r, i) => (
                  <li key={i} className="mp-review">
                    <Stars average={r.stars} />
                    <span className="mp-review__author">{r.author}{r.mine ? ' (you)' : ''}</span>
                    <span className="muted">{formatDate(r.updatedAt)}</span>
                    {r.review ? <p className="mp-review__text">{r.review}</p> : null}
                  </li>
                ))}
              </ul>
            ) : <p className="muted">No reviews yet.</p>}
          </section>
        </div>
        <aside className="mp-detail__side">
          <section className="side-card">
            <h2 className="side-card__title">What it may do</h2>
            <PermissionList permissions={t.permissions} />
            <p className="field__hint">Computed from the steps and agent tools it uses; you accept each when installing, and anything else is refused at run time.</p>
          </section>
          {t.agents.length ? (
            <section className="side-card">
              <h2 className="side-card__title">Agents</h2>
              {t.agents.map((a) => (
                <div key={a.ref} className="mp-agent">
                  <strong>{a.name}</strong>
                  <p className="muted">{a.description}</p>
                  <p className="mp-agent__skills">Skills: {a.skills.join(', ') || 'none'}</p>
                  <div className="mp-agent__perms">
                    <PermissionIcons permissions={a.toolPermissions} />
                    <span>Its tools: {a.toolPermissions.map(permissionLabel).join(', ').toLowerCase()}</span>
                  </div>
                </div>
              ))}
            </section>
          ) : null}
          <section className="side-card" data-testid="versions">
            <h2 className="side-card__title">Versions</h2>
            <ul className="mp-versions">
              {t.versions.map((v) => (
                <li key={v.version}>
                  <strong>{v.version}</strong> <span className="muted">{formatDate(v.createdAt)}</span>
                  {v.notes ? <p className="mp-versions__notes">{v.notes}</p> : null}
                </li>
              ))}
            </ul>
          </section>
        </aside>
      </div>
      {publishing ? (
        <PublishDialog client={client} base={{ id: t.id, name: t.name, description: t.description, category: t.category, tags: t.tags, version: t.version, docs: t.docs }}
          onClose={() => {
            setPublishing(false);
            template.reload();
          }} />
      ) : null}
      {installing ? <InstallWizard client={client} template={t} onClose={() => setInstalling(false)} onInstalled={template.reload} /> : null}
    </div>
  );
}
