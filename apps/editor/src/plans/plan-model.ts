/**
 * The plan view's arithmetic, kept apart from React so it is tested on its own: lanes (one per
 * agent), columns (dependency levels), the timeline's bars and which steps overlapped.
 */

export interface BoardStep {
  name: string;
  skill: string;
  agentId: string;
  dependsOn: string[];
  critical: boolean;
  status?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
}

/** Each step's column: 0 for steps with no dependencies, else one more than its deepest dependency. */
export function levelsOf(steps: readonly Pick<BoardStep, 'name' | 'dependsOn'>[]): Map<string, number> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const level = new Map<string, number>();
  const visit = (name: string, path: Set<string>): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const step = byName.get(name);
    // A cycle or a dangling dependency: the plan's diagnostics say so; the board still draws.
    if (!step || path.has(name)) return 0;
    path.add(name);
    const l = step.dependsOn.length ? 1 + Math.max(...step.dependsOn.map((d) => visit(d, path))) : 0;
    path.delete(name);
    level.set(name, l);
    return l;
  };
  for (const s of steps) visit(s.name, new Set());
  return level;
}

/** Lanes in order of first appearance, each with its steps sorted by column. */
export function lanesOf<T extends BoardStep>(steps: readonly T[]): { agentId: string; steps: (T & { level: number })[] }[] {
  const levels = levelsOf(steps);
  const lanes = new Map<string, (T & { level: number })[]>();
  for (const s of steps) lanes.set(s.agentId, [...(lanes.get(s.agentId) ?? []), { ...s, level: levels.get(s.name) ?? 0 }]);
  return [...lanes].map(([agentId, ss]) => ({ agentId, steps: ss.sort((a, b) => a.level - b.level) }));
}

export interface TimelineBar {
  name: string;
  status: string;
  /** Percent of the timeline's width. */
  left: number;
  width: number;
  ms: number | null;
}

/**
 * Bars from each step's start to its end (or `now` while it runs), on a scale from the first
 * start to the last end. Steps that never started have no bar.
 */
export function timelineOf(steps: readonly BoardStep[], now: number): { bars: TimelineBar[]; totalMs: number } {
  const spans = steps.flatMap((s) => {
    if (!s.startedAt) return [];
    const start = Date.parse(s.startedAt);
    const end = s.finishedAt ? Date.parse(s.finishedAt) : s.status === 'running' ? now : start;
    return [{ s, start, end: Math.max(start, end) }];
  });
  if (!spans.length) return { bars: [], totalMs: 0 };
  const t0 = Math.min(...spans.map((x) => x.start));
  const t1 = Math.max(...spans.map((x) => x.end));
  const total = Math.max(1, t1 - t0);
  return {
    totalMs: t1 - t0,
    bars: spans.map(({ s, start, end }) => ({
      name: s.name, status: s.status ?? 'pending',
      left: ((start - t0) / total) * 100,
      // Visible even when a step took no measurable time.
      width: Math.max(1.5, ((end - start) / total) * 100),
      ms: s.finishedAt ? end - start : null,
    })),
  };
}

/** The line under the timeline: how long, and which steps overlapped (while the run goes on: so far, at the same time). */
export function timelineNote(totalMs: number, overlaps: readonly [string, string][], live: boolean) {
  const pairs = overlaps.map(([a, b]) => `${a} + ${b}`).join(', ');
  const secs = (totalMs / 1000).toFixed(2);
  if (live) return `${secs} s so far.${pairs ? ` At the same time: ${pairs}.` : ''}`;
  return `${secs} s from the first start to the last end. ${pairs ? `Ran at the same time: ${pairs}.` : 'No steps overlapped.'}`;
}

/** Pairs of steps whose runs overlapped in time (what "ran at the same time" means on the timeline). */
export function overlapsOf(steps: readonly BoardStep[]): [string, string][] {
  const spans = steps.filter((s) => s.startedAt && s.finishedAt).map((s) => ({ name: s.name, start: Date.parse(s.startedAt!), end: Date.parse(s.finishedAt!) }));
  const out: [string, string][] = [];
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!;
      const b = spans[j]!;
      if (a.start < b.end && b.start < a.end) out.push([a.name, b.name]);
    }
  }
  return out;
}

/** Agents that can run a skill: active, holding it, allowed every tool it needs. */
export function capableAgents<A extends { id: string; active: boolean; skills: readonly string[]; tools: readonly string[] }>(
  agents: readonly A[], skill: { id: string; requiredTools: readonly string[] } | undefined,
): A[] {
  if (!skill) return [];
  return agents.filter((a) => a.active && a.skills.includes(skill.id) && skill.requiredTools.every((t) => a.tools.includes(t)));
}

/** A short, readable line for a step's output (the full JSON is one click away). */
export function outputGist(output: unknown): string {
  if (output === null || output === undefined) return '';
  if (typeof output !== 'object') return String(output);
  const o = output as Record<string, unknown>;
  if (typeof o.subject === 'string') return `Draft “${o.subject}”${Array.isArray(o.to) ? ` to ${o.to.join(', ')}` : ''}`;
  if (Array.isArray(o.insights)) return (o.insights as unknown[]).filter((x) => typeof x === 'string').slice(0, 3).join(' · ');
  if (typeof o.summary === 'string') return o.summary;
  return JSON.stringify(o).slice(0, 140);
}

/**
 * Pairs of steps that ran at the same time, from the run's journal order (ids, not clock
 * readings: two steps that both started before either finished overlapped, however fast they were).
 */
export function overlapsFromJournal(journal: readonly { step: string | null; event: string }[]): [string, string][] {
  const running = new Set<string>();
  const out: [string, string][] = [];
  for (const j of journal) {
    if (!j.step) continue;
    if (j.event === 'step.started') {
      for (const other of running) if (other !== j.step && !out.some(([a, b]) => (a === other && b === j.step) || (a === j.step && b === other))) out.push([other, j.step]);
      running.add(j.step);
    } else if (['step.done', 'step.failed', 'step.attempt-failed', 'step.cancelled', 'step.skipped'].includes(j.event)) {
      running.delete(j.step);
    }
  }
  return out;
}
