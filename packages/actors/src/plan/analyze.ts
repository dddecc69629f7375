import {
  ANY_AGENT, FlowDocumentSchema, MAX_PLAN_BACKOFF_MS, planStepNode, type Diagnostic, type FlowDocument,
} from '@switchyard/schema';
import { parseExpression, templateExpressions } from '../expression';

/** One step of a compiled plan: the node's params after defaults, its dependencies by result name. */
export interface PlanStepSpec {
  nodeId: string;
  name: string;
  skill: string;
  /** An agent id, or `any` until the run resolves it. */
  agent: string;
  params: Record<string, unknown>;
  critical: boolean;
  retry: { maxAttempts: number; backoffMs: number; factor: number };
  timeoutMs: number;
  /** Result names of the steps this one waits for (the edges into it). */
  dependsOn: string[];
}

export interface PlanSpec {
  docId: string;
  name: string;
  /** Steps in a dependency order (every step after the ones it depends on). */
  steps: PlanStepSpec[];
}

/** What the agent checks need to know; the runtime fills it from the database (the analyser stays pure). */
export interface PlanFacts {
  agent(id: string): { name: string; active: boolean; skills: readonly string[]; tools: readonly string[] } | null;
  skill(id: string): { name: string; requiredTools: readonly string[] } | null;
  /** Whether some active agent holds the skill and its tools (for steps left to "any capable agent"). */
  anyCapable(skill: string): boolean;
}

export interface PlanAnalysis {
  /** Null when any diagnostic is an error. */
  plan: PlanSpec | null;
  diagnostics: Diagnostic[];
  document: FlowDocument | null;
}

