import type { AgentState } from '@switchyard/schema';
import { useCallback, useState } from 'react';
import { reconnectDelay, type LiveStatus, type Subscribe } from '../live/reconnecting-subscription';
import { useLiveSubscription } from '../live/useLiveSubscription';
import type { ApiClient } from '../trpc';

/** One event of `agents.watch`: an agent's live state, pushed by the runtime when it changes. */
export interface AgentLive {
  id: string;
  state: AgentState;
  pendingApprovals: number;
  queued: number;
  lastError: string | null;
  at: string;
  /** The agent was deleted (another tab, the API): its last event. */
  deleted?: true;
}

/** How the agents' watch is doing (see `LiveStatus`). */
export type WatchStatus = LiveStatus;

// Also answered here, where it lived before live/ (its test is beside this file).
export { reconnectDelay };

/** The newest event per agent; one older than what is known (by `at`) is ignored. */
export function applyAgentEvent(known: Readonly<Record<string, AgentLive>>, event: AgentLive): Record<string, AgentLive> {
  const prev = known[event.id];
  if (prev && Date.parse(event.at) < Date.parse(prev.at)) return known as Record<string, AgentLive>;
  return { ...known, [event.id]: event };
}

/** What the agent page reloads on: a new state or a new number of proposals (not `queued`, not `at`). */
export const liveKey = (e: Pick<AgentLive, 'state' | 'pendingApprovals'> | undefined): string | null => (e ? `${e.state}|${e.pendingApprovals}` : null);

/**
 * Follows `agents.watch` (one agent, or all of the user's when `agentId` is left out),
 * reconnecting with a growing delay; the first events after a reconnect carry every agent's
 * current state, so nothing missed in between stays stale.
 */
export function useAgentWatch(client: ApiClient, agentId?: string): { agents: Record<string, AgentLive>; status: WatchStatus; retryInMs: number | null } {
  const [agents, setAgents] = useState<Record<string, AgentLive>>({});
  const subscribe = useCallback<Subscribe<AgentLive>>(
    (callbacks) => client.agents.watch.subscribe(agentId === undefined ? {} : { id: agentId }, callbacks),
    [client, agentId],
  );
  const { status, retryInMs } = useLiveSubscription({ subscribe, onData: (event) => setAgents((known) => applyAgentEvent(known, event)) });
  return { agents, status, retryInMs };
}
