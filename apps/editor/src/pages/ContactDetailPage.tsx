import { useCallback, useEffect, useState } from 'react';
import { LoadErrorBanner } from '../components/Banner';
import { Strength } from '../crm/CrmListPage';
import { CrmTabs } from '../crm/CrmTabs';
import { DraftDialog } from '../crm/DraftDialog';
import { dateTime, relativeTime } from '../crm/types';
import { linkHandler } from '../router';
import { isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';
import '../crm/crm.css';

const json = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v, null, 1));

/** One contact and what runs and agents produced about them: emails, tasks, follow-ups, drafts, suggestions, agent memory. */
export function ContactDetailPage({ client, contactId, onUnauthorized }: { client: ApiClient; contactId: string; onUnauthorized: () => void }) {
  const load = useCallback(() => client.crm.contacts.detail.query({ id: contactId }), [client, contactId]);
  const detail = useRemote(load);
  const [openDraft, setOpenDraft] = useState<string | null>(null);
  const unauthorized = detail.status === 'error' && isUnauthorized(detail.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);
  const d = detail.data;
  return (
    <div className="page">
      <a className="back-link" href="/contacts" onClick={linkHandler('/contacts')}>
        ← Contacts
      </a>
      <CrmTabs current="contacts" />
      {detail.status === 'error' && !unauthorized ? <LoadErrorBanner error={detail.error} task="load the contact" onRetry={detail.reload} /> : null}
      {!d ? (
        detail.status === 'loading' ? <p className="muted">Loading…</p> : null
      ) : (
        <>
          <div className="page__header">
            <div>
              <h1 className="page__title" data-testid="contact-name">{d.contact.name}</h1>
              <p className="page__subtitle">
                {d.contact.email}
                {d.contact.company ? ` · ${d.contact.title ? `${d.contact.title}, ` : ''}${d.contact.company}` : ''}
              </p>
            </div>
          </div>
          <div className="crm-grid">
            <div>
              <section className="crm-card" data-testid="contact-interactions">
                <h2 className="crm-card__title">Emails and interactions</h2>
                {d.threads.length === 0 ? <p className="crm-card__empty">No emails with {d.contact.name} yet.</p> : null}
                {d.threads.map((t) => (
                  <div key={t.id} className="thread">
                    <div className="crm-list__head">
                      <span className="thread__subject">{t.subject || '(no subject)'}</span>
                      <span className="crm-list__sub">{t.messageCount} message{t.messageCount === 1 ? '' : 's'} · {relativeTime(t.lastMessageAt)}</span>
                    </div>
                    {t.messages.map((m) => (
                      <div key={m.id} className={`mail mail--${m.direction}`} data-testid="contact-email">
                        <div className="mail__head">
                          {m.direction === 'inbound' ? `From ${m.from}` : `To ${m.to.join(', ')}`} · {dateTime(m.at)}
                        </div>
                        {m.body ? <p className="mail__body">{m.body.length > 600 ? `${m.body.slice(0, 600)}…` : m.body}</p> : null}
                      </div>
                    ))}
                  </div>
                ))}
              </section>
              <section className="crm-card" data-testid="contact-drafts">
                <h2 className="crm-card__title">Drafts</h2>
                {d.drafts.length === 0 ? <p className="crm-card__empty">No drafts.</p> : null}
                <ul className="crm-list">
                  {d.drafts.map((x) => (
                    <li key={x.id} className="crm-list__item">
                      <div className="crm-list__head">
                        <button type="button" className="crm-link-button" onClick={() => setOpenDraft(x.id)} data-testid="contact-draft">
                          {x.subject || '(no subject)'}
                        </button>
                        <span className={`pill pill--${x.status}`}>{x.status}</span>
                      </div>
                      <p className="crm-list__text">{x.body.length > 200 ? `${x.body.slice(0, 200)}…` : x.body}</p>
                      {x.sourceRunId ? (
                        <a className="crm-list__sub" href={`/monitor/runs/${x.sourceRunId}`} onClick={linkHandler(`/monitor/runs/${x.sourceRunId}`)}>
                          Made by a run
                        </a>
                      ) : null}
                    </li>
                  ))}
                </ul>
              </section>
              <section className="crm-card">
                <h2 className="crm-card__title">Tasks</h2>
                {d.tasks.length === 0 ? <p className="crm-card__empty">No tasks.</p> : null}
                <ul className="crm-list">
                  {d.tasks.map((t) => (
                    <li key={t.id} className="crm-list__item">
                      <div className="crm-list__head">
                        <span>{t.title}</span>
                        <span className={`pill pill--${t.status === 'completed' ? 'completed' : t.priority}`}>{t.status === 'completed' ? 'done' : t.priority}</span>
                      </div>
                      <span className="crm-list__sub">{t.dueAt ? `Due ${relativeTime(t.dueAt)}` : 'No due date'}</span>
                    </li>
                  ))}
                </ul>
              </section>
            </div>
            <div>
              <section className="crm-card">
                <h2 className="crm-card__title">About</h2>
                <dl className="contact-facts">
                  <dt>Strength</dt>
                  <dd><Strength value={d.contact.relationshipStrength} /></dd>
                  <dt>Last contact</dt>
                  <dd>{relativeTime(d.contact.lastInteractionAt)}</dd>
                  {d.contact.phone ? (<><dt>Phone</dt><dd>{d.contact.phone}</dd></>) : null}
                  <dt>Tags</dt>
                  <dd>{d.contact.tags.length ? d.contact.tags.map((t) => <span key={t} className="pill">{t}</span>) : '—'}</dd>
                </dl>
                {d.contact.notes ? <p className="crm-list__text">{d.contact.notes}</p> : null}
              </section>
              <section className="crm-card">
                <h2 className="crm-card__title">Follow-ups</h2>
                {d.followUps.length === 0 ? <p className="crm-card__empty">No follow-ups.</p> : null}
                <ul className="crm-list">
                  {d.followUps.map((f) => (
                    <li key={f.id} className="crm-list__item">
                      <div className="crm-list__head">
                        <span>{f.note || 'Follow up'}</span>
                        <span className={`pill pill--${f.status}`}>{f.status}</span>
                      </div>
                      <span className="crm-list__sub">Due {relativeTime(f.dueAt)}</span>
                    </li>
                  ))}
                </ul>
              </section>
              <section className="crm-card">
                <h2 className="crm-card__title">Suggestions</h2>
                {d.notifications.length === 0 ? <p className="crm-card__empty">No suggestions about {d.contact.name}.</p> : null}
                <ul className="crm-list">
                  {d.notifications.map((n) => (
                    <li key={n.id} className="crm-list__item">
                      <div className="crm-list__head">
                        <a className="row-link" href="/inbox" onClick={linkHandler('/inbox')}>{n.title}</a>
                        <span className={`pill pill--${n.state}`}>{n.state}</span>
                      </div>
                      <span className="crm-list__sub">{relativeTime(n.createdAt)}</span>
                    </li>
                  ))}
                </ul>
              </section>
              <section className="crm-card" data-testid="contact-memory">
                <h2 className="crm-card__title">What agents remember</h2>
                {d.agentMemory.entries.length === 0 && d.agentMemory.interactions.length === 0 ? (
                  <p className="crm-card__empty">No agent has noted anything about {d.contact.name} yet.</p>
                ) : null}
                <ul className="crm-list">
                  {d.agentMemory.entries.map((m) => (
                    <li key={`${m.agentId}:${m.key}`} className="crm-list__item">
                      <div className="crm-list__head"><span className="code-inline">{m.key}</span><span className="crm-list__sub">{m.agentName}</span></div>
                      <p className="crm-list__text">{json(m.value)}</p>
                    </li>
                  ))}
                  {d.agentMemory.interactions.map((i, k) => (
                    <li key={`i${k}`} className="crm-list__item">
                      <div className="crm-list__head"><span>{i.agentName}</span><span className="crm-list__sub">{relativeTime(i.at)}</span></div>
                      <p className="crm-list__text">{json(i.data)}</p>
                    </li>
                  ))}
                </ul>
              </section>
            </div>
          </div>
        </>
      )}
      {openDraft ? <DraftDialog client={client} draftId={openDraft} onClose={() => setOpenDraft(null)} onChanged={detail.reload} /> : null}
    </div>
  );
}
