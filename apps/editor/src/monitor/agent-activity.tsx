import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import type { Subscribe } from '../live/reconnecting-subscription';
import { useLiveSubscription } from '../live/useLiveSubscription';
import { hrefOf, linkHandler } from '../router';
import type { ApiClient } from '../trpc';
import { formatDuration, type ActorsPage, type AgentActor } from './format';
import './monitor.css';


/**
 * Every agent's live status with the request it works on, from `monitor.live` (agents only): the
 * runtime pushes a page whenever an agent or a run changes in any process. Reconnects with a
 * growing delay when the stream ends; the last known page stays meanwhile.
 */
export function useAgentActivityFeed(client: ApiClient): ReadonlyMap<string, AgentActor & { receivedAt: number }> {
  const [agents, setAgents] = useState<ReadonlyMap<string, AgentActor & { receivedAt: number }>>(new Map());
  const subscribe = useCallback<Subscribe<ActorsPage>>((callbacks) => client.monitor.live.subscribe({ kind: 'agent', limit: 500 }, callbacks), [client]);
  useLiveSubscription({
    subscribe, liveOn: 'data',
    onData: (page) => {
      const at = Date.now();
      setAgents(new Map(page.items.flatMap((a) => (a.kind === 'agent' ? [[a.id, { ...a, receivedAt: at }] as const] : []))));
    },
  });
  return agents;
}

const AgentActivityContext = createContext<ReadonlyMap<string, AgentActor & { receivedAt: number }> | null>(null);

/** Gives the canvas (and anything below) the agents' live status. */
export function AgentActivityProvider({ client, children }: { client: ApiClient; children: ReactNode }) {
  const agents = useAgentActivityFeed(client);
  return <AgentActivityContext.Provider value={agents}>{children}</AgentActivityContext.Provider>;
}

/** The live status of one agent, when a provider above follows them. */
export const useAgentActivity = (agentId: string): (AgentActor & { receivedAt: number }) | null => useContext(AgentActivityContext)?.get(agentId) ?? null;

/** Seconds tick between pushes: the age the page had plus the time since it arrived. */
function useNow(active: boolean) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

/** What an agent does right now, in words: "Running draft-email for a run (step reply) · 12 s". */
export function activityText(a: AgentActor, ageMs: number = a.ageMs): string {
  const r = a.currentRequest;
  if (a.status === 'waiting_approval') return `Waiting for your decision on ${a.pendingApprovals} proposal${a.pendingApprovals === 1 ? '' : 's'}`;
  if (r) {
    const what = r.kind === 'chat' ? 'Answering a chat message' : `Running ${r.skill ?? 'a skill'}`;
    const where = r.runId ? ` for a run${r.nodeId ? ` (step ${r.nodeId})` : ''}` : '';
    const queued = a.mailboxDepth > 1 ? ` · ${a.mailboxDepth - 1} more queued` : '';
    return `${what}${where}${r.startedAt ? ` · ${formatDuration(ageMs)}` : ''}${queued}`;
  }
  if (a.status === 'error') return a.lastError ? `Last request failed: ${a.lastError}` : 'Last request failed';
  return a.mailboxDepth ? `${a.mailboxDepth} request${a.mailboxDepth === 1 ? '' : 's'} queued` : 'Nothing to do';
}

/** The line under an agent's status on the agents list and the agent page, with a link to the run it works for. */
export function AgentActivityLine({ activity, compact = false }: { activity: (AgentActor & { receivedAt: number }) | null; compact?: boolean }) {
  const now = useNow(Boolean(activity?.currentRequest));
  // An idle agent with nothing queued needs no second line; in a list, neither does a wait the badge already tells.
  if (!activity || (activity.status === 'idle' && !activity.currentRequest && activity.mailboxDepth === 0)) return null;
  if (compact && activity.status === 'waiting_approval' && !activity.currentRequest) return null;
  const age = activity.ageMs + (now - activity.receivedAt);
  const runId = activity.currentRequest?.runId;
  const href = runId ? hrefOf({ page: 'monitor', tab: 'history', runId }) : null;
  return (
    <span className={`agent-activity agent-activity--${activity.status}`} data-testid="agent-activity" data-status={activity.status}>
      {activityText(activity, age)}
      {href ? <> · <a className="flow-link" href={href} onClick={linkHandler(href)} data-testid="agent-activity-run">open run</a></> : null}
    </span>
  );
}

const PILL: Record<AgentActor['status'], string> = { idle: 'idle', working: 'working', waiting_approval: 'waiting for approval', error: 'error' };

/** On a canvas node that asks an agent: the agent's live status, its current request in the tooltip. */
export function AgentNodeStatus({ agentId }: { agentId: string }) {
  const a = useAgentActivity(agentId);
  if (!a) return null;
  return (
    <span className={`fnode__agent fnode__agent--${a.status}`} title={`${a.name}: ${activityText(a)}`} data-testid="node-agent-status" data-status={a.status}>
      <span className="fnode__agent-dot" aria-hidden="true" />
      {PILL[a.status]}
    </span>
  );
}
