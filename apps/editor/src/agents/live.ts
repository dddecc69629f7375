import type { AgentState } from '@switchyard/schema';
import { useEffect, useState } from 'react';
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

/**
 * `connecting` until the stream is open, `live` while it is, `paused` between a failure and the
 * next attempt (the page says so and shows the last known state).
 */
export type WatchStatus = 'connecting' | 'live' | 'paused';

/** Wait before the n-th reconnection attempt (1-based): 1 s, 2 s, 4 s, … at most 30 s. */
export const reconnectDelay = (attempt: number): number => Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));

/** The newest event per agent; one older than what is known (by `at`) is ignored. */
export function applyAgentEvent(known: Readonly<Record<string, AgentLive>>, event: AgentLive): Record<string, AgentLive> {
  const prev = known[event.id];
  if (prev && Date.parse(event.at) < Date.parse(prev.at)) return known as Record<string, AgentLive>;
  return { ...known, [event.id]: event };
}

/** What the agent page reloads on: a new state or a new number of proposals (not `queued`, not `at`). */
export const liveKey = (e: Pick<AgentLive, 'state' | 'pendingApprovals'> | undefined): string | null => (e ? `${e.state}|${e.pendingApprovals}` : null);

/**
 * Follows `agents.watch` (one agent, or all of the user's when `agentId` is left out). The
 * subscription link does not reconnect on its own over our header-sending EventSource, so a
 * failed or ended stream is opened again here with a growing delay; the first events after a
 * reconnect carry every agent's current state, so nothing missed in between stays stale.
 */
export function useAgentWatch(client: ApiClient, agentId?: string): { agents: Record<string, AgentLive>; status: WatchStatus; retryInMs: number | null } {
  const [agents, setAgents] = useState<Record<string, AgentLive>>({});
  const [status, setStatus] = useState<WatchStatus>('connecting');
  const [retryInMs, setRetryInMs] = useState<number | null>(null);

  useEffect(() => {
    let attempt = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let current: { unsubscribe: () => void } | null = null;

    const connect = () => {
      let done = false;
      const retry = () => {
        if (stopped || done) return;
        done = true;
        current?.unsubscribe();
        attempt += 1;
        const wait = reconnectDelay(attempt);
        setStatus('paused');
        setRetryInMs(wait);
        timer = setTimeout(connect, wait);
      };
      const live = () => {
        if (done) return;
        attempt = 0;
        setStatus('live');
        setRetryInMs(null);
      };
      current = client.agents.watch.subscribe(agentId === undefined ? {} : { id: agentId }, {
        onStarted: live,
        onData: (event) => {
          live();
          if (!done) setAgents((known) => applyAgentEvent(known, event));
        },
        onError: retry,
        // The runtime ends the stream when it stops: a restarted one is asked again.
        onComplete: retry,
      });
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      current?.unsubscribe();
    };
  }, [client, agentId]);

  return { agents, status, retryInMs };
}
