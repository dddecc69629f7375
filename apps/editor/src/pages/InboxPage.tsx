import { useCallback, useEffect, useState } from 'react';
import { Banner, LoadErrorBanner } from '../components/Banner';
import { LiveNote } from '../agents/shared';
import { DraftDialog } from '../crm/DraftDialog';
import { SnoozeMenu } from '../crm/SnoozeMenu';
import { dateTime, relativeTime, type NotificationButton, type NotificationItem } from '../crm/types';
import { useInboxCounts } from '../crm/useInboxCounts';
import { linkHandler, navigate } from '../router';
import { describeError, isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';
import '../crm/crm.css';

type View = 'inbox' | 'snoozed' | 'done';
const VIEWS: { id: View; label: string }[] = [
  { id: 'inbox', label: 'Inbox' },
  { id: 'snoozed', label: 'Snoozed' },
  { id: 'done', label: 'Done' },
];
const PRIORITIES = [
  { id: 'high', label: 'High priority' },
  { id: 'normal', label: 'Normal' },
  { id: 'low', label: 'Low priority' },
] as const;

/** What a done notification says about itself. */
function outcome(n: NotificationItem): string {
  if (n.state === 'dismissed') return `Dismissed ${relativeTime(n.dismissedAt)}`;
  const label = n.actions.find((a) => a.id === n.actedAction)?.label ?? n.actedAction ?? 'Answered';
  return `${label} · ${relativeTime(n.actedAt)}`;
}

/**
 * The inbox: suggestions and notifications from runs, grouped by priority, with their buttons
 * (compose opens the prepared draft, mark complete, snooze, dismiss, open contact). Live: the
 * list reloads whenever `notifications.watch` reports a change, from any process.
 */
export function InboxPage({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const [view, setView] = useState<View>('inbox');
  const load = useCallback(() => client.notifications.list.query({ view, limit: 100 }), [client, view]);
  const list = useRemote(load);
  const { counts, status } = useInboxCounts(client);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  const [openDraft, setOpenDraft] = useState<string | null>(null);

  const unauthorized = list.status === 'error' && isUnauthorized(list.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  const { reload } = list;
  const version = counts?.version;
  useEffect(() => {
    if (version !== undefined) reload();
  }, [version, view, reload]);

  const act = async (n: NotificationItem, what: string, call: () => Promise<{ result: { kind: string } & Record<string, unknown> }>) => {
    setBusy(n.id);
    setNotice(null);
    try {
      const { result } = await call();
      if (result.kind === 'compose-email' && typeof result.draftId === 'string') setOpenDraft(result.draftId);
      else if (result.kind === 'open-contact' && typeof result.contactId === 'string') navigate(`/contacts/${result.contactId}`);
      else if (result.kind === 'snooze' && typeof result.until === 'string') setNotice({ tone: 'info', text: `Snoozed “${n.title}” until ${dateTime(result.until)}.` });
      else if (result.kind === 'complete-follow-up') setNotice({ tone: 'info', text: 'Follow-up marked complete.' });
      else if (result.kind === 'dismiss') setNotice({ tone: 'info', text: `Dismissed “${n.title}”.` });
    } catch (e) {
      setNotice({ tone: 'error', text: describeError(e, what) });
    } finally {
      setBusy(null);
      reload();
    }
  };

  const button = (n: NotificationItem, a: NotificationButton) => {
    const disabled = busy === n.id;
    if (a.kind === 'snooze') {
      return (
        <SnoozeMenu key={a.id} label={a.label} disabled={disabled} onSnooze={(until) => void act(n, 'snooze it', () => client.notifications.act.mutate({ id: n.id, actionId: a.id, until: until.toISOString() }))} />
      );
    }
    const primary = a.kind === 'compose-email' || a.kind === 'complete-follow-up';
    return (
      <button
        key={a.id}
        type="button"
        className={`button button--small ${primary ? 'button--primary' : a.kind === 'dismiss' ? 'button--ghost' : 'button--secondary'}`}
        disabled={disabled}
        onClick={() => void act(n, a.label.toLowerCase(), () => client.notifications.act.mutate({ id: n.id, actionId: a.id }))}
        data-testid={`act-${a.id}`}
      >
        {a.label}
      </button>
    );
  };

  const card = (n: NotificationItem) => {
    const open = n.state === 'unread' || n.state === 'read';
    const hasSnooze = n.actions.some((a) => a.kind === 'snooze');
    const hasDismiss = n.actions.some((a) => a.kind === 'dismiss');
    return (
      <article key={n.id} className={`note-card${n.state === 'unread' ? ' note-card--unread' : ''}`} data-testid="notification" data-id={n.id} data-state={n.state}>
        <div>
          <h3 className="note-card__title">{n.title}</h3>
          {n.body ? <p className="note-card__body">{n.body}</p> : null}
          <div className="note-card__meta">
            <span title={dateTime(n.createdAt)}>{relativeTime(n.returnedAt ?? n.createdAt)}{n.returnedAt ? ' (back from snooze)' : ''}</span>
            {n.contact ? (
              <a href={`/contacts/${n.contact.id}`} onClick={linkHandler(`/contacts/${n.contact.id}`)}>
                {n.contact.name}
              </a>
            ) : null}
            {n.behaviorName ? <span>from {n.behaviorName}</span> : null}
            {n.sourceRunId ? (
              <a href={`/monitor/runs/${n.sourceRunId}`} onClick={linkHandler(`/monitor/runs/${n.sourceRunId}`)}>
                run
              </a>
            ) : null}
          </div>
        </div>
        <span className={`pill pill--${n.priority}`}>{n.priority}</span>
        <div className="note-card__actions">
          {open || n.state === 'snoozed' ? (
            <>
              {n.actions.map((a) => button(n, a))}
              {!hasSnooze && n.state !== 'snoozed' ? (
                <SnoozeMenu disabled={busy === n.id} onSnooze={(until) => void act(n, 'snooze it', () => client.notifications.snooze.mutate({ id: n.id, until: until.toISOString() }))} />
              ) : null}
              {!hasDismiss ? (
                <button type="button" className="button button--ghost button--small" disabled={busy === n.id} onClick={() => void act(n, 'dismiss it', () => client.notifications.dismiss.mutate({ id: n.id }))} data-testid="dismiss">
                  Dismiss
                </button>
              ) : null}
              {n.state === 'snoozed' ? <span className="note-card__state">Back {relativeTime(n.snoozedUntil)} · {dateTime(n.snoozedUntil)}</span> : null}
            </>
          ) : (
            <>
              <span className="note-card__state">{outcome(n)}</span>
              {n.actedResult && typeof n.actedResult === 'object' && 'draftId' in n.actedResult && typeof n.actedResult.draftId === 'string' ? (
                <button type="button" className="button button--secondary button--small" onClick={() => setOpenDraft((n.actedResult as { draftId: string }).draftId)}>
                  Open draft
                </button>
              ) : null}
            </>
          )}
        </div>
      </article>
    );
  };

  const items = list.data?.items ?? null;
  return (
    <div className="page" data-live={status}>
      <div className="page__header">
        <div>
          <h1 className="page__title">Inbox</h1>
          <p className="page__subtitle">Suggestions and reminders your behaviors and workflows raised. Act on them, snooze them or let them go.</p>
          <LiveNote status={status} retryInMs={null} />
        </div>
      </div>
      <nav className="segmented inbox-views" aria-label="Inbox views">
        {VIEWS.map((v) => (
          <button key={v.id} type="button" className={`segmented__item${v.id === view ? ' segmented__item--active' : ''}`} aria-pressed={v.id === view} onClick={() => setView(v.id)} data-testid={`view-${v.id}`}>
            {v.label}
            {v.id === 'inbox' && counts ? <span className="segmented__count">{counts.inbox}</span> : null}
            {v.id === 'snoozed' && counts && counts.snoozed > 0 ? <span className="segmented__count">{counts.snoozed}</span> : null}
          </button>
        ))}
      </nav>
      {notice ? <Banner tone={notice.tone} message={notice.text} testId="inbox-notice" /> : null}
      {list.status === 'error' && !unauthorized ? <LoadErrorBanner error={list.error} task="load your inbox" onRetry={reload} /> : null}
      {items === null ? (
        <p className="muted">Loading…</p>
      ) : items.length === 0 ? (
        <div className="empty" data-testid="inbox-empty">
          <h2 className="empty__title">{view === 'inbox' ? 'You are all caught up' : view === 'snoozed' ? 'Nothing snoozed' : 'Nothing done yet'}</h2>
          <p className="empty__text">
            {view === 'inbox'
              ? 'New suggestions from your behaviors (dormant contacts, follow-ups that are due…) appear here as soon as a run raises them.'
              : view === 'snoozed'
                ? 'Snoozed notifications wait here and come back to the inbox at the time you chose.'
                : 'Notifications you acted on or dismissed are kept here.'}
          </p>
        </div>
      ) : view === 'inbox' ? (
        PRIORITIES.map((p) => {
          const group = items.filter((n) => n.priority === p.id);
          if (group.length === 0) return null;
          return (
            <section key={p.id} className="inbox-group" data-testid={`group-${p.id}`}>
              <h2 className="inbox-group__title">
                <span className={`inbox-group__dot inbox-group__dot--${p.id}`} aria-hidden="true" />
                {p.label} · {group.length}
              </h2>
              {group.map(card)}
            </section>
          );
        })
      ) : (
        items.map(card)
      )}
      {openDraft ? <DraftDialog client={client} draftId={openDraft} onClose={() => setOpenDraft(null)} onChanged={reload} /> : null}
    </div>
  );
}
