import type { FeedbackType } from '@switchyard/schema';
import { useCallback, useEffect, useRef, useState } from 'react';
import { AgentStateBadge, FEEDBACK, PersonalitySliders, TRAIT_LABEL, type MemoryView } from '../agents/shared';
import { Banner, RetryButton } from '../components/Banner';
import { formatDateTime, formatRelative } from '../format';
import { hrefOf, linkHandler } from '../router';
import { describeError, errorCode, isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';

type Message = NonNullable<MemoryView['conversation']>['messages'][number];
type Tab = 'chat' | 'memory';

const isOffline = (model: string | null | undefined) => model === 'offline';

export function AgentDetailPage({ client, agentId, onUnauthorized }: { client: ApiClient; agentId: string; onUnauthorized: () => void }) {
  const loadAgent = useCallback(() => client.agents.get.query({ id: agentId }), [client, agentId]);
  const agent = useRemote(loadAgent);
  const loadMemory = useCallback(() => client.agents.memory.query({ id: agentId }), [client, agentId]);
  const memory = useRemote(loadMemory);
  const [tab, setTab] = useState<Tab>('chat');
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  const [given, setGiven] = useState<Record<number, FeedbackType[]>>({});
  const listEnd = useRef<HTMLDivElement>(null);

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

  // Live state while the page is open.
  const { reload: reloadAgent } = agent;
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reloadAgent();
    }, 5000);
    return () => clearInterval(timer);
  }, [reloadAgent]);

  const send = async (event: React.FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text || sending) return;
    setSending(true);
    setNotice(null);
    // Shown at once; replaced by the server's history when the answer comes.
    setMessages((m) => [...(m ?? []), { id: -Date.now(), role: 'user', content: text, model: null, createdAt: new Date().toISOString() } as Message]);
    setDraft('');
    try {
      const res = await client.agents.chat.mutate({ id: agentId, message: text });
      setMessages(res.messages);
    } catch (error) {
      setNotice({ tone: 'error', text: describeError(error, 'send the message') });
      setMessages((m) => (m ?? []).filter((x) => x.id >= 0));
      setDraft(text);
    } finally {
      setSending(false);
      agent.reload();
      memory.reload();
    }
  };

  const feedback = async (messageId: number, type: FeedbackType) => {
    setNotice(null);
    try {
      const res = await client.agents.feedback.mutate({ id: agentId, feedback: type });
      setGiven((g) => ({ ...g, [messageId]: [...(g[messageId] ?? []), type] }));
      const trait = FEEDBACK.find((f) => f.id === type)?.trait;
      if (trait) setNotice({ tone: 'info', text: `Thanks — ${TRAIT_LABEL[trait].label.toLowerCase()} is now ${res.personality[trait].toFixed(1)}.` });
    } catch (error) {
      setNotice({ tone: 'error', text: describeError(error, 'record the feedback') });
    }
    agent.reload();
    memory.reload();
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

  return (
    <div className="page">
      <BackLink />
      <div className="page__header">
        <div>
          <h1 className="page__title agent-title">
            {a.name}
            <AgentStateBadge state={a.state} />
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
        </div>
      </div>
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
              onClick={() => {
                setTab('memory');
                memory.reload();
              }}
              data-testid="tab-memory"
            >
              Memory
            </button>
          </div>

          {tab === 'chat' ? (
            <section className="chat" aria-label="Conversation" data-testid="chat">
              <div className="chat__list" data-testid="messages">
                {messages === null ? (
                  <p className="muted">Loading the conversation…</p>
                ) : messages.length === 0 ? (
                  <p className="chat__empty" data-testid="chat-empty">
                    No messages yet. Say hello — then use the buttons under each reply to tune how {a.name} answers.
                  </p>
                ) : (
                  messages.map((m) => (
                    <div key={m.id} className={`msg msg--${m.role}`} data-testid={`message-${m.role}`}>
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
                      {m.role === 'assistant' && m.id >= 0 ? (
                        <div className="msg__feedback" role="group" aria-label="Feedback on this reply" data-testid="feedback">
                          {FEEDBACK.map((f) => {
                            const done = given[m.id]?.includes(f.id) ?? false;
                            return (
                              <button
                                key={f.id}
                                type="button"
                                className={`chip${done ? ' chip--done' : ''}`}
                                onClick={() => void feedback(m.id, f.id)}
                                title={`Adjusts ${TRAIT_LABEL[f.trait].label.toLowerCase()}`}
                                data-testid={`feedback-${f.id}`}
                              >
                                {done ? '✓ ' : ''}
                                {f.label}
                              </button>
                            );
                          })}
                        </div>
                      ) : null}
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
            <MemoryInspector memory={memory.data} status={memory.status} error={memory.status === 'error' ? memory.error : null} onReload={memory.reload} />
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
        </aside>
      </div>
    </div>
  );
}

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

function MemoryInspector({
  memory,
  status,
  error,
  onReload,
}: {
  memory: MemoryView | null;
  status: string;
  error: unknown;
  onReload: () => void;
}) {
  if (!memory) {
    return error ? (
      <Banner tone="error" message={describeError(error, 'load the memory')} action={<RetryButton onClick={onReload} />} />
    ) : (
      <p className="muted">Loading memory…</p>
    );
  }
  return (
    <section className="memory" aria-label="Memory inspector" data-testid="memory-inspector" aria-busy={status === 'loading'}>
      <div className="memory__head">
        <h2 className="memory__title">Memory entries</h2>
        <button type="button" className="button button--ghost button--small" onClick={onReload} disabled={status === 'loading'}>
          {status === 'loading' ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {memory.entries.length === 0 ? (
        <p className="table-note" data-testid="memory-empty">
          Nothing remembered yet. Skills and workflows store facts here with `agents.remember`.
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
              {memory.entries.map((e) => (
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
        </div>
      )}

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

      {memory.approvals.length ? (
        <>
          <h2 className="memory__title">Waiting for approval</h2>
          <ul className="interactions">
            {memory.approvals.map((p) => (
              <li key={p.id} className="interactions__item">
                <span className="badge badge--draft">{p.tool}</span>
                <span className="interactions__summary">{p.reason}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
