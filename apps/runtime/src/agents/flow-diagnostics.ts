import type { Diagnostic } from '@switchyard/schema';

/** What the check needs to know of an agent. */
export interface AgentFacts {
  name: string;
  active: boolean;
  skills: readonly string[];
  tools: readonly string[];
}

/** What the check needs to know of a skill. */
export interface SkillFacts {
  name: string;
  requiredTools: readonly string[];
}

const isTemplate = (v: string) => v.includes('{{');

/**
 * Diagnostics for the `agent.runSkill` nodes of a flow document, against the agents the user has:
 * an unknown agent, a skill the agent lacks, tools the skill requires that the agent may not use
 * (it would fail at run time with "may not use the tool ..."), a paused agent. Pinned to the node
 * and its param, like the compiler's own. The compiler is pure and has no database, so this runs
 * in the runtime next to it (`flows.validate` / `flows.deploy` add these to the compile diagnostics).
 * Params that are `{{ }}` templates are only known at run time and are not checked.
 */
export async function agentNodeDiagnostics(
  document: unknown,
  lookup: { agent(id: string): Promise<AgentFacts | null>; skill(id: string): SkillFacts | null },
): Promise<Diagnostic[]> {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const out: Diagnostic[] = [];
  for (const [index, node] of nodes.entries()) {
    if (!node || typeof node !== 'object') continue;
    const n = node as { id?: unknown; type?: unknown; params?: { agentId?: unknown; skill?: unknown } };
    if (n.type !== 'agent.runSkill' || typeof n.id !== 'string') continue;
    const { agentId, skill: skillId } = n.params ?? {};
    if (typeof agentId !== 'string' || !agentId || isTemplate(agentId)) continue;
    const at = (param: string, severity: Diagnostic['severity'], message: string): Diagnostic =>
      ({ code: 'invalid-params', severity, message, nodeId: n.id as string, path: ['nodes', index, 'params', param] });
    const agent = await lookup.agent(agentId);
    if (!agent) {
      out.push(at('agentId', 'error', 'No such agent: choose one of your agents'));
      continue;
    }
    if (!agent.active) out.push(at('agentId', 'warning', `Agent "${agent.name}" is paused: this step fails until it is resumed`));
    if (typeof skillId !== 'string' || !skillId || isTemplate(skillId)) continue;
    const skill = lookup.skill(skillId);
    if (!skill) {
      out.push(at('skill', 'error', `Unknown skill "${skillId}"`));
      continue;
    }
    if (!agent.skills.includes(skillId)) {
      out.push(at('skill', 'error', `Agent "${agent.name}" does not have the skill "${skill.name}": add it on the agent's page`));
      continue;
    }
    const missing = skill.requiredTools.filter((t) => !agent.tools.includes(t));
    if (missing.length) {
      out.push(at('skill', 'error', `Agent "${agent.name}" may not use ${missing.join(', ')}, which ${skill.name} needs: allow ${missing.length === 1 ? 'it' : 'them'} on the agent's page`));
    }
  }
  return out;
}
