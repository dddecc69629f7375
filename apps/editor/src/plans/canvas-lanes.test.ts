import { describe, expect, it } from 'vitest';
import { laneBands, overlappingLanes, planLaneLayout, planRunOverlay, positionInLane, type LaneNode } from './canvas-lanes';

const node = (id: string, agent: string, x: number, y: number): LaneNode => ({ id, position: { x, y }, width: 240, height: 100, params: { name: id, agent } });

describe('a plan on the canvas', () => {
  it('the lane layout puts each agent in its own lane and each dependency level in its own column', () => {
    const nodes = [node('email', 'w', 0, 0), node('research', 'a', 0, 0), node('research2', 'b', 0, 0)];
    const at = planLaneLayout(nodes, [{ source: 'research', target: 'email' }, { source: 'research2', target: 'email' }]);
    // The two research steps share column 0 (they run at the same time), in two lanes; the email is in column 1.
    expect(at.get('research')!.x).toBe(at.get('research2')!.x);
    expect(at.get('email')!.x).toBeGreaterThan(at.get('research')!.x);
    const ys = ['research', 'research2', 'email'].map((n) => at.get(n)!.y);
    expect(ys[0]! < ys[1]! && ys[1]! < ys[2]!).toBe(true);
    // Laid out that way, the bands do not overlap and each holds its agent's steps.
    const bands = laneBands(nodes.map((n) => ({ ...n, position: at.get(n.id)! })));
    expect(bands.map((b) => [b.agent, b.steps])).toEqual([['a', 1], ['b', 1], ['w', 1]]);
    for (let i = 1; i < bands.length; i++) expect(bands[i]!.y).toBeGreaterThanOrEqual(bands[i - 1]!.y + bands[i - 1]!.height);
    expect(new Set(bands.map((b) => b.width)).size).toBe(1);
  });

  it('two steps of one agent in one column are stacked in its lane', () => {
    const at = planLaneLayout([node('a1', 'a', 0, 0), node('a2', 'a', 0, 50)], []);
    expect(at.get('a1')!.x).toBe(at.get('a2')!.x);
    expect(at.get('a2')!.y).toBeGreaterThanOrEqual(at.get('a1')!.y + 100);
    expect(laneBands([node('a1', 'a', 0, at.get('a1')!.y), node('a2', 'a', 0, at.get('a2')!.y)])).toHaveLength(1);
  });

  it('a step given to another agent moves into that lane (same column), or into a new lane under the others', () => {
    const lanes = [node('r1', 'a', 0, 0), node('r2', 'b', 0, 200), node('email', 'w', 320, 400)];
    // r2 reassigned to a: under r1, same column.
    expect(positionInLane([lanes[0]!, { ...lanes[1]!, params: { agent: 'a' } }, lanes[2]!], 'r2')).toEqual({ x: 0, y: 124 });
    // r2 alone in its lane, given to a new agent: its lane simply becomes that agent's.
    expect(positionInLane([lanes[0]!, { ...lanes[1]!, params: { agent: 'c' } }, lanes[2]!], 'r2')).toBeNull();
    // A step sharing a lane, given to a new agent: a lane of its own below the rest.
    const fresh = positionInLane([...lanes, { ...node('r3', 'c', 320, 0) }], 'r3')!;
    expect(fresh).toEqual({ x: 320, y: expect.any(Number) });
    expect(fresh.y).toBeGreaterThan(500);
    // Already in its lane: no move.
    expect(positionInLane(lanes, 'r1')).toBeNull();
  });

  it('finds lanes that overlap (two agents on one row, as a template placed them) until Auto-layout separates them', () => {
    const oneRow = [node('research', 'r', 0, 0), node('email', 'w', 300, 0)];
    expect(overlappingLanes(laneBands(oneRow))).toEqual(['r', 'w']);
    const at = planLaneLayout(oneRow, [{ source: 'research', target: 'email' }]);
    expect(overlappingLanes(laneBands(oneRow.map((n) => ({ ...n, position: at.get(n.id)! }))))).toEqual([]);
    // Only the lanes that meet: a third lane far below is not named.
    expect(overlappingLanes(laneBands([...oneRow, node('later', 'x', 0, 600)]))).toEqual(['r', 'w']);
    expect(overlappingLanes([])).toEqual([]);
  });

  it("a plan run paints its steps' states like a workflow run's nodes", () => {
    const overlay = planRunOverlay([
      { name: 'research', nodeId: 'research', status: 'running', attempt: 0, output: null, error: null, params: {} },
      { name: 'research2', nodeId: 'research2', status: 'done', attempt: 1, output: { ok: true }, error: null, params: {} },
      { name: 'email', nodeId: 'email', status: 'cancelled', attempt: 0, output: null, error: null, params: {} },
    ]);
    expect(Object.fromEntries(Object.entries(overlay).map(([k, v]) => [k, [v.state, v.attempts]]))).toEqual({ research: ['running', 1], research2: ['succeeded', 2], email: ['skipped', 1] });
  });
});
