import { useCallback, useEffect, useState } from 'react';
import { AgentForm, type AgentDraft } from '../agents/AgentForm';
import { useAgentWatch, type AgentLive } from '../agents/live';
import { AgentStateBadge, LiveNote, type AgentItem } from '../agents/shared';
import { Banner, LoadErrorBanner } from '../components/Banner';
import { useConfirm } from '../components/ConfirmDialog';
import { hrefOf, linkHandler } from '../router';
import { describeError, isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';
import { usePaged } from '../agents/paged';
import { AgentActivityLine, useAgentActivityFeed } from '../monitor/agent-activity';

/** Agents per page of the list; "Show more" loads the next page. */
const AGENTS_PAGE = 50;
const agentId = (a: AgentItem) => a.id;

export function AgentsPage({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const loadAgents = useCallback((cursor: string | undefined) => client.agents.list.query({ limit: AGENTS_PAGE, ...(cursor ? { cursor } : {}) }), [client]);
  const agents = usePaged(loadAgents, agentId);
  const loadSkills = useCallback(() => client.skills.list.query({}), [client]);
  const skills = useRemote(loadSkills);
  const [editing, setEditing] = useState<{ agent: AgentItem | null } | null>(null);
  const [notice, setNotice] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  const { dialog: confirmDialog, ask } = useConfirm();

  const unauthorized = agents.status === 'error' && isUnauthorized(agents.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  // Live state: agents work in the background (workflows, chats); the runtime pushes each change.
  const watch = useAgentWatch(client);
  // What each agent works on now (monitor.live): its current request and the run it serves.
  const activity = useAgentActivityFeed(client);
  const { reload } = agents;
  const listed = agents.items;
  // An agent made or deleted elsewhere (another tab, the API) shows up or goes without a reload.
  // While later pages are not loaded, an agent missing from the list may simply be on one of them
  // (new agents come last): only deletions count then.
  const complete = agents.nextCursor === null;
  const unlisted = listed
    ? Object.values(watch.agents)
        .filter((e) => (e.deleted ? listed.some((a) => a.id === e.id) : complete && !listed.some((a) => a.id === e.id)))
        .map((e) => e.id)
        .sort()
        .join(',')
    : '';
  useEffect(() => {
    if (unlisted) reload();
  }, [unlisted, reload]);

  const save = async (draft: AgentDraft) => {
    const agent = editing?.agent ?? null;
    if (agent) {
      await client.agents.update.mutate({ id: agent.id, ...draft });
      setNotice({ tone: 'info', text: `Saved “${draft.name.trim()}”.` });
    } else {
      const created = await client.agents.create.mutate(draft);
      setNotice({ tone: 'info', text: `Created “${created.name}”.` });
    }
    setEditing(null);
    agents.reload();
  };

  const setActive = async (agent: AgentItem, active: boolean) => {
    setNotice(null);
    try {
      await client.agents.update.mutate({ id: agent.id, active });
    } catch (error) {
      setNotice({ tone: 'error', text: describeError(error, active ? 'activate the agent' : 'pause the agent') });
    }
    agents.reload();
  };

  const remove = async (agent: AgentItem) => {
    const ok = await ask({
      title: `Delete the agent “${agent.name}”?`,
      description: 'Its memory and conversations are deleted too, and flow steps that use it fail until you choose another agent. This cannot be undone.',
      confirmLabel: 'Delete agent',
    });
    if (!ok) return;
    setNotice(null);
    try {
      await client.agents.delete.mutate({ id: agent.id });
      setNotice({ tone: 'info', text: `Deleted “${agent.name}”.` });
    } catch (error) {
      setNotice({ tone: 'error', text: describeError(error, 'delete the agent') });
    }
    agents.reload();
  };

  const items = agents.items;
  const skillName = (id: string) => skills.data?.items.find((s) => s.id === id)?.name ?? id;

  return (
    <div className="page" data-live={watch.status}>
      <div className="page__header">
        <div>
          <h1 className="page__title">Agents</h1>
          <p className="page__subtitle">Long-lived assistants with skills, memory and a personality you shape through feedback.</p>
          <LiveNote status={watch.status} retryInMs={watch.retryInMs} />
        </div>
        <div className="page__actions">
          <button type="button" className="button button--primary" onClick={() => setEditing({ agent: null })} disabled={editing !== null} data-testid="new-agent">
            New agent
          </button>
        </div>
      </div>

      {notice ? <Banner tone={notice.tone} message={notice.text} testId="list-notice" /> : null}
      {confirmDialog}
      {agents.status === 'error' && !unauthorized ? (
        <LoadErrorBanner error={agents.error} task="load your agents" onRetry={agents.reload} />
      ) : null}

      {editing ? (
        <AgentForm
          key={editing.agent?.id ?? 'new'}
          agent={editing.agent}
          skills={skills.data?.items ?? null}
          skillsError={skills.status === 'error' ? skills.error : null}
          onSubmit={save}
          onCancel={() => setEditing(null)}
        />
      ) : null}

      {items === null ? (
        agents.status === 'loading' ? (
          <p className="muted" data-testid="loading">
            Loading agents…
          </p>
        ) : null
      ) : items.length === 0 ? (
        editing ? null : (
          <div className="empty" data-testid="agents-empty">
            <div className="empty__art" aria-hidden="true">
              <svg width="48" height="48" viewBox="0 0 48 48" fill="none" stroke="currentColor" strokeWidth="2">
                <rect x="8" y="14" width="32" height="26" rx="6" />
                <path d="M24 14V6M17 26h.01M31 26h.01M18 33h12" strokeLinecap="round" />
              </svg>
            </div>
            <h2 className="empty__title">No agents yet — create your first one</h2>
            <p className="empty__text">
              Give it a name, pick the skills it may use (research a contact, draft an email…) and the tools it is allowed
              to touch. Then chat with it and tune its personality with feedback.
            </p>
            <button type="button" className="button button--primary" onClick={() => setEditing({ agent: null })}>
              New agent
            </button>
          </div>
        )
      ) : (
        <div className="table-card">
          <table className="table" data-testid="agent-list">
            <colgroup>
              <col />
              <col style={{ width: 96 }} />
              <col style={{ width: 240 }} />
              <col style={{ width: 96 }} />
              <col style={{ width: 152 }} />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" className="table__num">
                  Skills
                </th>
                <th scope="col">State</th>
                <th scope="col">Active</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((agent) => {
                const href = hrefOf({ page: 'agent', agentId: agent.id });
                return (
                  <tr key={agent.id} data-testid="agent-row" data-agent-id={agent.id}>
                    <td className="table__name">
                      <a className="flow-name flow-link" href={href} onClick={linkHandler(href)} data-testid="open-agent">
                        {agent.name}
                      </a>
                      {agent.description ? (
                        <span className="flow-description" title={agent.description}>
                          {agent.description}
                        </span>
                      ) : null}
                    </td>
                    <td className="table__num" title={agent.skills.map(skillName).join(', ')}>
                      {agent.skills.length}
                    </td>
                    <td>
                      <AgentStateCell agent={agent} live={watch.agents[agent.id]} />
                      <AgentActivityLine activity={activity.get(agent.id) ?? null} compact />
                    </td>
                    <td>
                      <label className="switch" title={agent.active ? 'Active' : 'Paused'}>
                        <input
                          type="checkbox"
                          role="switch"
                          checked={agent.active}
                          aria-label={`${agent.name} active`}
                          onChange={(e) => void setActive(agent, e.target.checked)}
                          data-testid="agent-active-toggle"
                        />
                        <span className="switch__track" aria-hidden="true" />
                      </label>
                    </td>
                    <td className="table__actions">
                      <button type="button" className="button button--ghost button--small" onClick={() => setEditing({ agent })} data-testid="edit-agent">
                        Edit
                      </button>
                      <button type="button" className="button button--ghost button--small button--danger" onClick={() => void remove(agent)} data-testid="delete-agent">
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {agents.nextCursor ? (
            <div className="table-note">
              <button type="button" className="button button--secondary button--small" onClick={agents.loadMore} disabled={agents.loadingMore} data-testid="agents-more">
                {agents.loadingMore ? 'Loading…' : 'Show more agents'}
              </button>
            </div>
          ) : null}
        </div>
      )}
    </div>
  );
}

/** The pushed state when there is one (else the listed one), and how many proposals wait. */
function AgentStateCell({ agent, live }: { agent: AgentItem; live: AgentLive | undefined }) {
  const pending = live?.pendingApprovals ?? 0;
  return (
    <span className="state-cell">
      <AgentStateBadge state={live?.state ?? agent.state} title={live?.lastError ?? undefined} />
      {pending > 0 ? (
        <span className="count count--warn" title={`${pending} proposal${pending === 1 ? '' : 's'} wait for your decision`} data-testid="agent-pending">
          {pending}
        </span>
      ) : null}
    </span>
  );
}
