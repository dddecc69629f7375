import { describe, expect, it } from 'vitest';
import { cloneSubgraph, connectionProblem, docIdFromName, freeSpot, newNodeId, outputType, type Graph } from './graph';

const node = (id: string, type: string) => ({ id, type, typeVersion: 1, position: { x: 0, y: 0 }, params: {} });
const edge = (id: string, source: string, target: string, sourceHandle = 'out') => ({ id, source, sourceHandle, target, targetHandle: 'in' });

const graph: Graph = {
  nodes: [
    node('email', 'trigger.emailReceived'),
    node('contact', 'trigger.contactCreated'),
    node('known', 'condition.contactExists'),
    node('draft', 'action.draftReply'),
    node('task', 'action.createTask'),
  ],
  edges: [edge('e1', 'contact', 'known'), edge('e2', 'known', 'task')],
};

describe('connection checks (the compiler port-type rule, before the edge exists)', () => {
  it('refuses a contact flowing into an action that needs an email, also through a pass-through condition', () => {
    expect(connectionProblem(graph, { source: 'contact', sourceHandle: 'out', target: 'draft', targetHandle: 'in' })).toMatch(/needs an email, but Contact created gives a contact/);
    expect(outputType(graph, 'known')).toBe('contact');
    expect(connectionProblem(graph, { source: 'known', sourceHandle: 'out', target: 'draft', targetHandle: 'in' })).toMatch(/needs an email/);
  });

  it('accepts compatible and untyped connections', () => {
    expect(connectionProblem(graph, { source: 'email', sourceHandle: 'out', target: 'draft', targetHandle: 'in' })).toBeNull();
    expect(connectionProblem(graph, { source: 'email', sourceHandle: 'out', target: 'task', targetHandle: 'in' })).toBeNull();
  });

  it('refuses inputs into triggers, loops, self-connections and duplicates', () => {
    expect(connectionProblem(graph, { source: 'task', sourceHandle: 'out', target: 'email', targetHandle: 'in' })).toMatch(/trigger/);
    expect(connectionProblem(graph, { source: 'task', sourceHandle: 'out', target: 'known', targetHandle: 'in' })).toMatch(/loop/);
    expect(connectionProblem(graph, { source: 'task', sourceHandle: 'out', target: 'task', targetHandle: 'in' })).toMatch(/itself/);
    expect(connectionProblem(graph, { source: 'contact', sourceHandle: 'out', target: 'known', targetHandle: 'in' })).toMatch(/already/);
  });
});

describe('ids and copies', () => {
  it('gives readable, unique node ids and valid document ids', () => {
    expect(newNodeId('action.createTask', new Set())).toBe('createTask');
    expect(newNodeId('action.createTask', new Set(['createTask', 'createTask_2']))).toBe('createTask_3');
    expect(docIdFromName('Auto respond!', () => 0)).toBe('auto-respond-0000');
    expect(docIdFromName('2024 review', () => 0)).toMatch(/^flow-2024-review-/);
  });

  it('pastes a selection with fresh ids, keeping only the edges inside it', () => {
    const copy = cloneSubgraph(graph, { nodes: graph.nodes.filter((n) => n.id !== 'contact'), edges: graph.edges });
    expect(copy.nodes.map((n) => n.id)).toEqual(['emailReceived', 'contactExists', 'draftReply', 'createTask']);
    expect(copy.edges).toEqual([{ id: 'e3', source: 'contactExists', sourceHandle: 'out', target: 'createTask', targetHandle: 'in' }]);
    expect(copy.nodes[0]!.position).toEqual({ x: 40, y: 40 });
  });
});

describe('issue 9: clicking a palette item adds the node at a free spot', () => {
  const size = { width: 240, height: 100 };
  const intersects = (a: { x: number; y: number }, r: { x: number; y: number; width: number; height: number }) =>
    a.x < r.x + r.width && r.x < a.x + size.width && a.y < r.y + r.height && r.y < a.y + size.height;

  it('centres the node on the visible canvas when that is free', () => {
    expect(freeSpot([], { x: 500, y: 300 }, size)).toEqual({ x: 380, y: 250 });
  });

  it('never lands on a node already there, however many are added in a row', () => {
    const placed: Array<{ x: number; y: number; width: number; height: number }> = [{ x: 360, y: 240, width: 240, height: 120 }];
    for (let i = 0; i < 30; i++) {
      const at = freeSpot(placed, { x: 500, y: 300 }, size);
      for (const r of placed) expect(intersects(at, r)).toBe(false);
      placed.push({ ...at, ...size });
    }
  });

  it('prefers cells inside the visible part of the canvas, and goes beyond it only when the view is full', () => {
    // Room for a 3 x 3 grid of cards around the centre.
    const visible = { x: -20, y: -20, width: 800, height: 440 };
    const placed: Array<{ x: number; y: number; width: number; height: number }> = [];
    const inside = (a: { x: number; y: number }) => a.x >= -20 && a.y >= -20 && a.x + size.width <= 780 && a.y + size.height <= 420;
    for (let i = 0; i < 9; i++) {
      const at = freeSpot(placed, { x: 380, y: 200 }, size, visible);
      expect(inside(at)).toBe(true);
      placed.push({ ...at, ...size });
    }
    const beyond = freeSpot(placed, { x: 380, y: 200 }, size, visible);
    expect(inside(beyond)).toBe(false);
    for (const r of placed) expect(intersects(beyond, r)).toBe(false);
  });

  it('comes back into view when the preferred spot (right of the last node) is off screen', () => {
    const visible = { x: 0, y: 0, width: 720, height: 600 };
    const at = freeSpot([{ x: 450, y: 250, width: 240, height: 100 }], { x: 858, y: 300 }, size, visible);
    expect(at.x >= 0 && at.x + size.width <= 720 && at.y >= 0 && at.y + size.height <= 600).toBe(true);
  });

  it('stays next to the centre: the first free cell is one step away, to the right before the left', () => {
    const at = freeSpot([{ x: 380, y: 250, width: 240, height: 100 }], { x: 500, y: 300 }, size);
    expect(Math.abs(at.x - 380) + Math.abs(at.y - 250)).toBeLessThanOrEqual(264);
    expect(at.x).toBeGreaterThanOrEqual(380);
  });
});
