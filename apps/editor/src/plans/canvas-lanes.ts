/**
 * A plan on the main canvas, kept apart from React so it is tested on its own: lanes (one band per
 * agent, behind its steps), the lane layout (a column per dependency level, a lane per agent), a
 * reassigned step moving into its new agent's lane, and a plan run as the canvas's live overlay.
 */
import type { NodeRunView } from '../editor/overlay';
import { levelsOf } from './plan-model';

export interface LaneNode {
  id: string;
  position: { x: number; y: number };
  width?: number;
  height?: number;
  params: Record<string, unknown>;
}
export interface LaneEdge {
  source: string;
  target: string;
}

/** A node card's size before it is measured. */
const DEFAULT = { width: 240, height: 110 };
/** Room above a lane's first step for its label, and around its steps. */
const LABEL = 30;
const PAD = 16;
const COLUMN = 320;
const ROW_GAP = 24;
const LANE_GAP = 28;

const agentOf = (n: LaneNode) => (typeof n.params.agent === 'string' && n.params.agent ? n.params.agent : 'any');
const size = (n: LaneNode) => ({ width: n.width ?? DEFAULT.width, height: n.height ?? DEFAULT.height });

export interface LaneBand {
  agent: string;
  x: number;
  y: number;
  width: number;
  height: number;
  steps: number;
}

/**
 * One band per agent around that agent's steps, all as wide as the plan, in the order the lanes
 * first appear from the top. Overlapping bands only when steps were dragged across lanes.
 */
export function laneBands(nodes: readonly LaneNode[]): LaneBand[] {
  if (!nodes.length) return [];
  const left = Math.min(...nodes.map((n) => n.position.x)) - PAD;
  const right = Math.max(...nodes.map((n) => n.position.x + size(n).width)) + PAD;
  const lanes = new Map<string, LaneNode[]>();
  for (const n of [...nodes].sort((a, b) => a.position.y - b.position.y)) lanes.set(agentOf(n), [...(lanes.get(agentOf(n)) ?? []), n]);
  return [...lanes].map(([agent, ns]) => {
    const top = Math.min(...ns.map((n) => n.position.y));
    const bottom = Math.max(...ns.map((n) => n.position.y + size(n).height));
    return { agent, x: left, y: top - LABEL - PAD / 2, width: right - left, height: bottom - top + LABEL + PAD, steps: ns.length };
  });
}

/** The agents whose lanes overlap another's (steps of two agents on one row), in lane order: the canvas suggests Auto-layout. */
export function overlappingLanes(bands: readonly LaneBand[]): string[] {
  const out = new Set<string>();
  for (const [i, a] of bands.entries()) {
    for (const b of bands.slice(i + 1)) {
      if (a.y < b.y + b.height && b.y < a.y + a.height) out.add(a.agent).add(b.agent);
    }
  }
  return bands.map((b) => b.agent).filter((agent) => out.has(agent));
}

/**
 * The lane layout: a column per dependency level (left to right), a lane per agent (top to
 * bottom, in the order of each agent's first step), steps of one lane and column stacked.
 */
export function planLaneLayout(nodes: readonly LaneNode[], edges: readonly LaneEdge[]): Map<string, { x: number; y: number }> {
  const levels = levelsOf(nodes.map((n) => ({ name: n.id, dependsOn: edges.filter((e) => e.target === n.id).map((e) => e.source) })));
  const order = [...nodes].sort((a, b) => (levels.get(a.id) ?? 0) - (levels.get(b.id) ?? 0) || a.position.y - b.position.y);
  const lanes = [...new Set(order.map(agentOf))];
  const out = new Map<string, { x: number; y: number }>();
  let y = LABEL + PAD;
  for (const lane of lanes) {
    const mine = order.filter((n) => agentOf(n) === lane);
    const stacked = new Map<number, number>();
    let laneHeight = 0;
    for (const n of mine) {
      const level = levels.get(n.id) ?? 0;
      const at = stacked.get(level) ?? 0;
      out.set(n.id, { x: level * COLUMN, y: y + at });
      stacked.set(level, at + size(n).height + ROW_GAP);
      laneHeight = Math.max(laneHeight, at + size(n).height);
    }
    y += laneHeight + LABEL + PAD + LANE_GAP;
  }
  return out;
}

/**
 * Where a step goes when its agent changes: into the new agent's lane, in the same column —
 * under that lane's step in that column if there is one — or, for an agent with no lane yet, in a
 * new lane under the others. Null when it needs no move (it is in its lane already).
 */
export function positionInLane(nodes: readonly LaneNode[], id: string): { x: number; y: number } | null {
  const node = nodes.find((n) => n.id === id);
  if (!node) return null;
  const others = nodes.filter((n) => n.id !== id);
  const lane = others.filter((n) => agentOf(n) === agentOf(node));
  if (lane.length) {
    const top = Math.min(...lane.map((n) => n.position.y));
    const bottom = Math.max(...lane.map((n) => n.position.y + size(n).height));
    if (node.position.y >= top - ROW_GAP && node.position.y <= bottom) return null;
    const column = lane.filter((n) => Math.abs(n.position.x - node.position.x) < size(node).width);
    return { x: node.position.x, y: column.length ? Math.max(...column.map((n) => n.position.y + size(n).height)) + ROW_GAP : top };
  }
  // Alone in its agent's lane, and not inside another agent's: it is where it belongs.
  const h = size(node).height;
  if (!others.some((n) => n.position.y < node.position.y + h && node.position.y < n.position.y + size(n).height)) return null;
  // A lane of its own, under every other lane (and its label).
  return { x: node.position.x, y: Math.max(...others.map((n) => n.position.y + size(n).height)) + LABEL + PAD * 2 + LANE_GAP };
}

/** A plan run's step as `plans.get` and `plans.watch` return it. */
export interface PlanRunStep {
  name: string;
  nodeId: string;
  status: string;
  attempt: number;
  output: unknown;
  error: string | null;
  params: unknown;
}

const STATE: Record<string, string> = { pending: 'pending', running: 'running', done: 'succeeded', failed: 'failed', skipped: 'skipped', cancelled: 'skipped' };

/** A plan run as the canvas's overlay: each step's state on its node, as a workflow run's nodes are painted. */
export function planRunOverlay(steps: readonly PlanRunStep[]): Record<string, NodeRunView> {
  return Object.fromEntries(steps.map((s) => [s.nodeId, {
    state: STATE[s.status] ?? 'pending', output: s.output, error: s.error, reason: s.status === 'cancelled' ? 'Cancelled' : null, attempts: s.attempt + 1, request: s.params,
  } satisfies NodeRunView]));
}
