import type { EntityManager } from '@mikro-orm/postgresql';
import type { PlanFacts } from '@switchyard/actors';
import { sql } from '../host/db';
import type { AgentRecord } from '../agents/agent.store';

/** What picking an agent needs of the skill. */
export interface SkillFacts {
  name: string;
  requiredTools: readonly string[];
}

/** An agent can run a skill when it is active, holds the skill and may use every tool it needs. */
export const canRun = (agent: Pick<AgentRecord, 'active' | 'skills' | 'tools'>, skillId: string, skill: SkillFacts) =>
  agent.active && agent.skills.includes(skillId) && skill.requiredTools.every((t) => (agent.tools as readonly string[]).includes(t));

export interface AgentLoad {
  /** Requests queued or running in the agent's mailbox. */
  mailbox: number;
  /** Share of its finished skill requests that succeeded (1 with no history). */
  successRate: number;
}

/** Mailbox length and past success rate of each agent, from the persisted mailbox. */
export async function agentLoads(em: EntityManager, agentIds: string[]): Promise<Map<string, AgentLoad>> {
  const out = new Map<string, AgentLoad>(agentIds.map((id) => [id, { mailbox: 0, successRate: 1 }]));
  if (!agentIds.length) return out;
  const rows = await sql<{ agent_id: string; open: string; done: string; failed: string }>(em,
    `select agent_id,
            count(*) filter (where status in ('queued', 'running')) as open,
            count(*) filter (where status = 'done' and kind = 'skill' and coalesce((result->>'success')::boolean, true)) as done,
            count(*) filter (where kind = 'skill' and (status = 'failed' or (status = 'done' and (result->>'success')::boolean is false))) as failed
       from agent_requests where agent_id = any(?::uuid[]) group by agent_id`, [`{${agentIds.join(',')}}`]);
  for (const r of rows) {
    const done = Number(r.done);
    const failed = Number(r.failed);
    out.set(r.agent_id, { mailbox: Number(r.open), successRate: done + failed ? done / (done + failed) : 1 });
  }
  return out;
}

/**
 * The pick rule for "any capable agent": among the capable agents, the one with the shortest
 * mailbox; on a tie the better past success rate; then the agent that already has a step of this
 * plan (fewer hand-offs); then by name and id, so the same state always gives the same pick.
 */
export function pickAgent(candidates: AgentRecord[], loads: Map<string, AgentLoad>, alreadyUsed: ReadonlySet<string> = new Set()): AgentRecord | null {
  const ranked = [...candidates].sort((a, b) => {
    const la = loads.get(a.id) ?? { mailbox: 0, successRate: 1 };
    const lb = loads.get(b.id) ?? { mailbox: 0, successRate: 1 };
    return la.mailbox - lb.mailbox || lb.successRate - la.successRate
      || Number(alreadyUsed.has(b.id)) - Number(alreadyUsed.has(a.id)) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  });
  return ranked[0] ?? null;
}

/** The analyser's facts over a user's agents and the skill registry. */
export function planFacts(agents: AgentRecord[], skill: (id: string) => SkillFacts | null): PlanFacts {
  const byId = new Map(agents.map((a) => [a.id, a]));
  return {
    agent: (id) => byId.get(id) ?? null,
    skill,
    anyCapable: (skillId) => {
      const s = skill(skillId);
      return !!s && agents.some((a) => canRun(a, skillId, s));
    },
  };
}
