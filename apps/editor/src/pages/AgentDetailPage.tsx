import type { FeedbackType } from '@switchyard/schema';
import { useCallback, useEffect, useRef, useState } from 'react';
import { CAP_FIELDS } from '../agents/caps';
import { liveKey, useAgentWatch } from '../agents/live';
import { MessageFeedback } from '../agents/MessageFeedback';
import { ProposalCard, type Decision, type Proposal } from '../agents/ProposalCard';
import { decisionSummary } from '../agents/proposals';
import { AgentStateBadge, FEEDBACK, LiveNote, PersonalitySliders, TRAIT_LABEL, type MemoryView } from '../agents/shared';
import { Banner, RetryButton } from '../components/Banner';
import { ChatPlanCard, useChatPlans } from '../plans/ChatPlanCard';
import { AgentActivityLine, useAgentActivityFeed } from '../monitor/agent-activity';
import { formatDateTime, formatRelative } from '../format';
import { hrefOf, linkHandler } from '../router';
import { describeError, errorCode, isUnauthorized, switchyardCode, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';

type Message = NonNullable<MemoryView['conversation']>['messages'][number];
type Tab = 'chat' | 'memory';

const isOffline = (model: string | null | undefined) => model === 'offline';

export function AgentDetailPage({ client, agentId, onUnauthorized }: { client: ApiClient; agentId: string; onUnauthorized: () => void }) {
  const loadAgent = useCallback(() => client.agents.get.query({ id: agentId }), [client, agentId]);
  const agent = useRemote(loadAgent);
  const loadMemory = useCallback(() => client.agents.memory.query({ id: agentId }), [client, agentId]);
  const memory = useRemote(loadMemory);
  const watch = useAgentWatch(client, agentId);
  const live = watch.agents[agentId];
  // Its current request (monitor.live), with the run it serves.
  const activity = useAgentActivityFeed(client);
  const [tab, setTab] = useState<Tab>('chat');
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  const [decided, setDecided] = useState<DecidedProposal[]>([]);
  const listEnd = useRef<HTMLDivElement>(null);
  const approvalsRef = useRef<HTMLElement>(null);
  const [reviewRequested, setReviewRequested] = useState(false);

  const unauthorized = (agent.status === 'error' && isUnauthorized(agent.error)) || (memory.status === 'error' && isUnauthorized(memory.error));
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  // The conversation comes with the memory view the first time; afterwards chat answers carry it.
  const memoryMessages = memory.data?.conversation?.messages ?? null;
  useEffect(() => {
    if (messages === null && memory.status === 'ready') setMessages(memoryMessages ?? []);
  }, [messages, memory.status, memoryMessages]);

  useEffect(() => {
    listEnd.current?.scrollIntoView?.({ block: 'nearest' });
  }, [messages?.length]);
  // Plans proposed in this chat, shown as cards under the answers that offered them.
  const chatPlans = useChatPlans(client, agentId, messages?.length ?? 0);

  // Pushed state: a new state or a new number of proposals means the proposals list changed.
  const key = liveKey(live);
  const { reload: reloadMemory } = memory;
  useEffect(() => {
    if (key !== null) reloadMemory();
  }, [key, reloadMemory]);

  // "Review" on the callout opens the memory tab; scroll once the list is there.
  useEffect(() => {
    if (!reviewRequested || tab !== 'memory' || !memory.data) return;
    approvalsRef.current?.scrollIntoView?.({ block: 'start', behavior: 'smooth' });
    approvalsRef.current?.focus({ preventScroll: true });
    setReviewRequested(false);
  }, [reviewRequested, tab, memory.data]);

  /**
   * One chat turn. A turn the model did not answer comes back from the server marked failed, shown
   * with a Retry (`retryOf` asks it again and hides the failed one).
   */
  const ask = async (text: string, retryOf?: number) => {
    if (!text || sending) return;
    setSending(true);
    setNotice(null);
    // Shown at once; replaced by the server's history when the answer comes.
    setMessages((m) => [
      ...(m ?? []).filter((x) => x.id !== retryOf),
      { id: -Date.now(), role: 'user', content: text, model: null, createdAt: new Date().toISOString(), feedback: [], status: 'ok' } as Message,
    ]);
    try {
      const res = await client.agents.chat.mutate({ id: agentId, message: text, ...(retryOf === undefined ? {} : { retryOf }) });
      setMessages(res.messages);
    } catch (error) {
      // The stored conversation shows a question the model did not answer as failed, with its
      // Retry (and the agent's error banner says why); anything else is said here.
      const stored = await client.agents.memory.query({ id: agentId }).then((v) => v.conversation?.messages ?? null, () => null);
      const last = stored?.filter((m) => m.role === 'user').at(-1);
      if (stored && last?.status === 'failed' && last.content === text) setMessages(stored);
      else {
        setNotice({ tone: 'error', text: describeError(error, 'send the message') });
        setMessages(stored ?? ((m) => (m ?? []).filter((x) => x.id >= 0)));
        if (retryOf === undefined) setDraft(text);
      }
    } finally {
      setSending(false);
      agent.reload();
      memory.reload();
    }
  };

  const send = async (event: React.FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text || sending) return;
    setDraft('');
    await ask(text);
  };

  /** Feedback on one reply; resolves to whether it was recorded (the options stay open if not). */
  const feedback = async (messageId: number, type: FeedbackType): Promise<boolean> => {
    setNotice(null);
    try {
      const res = await client.agents.feedback.mutate({ id: agentId, feedback: type, messageId });
      setMessages((ms) => ms?.map((m) => (m.id === messageId ? { ...m, feedback: [...m.feedback, type] } : m)) ?? ms);
      const trait = FEEDBACK.find((f) => f.id === type)?.trait;
      if (trait) setNotice({ tone: 'info', text: `Thanks — ${TRAIT_LABEL[trait].label.toLowerCase()} is now ${res.personality[trait].toFixed(1)}.` });
      return true;
    } catch (error) {
      setNotice({ tone: 'error', text: describeError(error, 'record the feedback') });
      return false;
    } finally {
      agent.reload();
      memory.reload();
    }
  };

  const decide = async (proposal: Proposal, decision: Decision, comment: string) => {
    setNotice(null);
    try {
      const input = { id: agentId, approvalId: proposal.id, ...(comment ? { comment } : {}) };
      const res = decision === 'approve' ? await client.agents.approve.mutate(input) : await client.agents.reject.mutate(input);
      const summary = decisionSummary(res.tool, proposal.args, res.status);
      setDecided((d) => [{ id: res.id, tool: res.tool, status: res.status, summary, at: new Date().toISOString() }, ...d].slice(0, 5));
      setNotice({ tone: 'info', text: summary });
    } catch (error) {
      // Decided elsewhere: the fresh list no longer has it. The card says what happened.
      if (switchyardCode(error) !== 'INVALID_STATE' && errorCode(error) !== 'NOT_FOUND') throw error;
      setNotice({ tone: 'info', text: 'That proposal was already decided elsewhere; the list is up to date now.' });
      throw error;
    } finally {
      memory.reload();
      agent.reload();
    }
  };

  const a = agent.data;
  if (!a) {
    if (agent.status === 'error' && !unauthorized) {
      const notFound = errorCode(agent.error) === 'NOT_FOUND';
      return (
        <div className="page">
          <BackLink />
          <Banner
            tone="error"
            testId="error-banner"
            message={notFound ? 'This agent does not exist (any more). It may have been deleted.' : describeError(agent.error, 'load the agent')}
            action={notFound ? null : <RetryButton onClick={agent.reload} />}
          />
        </div>
      );
    }
    return (
      <div className="page">
        <BackLink />
        <p className="muted" data-testid="loading">
          Loading the agent…
        </p>
      </div>
    );
  }

  const state = live?.state ?? a.state;
  const lastError = live ? live.lastError : null;
  const proposals = memory.data?.approvals ?? null;
  const pending = proposals?.length ?? live?.pendingApprovals ?? a.pendingApprovals;
  const openMemory = () => {
    setTab('memory');
    memory.reload();
  };

  return (
    <div className="page" data-live={watch.status}>
      <BackLink />
      <div className="page__header">
        <div>
          <h1 className="page__title agent-title">
            {a.name}
            <AgentStateBadge state={state} title={lastError ?? undefined} />
            {a.active ? null : <span className="badge badge--draft">Paused</span>}
            {a.model.offline ? (
              <span className="badge badge--offline" data-testid="model-offline" title="No OPENAI_API_KEY: answers come from the deterministic offline provider">
                offline model
              </span>
            ) : (
              <span className="badge badge--draft" title="Model">
                {a.model.name}
              </span>
            )}
          </h1>
          <p className="page__subtitle">{a.description || 'No description.'}</p>
          <p className="agent-activity-row"><AgentActivityLine activity={activity.get(agentId) ?? null} /></p>
          <LiveNote status={watch.status} retryInMs={watch.retryInMs} />
        </div>
      </div>
      {pending > 0 ? (
        <div className="callout callout--warn" role="status" data-testid="approvals-callout">
          <span className="callout__icon" aria-hidden="true">
            !
          </span>
          <div className="callout__text">
            <strong>
              {pending === 1 ? '1 proposal waits' : `${pending} proposals wait`} for your decision
            </strong>
            <span>
              {a.name} wants to send or change something after reading untrusted content. Nothing happens until you approve it.
            </span>
          </div>
          <button
            type="button"
            className="button button--primary button--small"
            onClick={() => {
              openMemory();
              setReviewRequested(true);
            }}
            data-testid="review-approvals"
          >
            Review
          </button>
        </div>
      ) : null}
      {state === 'error' && lastError ? <Banner tone="error" message={`${a.name} hit an error: ${lastError}`} testId="agent-error" /> : null}
      {notice ? <Banner tone={notice.tone} message={notice.text} testId="agent-notice" /> : null}
      {agent.status === 'error' && !unauthorized ? <Banner tone="error" message={describeError(agent.error, 'refresh the agent')} /> : null}

      <div className="agent-detail">
        <div className="agent-detail__main">
          <div className="segmented" role="tablist" aria-label="Agent views">
            <button type="button" role="tab" aria-selected={tab === 'chat'} className={`segmented__item${tab === 'chat' ? ' segmented__item--active' : ''}`} onClick={() => setTab('chat')} data-testid="tab-chat">
              Conversation
            </button>
            <button
              type="button"
              role="tab"
              aria-selected={tab === 'memory'}
              className={`segmented__item${tab === 'memory' ? ' segmented__item--active' : ''}`}
              onClick={openMemory}
              data-testid="tab-memory"
            >
              Memory
              {pending > 0 ? (
                <span className="segmented__count segmented__count--warn" aria-label={`${pending} waiting for approval`}>
                  {pending}
                </span>
              ) : null}
            </button>
          </div>

          {tab === 'chat' ? (
            <section className="chat" aria-label="Conversation" data-testid="chat">
              <div className="chat__list" data-testid="messages">
                {messages === null ? (
                  <p className="muted">Loading the conversation…</p>
                ) : messages.length === 0 ? (
                  <p className="chat__empty" data-testid="chat-empty">
                    No messages yet. Say hello — then use Feedback under each reply to tune how {a.name} answers.
                  </p>
                ) : (
                  messages.map((m) => (
                    <div key={m.id} className={`msg msg--${m.role}`} data-testid={`message-${m.role}`} data-message-id={m.id}>
                      <div className="msg__meta">
                        <span>{m.role === 'user' ? 'You' : a.name}</span>
                        {m.role === 'assistant' && isOffline(m.model) ? (
                          <span className="badge badge--offline" data-testid="reply-offline">
                            offline model
                          </span>
                        ) : m.role === 'assistant' && m.model ? (
                          <span className="muted">{m.model}</span>
                        ) : null}
                      </div>
                      <div className="msg__bubble">{m.content}</div>
                      {m.role === 'user' && m.status === 'failed' ? (
                        // Laid out like the meta line, in the danger colour (styles.css is shared; kept local).
                        <div className="msg__meta" style={{ color: 'var(--danger)' }} data-testid="message-failed">
                          <span>Not answered — the model call failed.</span>
                          <button type="button" className="button button--small" disabled={sending} onClick={() => void ask(m.content, m.id)} data-testid="message-retry">
                            Retry
                          </button>
                        </div>
                      ) : null}
                      {m.role === 'assistant' && chatPlans.planOf(m.id) ? <ChatPlanCard client={client} plan={chatPlans.planOf(m.id)!} agentName={chatPlans.agentName} skillName={chatPlans.skillName} /> : null}
                      {m.role === 'assistant' && m.id >= 0 ? <MessageFeedback given={m.feedback} onGive={(type) => feedback(m.id, type)} /> : null}
                    </div>
                  ))
                )}
                {sending ? (
                  <p className="muted chat__typing" data-testid="typing">
                    {a.name} is thinking…
                  </p>
                ) : null}
                <div ref={listEnd} />
              </div>
              <form className="chat__input" onSubmit={(e) => void send(e)}>
                <input
                  className="input"
                  value={draft}
                  onChange={(e) => setDraft(e.target.value)}
                  placeholder={a.active ? `Message ${a.name}` : `${a.name} is paused`}
                  aria-label="Message"
                  data-testid="chat-input"
                />
                <button type="submit" className="button button--primary" disabled={sending || !draft.trim()} data-testid="chat-send">
                  Send
                </button>
              </form>
            </section>
          ) : (
            <>
              <ApprovalsSection
                sectionRef={approvalsRef}
                client={client}
                proposals={proposals}
                decided={decided}
                onDecide={decide}
              />
              <MemoryInspector client={client} agentId={agentId} memory={memory.data} status={memory.status} error={memory.status === 'error' ? memory.error : null} onReload={memory.reload} />
            </>
          )}
        </div>

        <aside className="agent-detail__side">
          <section className="side-card">
            <h2 className="side-card__title">Personality</h2>
            <p className="field__hint">Feedback on replies moves these by 0.1.</p>
            <PersonalitySliders value={a.personality} readOnly />
          </section>
          <section className="side-card">
            <h2 className="side-card__title">Skills & tools</h2>
            <p className="side-card__text">{a.skills.length ? a.skills.join(', ') : <span className="muted">No skills</span>}</p>
            <p className="side-card__text muted">{a.tools.length ? `Tools: ${a.tools.join(', ')}` : 'No tools allowed'}</p>
          </section>
          <section className="side-card" data-testid="agent-caps">
            <h2 className="side-card__title">Limits</h2>
            <dl className="caps-list">
              {CAP_FIELDS.map((c) => (
                <div key={c.key} className="caps-list__row">
                  <dt>{c.help}</dt>
                  <dd>{a.caps[c.key].toLocaleString('en-US')}</dd>
                </div>
              ))}
            </dl>
          </section>
        </aside>
      </div>
    </div>
  );
}