/** `steps.<name>` references in every string of a params object, with the path where each appears. */
export function stepReferences(params: unknown, path: (string | number)[] = []): { name: string; path: (string | number)[]; bad?: string }[] {
  const out: { name: string; path: (string | number)[]; bad?: string }[] = [];
  const walk = (v: unknown, at: (string | number)[]) => {
    if (typeof v === 'string') {
      if (!v.includes('{{')) return;
      for (const expr of templateExpressions(v)) {
        try {
          parseExpression(expr);
        } catch (e) {
          out.push({ name: '', path: at, bad: e instanceof Error ? e.message : String(e) });
          continue;
        }
        for (const m of expr.matchAll(/\bsteps\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)/g)) out.push({ name: m[1]!, path: at });
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...at, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
  };
  walk(params, path);
  return out;
}

/**
 * Checks a plan document and orders its steps: only plan steps, unique result names, no cycles,
 * references only to upstream steps, and (with `facts`) agents and skills that exist and fit.
 * Every problem is a diagnostic on the node (and param) at fault. Pure and deterministic.
 */
export function analyzePlan(input: unknown, facts?: PlanFacts): PlanAnalysis {
  const diagnostics: Diagnostic[] = [];
  const parsed = FlowDocumentSchema.safeParse(input);
  if (!parsed.success) {
    return {
      plan: null, document: null,
      diagnostics: parsed.error.issues.map((i) => ({ code: 'invalid-document', severity: 'error', message: i.message, path: i.path.map((p) => (typeof p === 'number' ? p : String(p))) })),
    };
  }
  const doc = parsed.data;
  const err = (d: Omit<Diagnostic, 'severity'>) => diagnostics.push({ severity: 'error', ...d });
  if (doc.kind !== 'plan') err({ code: 'kind-not-allowed', message: 'Not a plan document', path: ['kind'] });
  if (!doc.nodes.length) err({ code: 'invalid-document', message: 'A plan needs at least one step', path: ['nodes'] });

  const steps = new Map<string, PlanStepSpec>();
  const indexOf = new Map<string, number>();
  const byName = new Map<string, string>();
  const seenIds = new Set<string>();
  doc.nodes.forEach((node, index) => {
    indexOf.set(node.id, index);
    if (seenIds.has(node.id)) err({ code: 'duplicate-id', message: `Two nodes have the id "${node.id}"`, nodeId: node.id, path: ['nodes', index, 'id'] });
    seenIds.add(node.id);
    if (node.type !== planStepNode.type) {
      err({ code: 'kind-not-allowed', message: 'A plan holds only plan steps', nodeId: node.id, path: ['nodes', index, 'type'] });
      return;
    }
    const p = planStepNode.params.safeParse(node.params);
    if (!p.success) {
      for (const i of p.error.issues) err({ code: 'invalid-params', message: i.message, nodeId: node.id, path: ['nodes', index, 'params', ...i.path.map((x) => (typeof x === 'number' ? x : String(x)))] });
      return;
    }
    const prm = p.data;
    // The last retry waits backoffMs * factor^(maxAttempts-2): more than a timer holds would retry at once.
    const { maxAttempts, backoffMs, factor } = prm.retry;
    const longest = maxAttempts > 1 ? backoffMs * factor ** (maxAttempts - 2) : 0;
    if (longest > MAX_PLAN_BACKOFF_MS) {
      err({
        code: 'invalid-params', nodeId: node.id, path: ['nodes', index, 'params', 'retry', 'backoffMs'],
        message: `The last retry would wait ${Math.round(longest / 86_400_000).toLocaleString('en-US')} days (backoffMs × factor^${maxAttempts - 2}); a step waits at most ${MAX_PLAN_BACKOFF_MS} ms (about 24 days) between attempts: lower backoffMs, factor or maxAttempts`,
      });
    }
    const other = byName.get(prm.name);
    if (other) err({ code: 'duplicate-id', message: `Two steps are named "${prm.name}": result names must be unique`, nodeId: node.id, path: ['nodes', index, 'params', 'name'] });
    else byName.set(prm.name, node.id);
    steps.set(node.id, { nodeId: node.id, name: prm.name, skill: prm.skill, agent: prm.agent, params: prm.params, critical: prm.critical, retry: prm.retry, timeoutMs: prm.timeoutMs, dependsOn: [] });
  });

  // Adjacency both ways: `deps` (what a step waits for, in edge order) and `dependents` (the steps
  // waiting for it, in document order), so ordering and the upstream checks are linear in the edges.
  const deps = new Map<string, string[]>([...steps.keys()].map((id) => [id, []]));
  const depSets = new Map<string, Set<string>>([...steps.keys()].map((id) => [id, new Set()]));
  doc.edges.forEach((e, index) => {
    if (!indexOf.has(e.source) || !indexOf.has(e.target)) {
      err({ code: 'dangling-edge', message: 'This connection points to a step that does not exist', edgeId: e.id, path: ['edges', index] });
      return;
    }
    if (e.source === e.target) {
      err({ code: 'cycle', message: 'A step cannot depend on itself', nodeId: e.target, edgeId: e.id, path: ['edges', index] });
      return;
    }
    const seen = depSets.get(e.target);
    if (seen && steps.has(e.source) && !seen.has(e.source)) {
      seen.add(e.source);
      deps.get(e.target)!.push(e.source);
    }
  });
  const dependents = new Map<string, string[]>([...steps.keys()].map((id) => [id, []]));
  for (const [id, ds] of deps) for (const d of ds) dependents.get(d)!.push(id);

  // Kahn's algorithm, stable in document order; what is left is on (or behind) a cycle.
  const order: string[] = [];
  const indegree = new Map([...deps].map(([id, ds]) => [id, ds.length]));
  const ready = [...steps.keys()].filter((id) => indegree.get(id) === 0);
  for (let next = 0; next < ready.length; next++) {
    const id = ready[next]!;
    order.push(id);
    for (const other of dependents.get(id)!) {
      const left = indegree.get(other)! - 1;
      indegree.set(other, left);
      if (left === 0) ready.push(other);
    }
  }
  const ordered = new Set(order);
  for (const id of steps.keys()) {
    if (!ordered.has(id)) err({ code: 'cycle', message: 'This step is part of a dependency cycle: remove one of the connections', nodeId: id, path: ['nodes', indexOf.get(id)!] });
  }

  // Upstream = reachable backwards along the edges, by result name (a duplicated name counts for
  // either step). A reference is usually to a direct dependency; otherwise a walk back from the
  // step stops once it finds the name. Only steps that make a reference pay for it.
  const isUpstream = (id: string, name: string) => {
    if (deps.get(id)!.some((d) => steps.get(d)!.name === name)) return true;
    const seen = new Set<string>();
    const stack = [...deps.get(id)!];
    while (stack.length) {
      const d = stack.pop()!;
      if (seen.has(d)) continue;
      if (steps.get(d)!.name === name) return true;
      seen.add(d);
      for (const x of deps.get(d)!) stack.push(x);
    }
    return false;
  };
  for (const step of steps.values()) {
    const index = indexOf.get(step.nodeId)!;
    step.dependsOn = deps.get(step.nodeId)!.map((d) => steps.get(d)!.name);
    for (const ref of stepReferences(step.params, ['nodes', index, 'params', 'params'])) {
      if (ref.bad) err({ code: 'invalid-expression', message: ref.bad, nodeId: step.nodeId, path: ref.path });
      else if (!byName.has(ref.name)) err({ code: 'invalid-expression', message: `No step is named "${ref.name}"`, nodeId: step.nodeId, path: ref.path });
      else if (!isUpstream(step.nodeId, ref.name)) err({ code: 'invalid-expression', message: `"${ref.name}" is not upstream of this step: connect it to this step first, or it has no result yet`, nodeId: step.nodeId, path: ref.path });
    }
    if (facts) agentChecks(step, index, facts, diagnostics);
  }

  const ok = !diagnostics.some((d) => d.severity === 'error');
  return {
    document: doc, diagnostics,
    plan: ok ? { docId: doc.id, name: doc.name, steps: order.map((id) => steps.get(id)!) } : null,
  };
}

function agentChecks(step: PlanStepSpec, index: number, facts: PlanFacts, out: Diagnostic[]) {
  const at = (param: string, severity: Diagnostic['severity'], message: string): Diagnostic =>
    ({ code: 'invalid-params', severity, message, nodeId: step.nodeId, path: ['nodes', index, 'params', param] });
  const skill = facts.skill(step.skill);
  if (!skill) {
    out.push(at('skill', 'error', `Unknown skill "${step.skill}"`));
    return;
  }
  if (step.agent === ANY_AGENT) {
    if (!facts.anyCapable(step.skill)) out.push(at('agent', 'error', `No capable agent for skill ${step.skill}: no active agent holds ${skill.name} with the tools it needs`));
    return;
  }
  const agent = facts.agent(step.agent);
  if (!agent) {
    out.push(at('agent', 'error', 'No such agent: choose one of your agents'));
    return;
  }
  if (!agent.active) out.push(at('agent', 'warning', `Agent "${agent.name}" is paused: this step fails until it is resumed`));
  if (!agent.skills.includes(step.skill)) {
    out.push(at('agent', 'error', `Agent "${agent.name}" does not have the skill "${skill.name}"`));
    return;
  }
  const missing = skill.requiredTools.filter((t) => !agent.tools.includes(t));
  if (missing.length) out.push(at('agent', 'error', `Agent "${agent.name}" may not use ${missing.join(', ')}, which ${skill.name} needs`));
}
