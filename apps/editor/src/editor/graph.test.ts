import { describe, expect, it } from 'vitest';
import { cloneSubgraph, connectionProblem, docIdFromName, newNodeId, outputType, type Graph } from './graph';

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
