import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../host/db';

/**
 * Agents are owned like runs (host/run-store.ts `claim`): one process at a time holds an agent and
 * runs its whole mailbox, whoever submitted the requests, so there is one live actor per agent
 * across all processes and the mailbox order is global (requests in `created_at` order). A process
 * owns under its `runtime_instances` lease (renewed by the host's heartbeat); a claim bumps the
 * agent's `lease_epoch`, and every write that matters (starting a request, storing its outcome, the
 * agent's state) is conditional on (owner, epoch), so a stale owner — paused past its lease, or
 * whose agent another process adopted — cannot store anything any more.
 */

/** Messages on the `switchyard_agents` channel (PostgreSQL NOTIFY; payloads stay far below 8 kB). */
export type AgentNotice =
  /** A request was queued through a process that does not own the agent: its owner pulls it. */
  | { t: 'req'; agentId: string; from: string }
  /** A request reached `done` or `failed`: whoever waits for it reads its outcome. */
  | { t: 'done'; id: string; from: string }
  /** An agent's visible state changed (`agents.watch` on every process). */
  | { t: 'live'; from: string; live: { id: string; userId: string; state: string; pendingApprovals: number; queued: number; lastError: string | null; at: string; deleted?: true } }
  /** Proposals were decided: steps waiting on them wake, the owner re-counts the agent's approvals. */
  | { t: 'decided'; agentId: string; ids: string[]; from: string };

export const AGENTS_CHANNEL = 'switchyard_agents';

export function parseNotice(payload: string): AgentNotice | null {
  try {
    const n = JSON.parse(payload) as AgentNotice;
    return n && typeof n === 'object' && typeof n.t === 'string' && typeof n.from === 'string' ? n : null;
  } catch {
    return null;
  }
}

const LIVE_OWNER = `exists (select 1 from runtime_instances i where i.id = agents.owner and i.lease_until >= now())`;
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

export function createAgentOwnership(deps: { em: () => EntityManager; instanceId: string; leaseMs: number; adoptAll: boolean }) {
  const me = deps.instanceId;
  return {
    me,
    /**
     * Makes sure this process has a lease row before it claims anything, without renewing an
     * existing one (the host's heartbeat owns renewals and learns from them whether it lapsed).
     */
    async register() {
      await sql(deps.em(), `insert into runtime_instances (id, lease_until) values (?, now() + ? * interval '1 millisecond') on conflict (id) do nothing`, [me, deps.leaseMs]);
    },
    /**
     * Claims the agent if nobody live holds it (or, on the embedded database, `force`): unowned,
     * owned by a process whose lease ran out, or held by this instance id before a restart.
     * Returns the epoch this claim set, or null when a live process holds it.
     */
    async claim(agentId: string, force = false): Promise<number | null> {
      const rows = await sql<{ lease_epoch: string }>(deps.em(),
        `update agents set owner = ?, lease_epoch = lease_epoch + 1
          where id = ? and deleted_at is null and (? or owner is null or owner = ? or not ${LIVE_OWNER})
         returning lease_epoch`,
        [me, agentId, force, me]);
      return rows[0] ? Number(rows[0].lease_epoch) : null;
    },
    /**
     * Agents to take over: (on the embedded database) every agent; otherwise those held by this
     * instance id before a restart, and those with open requests whose owner is gone or unset.
     * Locked in id order, skipping rows another process is claiming.
     */
    async adopt(skip: readonly string[]): Promise<{ id: string; epoch: number }[]> {
      const rows = await sql<{ id: string; lease_epoch: string }>(deps.em(),
        `with c as (
           select id from agents
            where deleted_at is null and not (id = any(?::uuid[]))
              and (? or owner = ?
                   or ((owner is null or not ${LIVE_OWNER})
                       and exists (select 1 from agent_requests q where q.agent_id = agents.id and q.status in ('queued', 'running'))))
            order by id for no key update skip locked)
         update agents a set owner = ?, lease_epoch = a.lease_epoch + 1 from c where a.id = c.id
         returning a.id, a.lease_epoch`,
        [uuidArray(skip), deps.adoptAll, me, me]);
      return rows.map((r) => ({ id: r.id, epoch: Number(r.lease_epoch) }));
    },
    /** Which of the agents this process runs it still holds (same owner and epoch, not deleted). */
    async held(agents: { id: string; epoch: number }[]): Promise<Set<string>> {
      if (!agents.length) return new Set();
      const rows = await sql<{ id: string }>(deps.em(),
        `select a.id from agents a join unnest(?::uuid[], ?::bigint[]) as m(id, epoch) on m.id = a.id
          where a.owner = ? and a.lease_epoch = m.epoch and a.deleted_at is null`,
        [uuidArray(agents.map((a) => a.id)), `{${agents.map((a) => a.epoch).join(',')}}`, me]);
      return new Set(rows.map((r) => r.id));
    },
    /** Open requests of the agents, oldest first: the owner's mailbox order. */
    async open(agentIds: readonly string[]): Promise<{ id: string; agent_id: string }[]> {
      if (!agentIds.length) return [];
      return sql<{ id: string; agent_id: string }>(deps.em(),
        `select id, agent_id from agent_requests where agent_id = any(?::uuid[]) and status in ('queued', 'running') order by created_at, id`,
        [uuidArray(agentIds)]);
    },
    /** Gives up every agent this process holds (a graceful stop): any process may claim them at once. */
    async release() {
      await sql(deps.em(), 'update agents set owner = null where owner = ?', [me]);
    },
    /** The SQL condition "this process still holds the agent with this epoch" for conditional writes. */
    fence: `exists (select 1 from agents f where f.id = ? and f.owner = ? and f.lease_epoch = ?)`,
    async notify(notice: AgentNotice) {
      await sql(deps.em(), 'select pg_notify(?, ?)', [AGENTS_CHANNEL, JSON.stringify(notice)]);
    },
  };
}
export type AgentOwnership = ReturnType<typeof createAgentOwnership>;