interface DecidedProposal {
  id: string;
  tool: string;
  status: string;
  summary: string;
  at: string;
}

/** Pending proposals first (they need a person), then what was decided on this page. */
function ApprovalsSection({
  sectionRef,
  client,
  proposals,
  decided,
  onDecide,
}: {
  sectionRef: React.RefObject<HTMLElement | null>;
  client: ApiClient;
  proposals: MemoryView['approvals'] | null;
  decided: DecidedProposal[];
  onDecide: (proposal: Proposal, decision: Decision, comment: string) => Promise<void>;
}) {
  if (proposals === null) return null;
  if (proposals.length === 0 && decided.length === 0) return null;
  return (
    <section className="approvals" ref={sectionRef} tabIndex={-1} aria-label="Proposals waiting for your decision" data-testid="approvals">
      <h2 className="memory__title">
        Waiting for your decision <span className={`count${proposals.length ? ' count--warn' : ''}`}>{proposals.length}</span>
      </h2>
      {proposals.length === 0 ? (
        <p className="table-note" data-testid="approvals-empty">
          Nothing waits for you.
        </p>
      ) : (
        <div className="approvals__list">
          {proposals.map((p) => (
            <ProposalCard key={p.id} proposal={p} decide={(decision, comment) => onDecide(p, decision, comment)} context={<RunRef client={client} runId={p.runId ?? null} nodeId={p.nodeId ?? null} />} />
          ))}
        </div>
      )}
      {decided.length ? (
        <ul className="decided" data-testid="decided">
          {decided.map((d) => (
            <li key={d.id} className={`decided__item decided__item--${d.status}`} data-testid="decided-item" data-status={d.status}>
              <span className={`badge ${d.status === 'approved' ? 'badge--deployed' : 'badge--draft'}`}>{d.status === 'approved' ? 'Approved' : d.status === 'rejected' ? 'Rejected' : d.status}</span>
              <span className="decided__text">{d.summary}</span>
              <time dateTime={d.at} className="muted" title={formatDateTime(d.at)}>
                {formatRelative(d.at)}
              </time>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/** Where a proposal came from: a link to the workflow whose run asked, or the run id alone. */
function RunRef({ client, runId, nodeId }: { client: ApiClient; runId: string | null; nodeId: string | null }) {
  const [docId, setDocId] = useState<string | null>(null);
  useEffect(() => {
    if (!runId || !UUID.test(runId)) return;
    let alive = true;
    // A request made through the API has no workflow run behind it: then the id alone is shown.
    client.runs.get.query({ runId }).then(
      (run) => alive && setDocId(run.docId ?? null),
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [client, runId]);
  if (!runId) {
    return (
      <span className="muted" data-testid="proposal-run">
        Asked directly, not by a workflow run.
      </span>
    );
  }
  const step = nodeId ? (
    <>
      , step <code>{nodeId}</code>
    </>
  ) : null;
  const run = <code title={runId}>{runId.slice(0, 8)}</code>;
  if (!docId) {
    return (
      <span className="muted" data-testid="proposal-run">
        Run {run}
        {step}
      </span>
    );
  }
  const href = hrefOf({ page: 'editor', docId });
  return (
    <span className="muted" data-testid="proposal-run">
      From workflow{' '}
      <a href={href} onClick={linkHandler(href)} className="flow-link" data-testid="proposal-run-link">
        {docId}
      </a>
      , run {run}
      {step}
    </span>
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function BackLink() {
  const href = hrefOf({ page: 'agents' });
  return (
    <a className="back-link" href={href} onClick={linkHandler(href)} data-testid="back-to-agents">
      ← All agents
    </a>
  );
}

/** "in 45 s", "in 12 min", "in 3 h", "in 2 days" (expiries are in the future). */
function formatUntil(iso: string, now: number = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return '—';
  if (ms <= 0) return 'expired';
  const s = Math.round(ms / 1000);
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  if (s < 86_400) return `in ${Math.round(s / 3600)} h`;
  return `in ${Math.round(s / 86_400)} days`;
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text;
}

type MemoryEntry = MemoryView['entries'][number];

function MemoryInspector({
  client,
  agentId,
  memory,
  status,
  error,
  onReload,
}: {
  client: ApiClient;
  agentId: string;
  memory: MemoryView | null;
  status: string;
  error: unknown;
  onReload: () => void;
}) {
  // The view brings the first page of entries; "Show more" pages on with `agents.memoryEntries`.
  // Live reloads refresh the first page and keep the pages loaded after it; Refresh starts over.
  const [more, setMore] = useState<{ items: MemoryEntry[]; nextCursor: string | null } | null>(null);
  const [moreState, setMoreState] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const refresh = () => {
    setMore(null);
    setMoreState({ loading: false, error: null });
    onReload();
  };
  const nextCursor = more ? more.nextCursor : (memory?.entriesNextCursor ?? null);
  const loadMore = async () => {
    if (!nextCursor || moreState.loading) return;
    setMoreState({ loading: true, error: null });
    try {
      const page = await client.agents.memoryEntries.query({ id: agentId, cursor: nextCursor });
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], nextCursor: page.nextCursor }));
      setMoreState({ loading: false, error: null });
    } catch (e) {
      setMoreState({ loading: false, error: e });
    }
  };
  if (!memory) {
    return error ? (
      <Banner tone="error" message={describeError(error, 'load the memory')} action={<RetryButton onClick={onReload} />} />
    ) : (
      <p className="muted">Loading memory…</p>
    );
  }
  // A key already on the first page (a reload moved it) is listed once.
  const firstKeys = new Set(memory.entries.map((e) => e.key));
  const entries = [...memory.entries, ...(more?.items ?? []).filter((e) => !firstKeys.has(e.key))];
  return (
    <section className="memory" aria-label="Memory inspector" data-testid="memory-inspector" aria-busy={status === 'loading'}>
      <div className="memory__head">
        <h2 className="memory__title">Memory entries</h2>
        <button type="button" className="button button--ghost button--small" onClick={refresh} disabled={status === 'loading'}>
          {status === 'loading' ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {entries.length === 0 ? (
        <p className="table-note" data-testid="memory-empty">
          Nothing remembered yet. Facts that skills, chats and workflows store about this agent appear here.
        </p>
      ) : (
        <div className="table-card">
          <table className="table" data-testid="memory-entries">
            <colgroup>
              <col style={{ width: 190 }} />
              <col />
              <col style={{ width: 112 }} />
              <col style={{ width: 100 }} />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Value</th>
                <th scope="col">Expires</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.key} data-testid="memory-entry">
                  <td className="code-inline memory__key" title={e.key}>{e.key}</td>
                  <td>
                    <code className="memory__value" title={show(e.value)}>
                      {show(e.value)}
                    </code>
                  </td>
                  <td>{e.expiresAt ? (
                      <time dateTime={e.expiresAt} title={formatDateTime(e.expiresAt)} data-testid="memory-expiry">
                        {formatUntil(e.expiresAt)}
                      </time>
                    ) : (
                      <span className="muted">Never</span>
                    )}</td>
                  <td>
                    <time dateTime={e.updatedAt} title={formatDateTime(e.updatedAt)} className="muted">
                      {formatRelative(e.updatedAt)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {nextCursor ? (
            <div className="table-note">
              <button type="button" className="button button--secondary button--small" onClick={() => void loadMore()} disabled={moreState.loading} data-testid="memory-more">
                {moreState.loading ? 'Loading…' : 'Show more entries'}
              </button>
            </div>
          ) : null}
        </div>
      )}
      {moreState.error ? (
        <Banner tone="error" message={describeError(moreState.error, 'load more entries')} action={<RetryButton onClick={() => void loadMore()} />} />
      ) : null}

      <h2 className="memory__title">Interactions</h2>
      {memory.interactions.length === 0 ? (
        <p className="table-note">No interactions yet.</p>
      ) : (
        <ol className="interactions" data-testid="interactions">
          {memory.interactions.map((i) => (
            <li key={i.id} className="interactions__item" data-testid="interaction">
              <span className="kind kind--workflow">{i.entityType}</span>
              <span className="interactions__summary">{typeof i.data.summary === 'string' ? i.data.summary : show(i.data)}</span>
              <time dateTime={i.at} title={formatDateTime(i.at)} className="muted">
                {formatRelative(i.at)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
