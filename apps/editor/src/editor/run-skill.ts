import { plainIssue } from './param-fields';

/**
 * Pure rules of the `agent.runSkill` inspector: what changing the agent or the skill does to the
 * node's params, and which problems of the skill's own params to show.
 */

type Params = Record<string, unknown>;

/** `{{ trigger.from }}` and friends: resolved when the step runs, so not checked here. */
export const isTemplate = (v: unknown): boolean => typeof v === 'string' && v.includes('{{');

function valueAt(record: unknown, path: readonly (string | number)[]): unknown {
  let v = record;
  for (const key of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[String(key)] : undefined;
  return v;
}

/**
 * Problems of the skill params (from `skills.validate`) keyed like the form's fields
 * ("params.replyTo.from"). A value that is a template is left alone: what it will hold is known
 * only when the step runs.
 */
export function skillParamIssues(issues: ReadonlyArray<{ path: ReadonlyArray<string | number>; message: string }>, record: unknown): Map<string, string> {
  const map = new Map<string, string>();
  for (const issue of issues) {
    if (isTemplate(valueAt(record, issue.path))) continue;
    const key = ['params', ...issue.path.map(String)].join('.');
    if (!map.has(key)) map.set(key, plainIssue(issue.message));
  }
  return map;
}

/**
 * The node's params after choosing another agent: the skill stays when the new agent has it;
 * otherwise the agent's only skill is taken, or none. A different skill starts from empty params.
 */
export function withAgent(params: Params, agentId: string, agentSkills: readonly string[] | null): Params {
  const next: Params = { ...params };
  if (agentId) next.agentId = agentId;
  else delete next.agentId;
  const skill = typeof params.skill === 'string' ? params.skill : undefined;
  if (agentSkills === null || (skill !== undefined && agentSkills.includes(skill))) return next;
  return withSkill(next, agentSkills.length === 1 ? agentSkills[0]! : '');
}

/** The node's params after choosing a skill: its own params start empty (they differ per skill). */
export function withSkill(params: Params, skill: string): Params {
  if (params.skill === skill) return params;
  const { skill: _old, params: _oldParams, ...rest } = params;
  return skill ? { ...rest, skill, params: {} } : rest;
}
