import { describe, expect, it } from 'vitest';
import { compile, type CompiledMachine } from '@switchyard/actors';
import { runView, type AgentApprovalRow } from './run-view';
import type { RunRow } from './run-store';

/** A for-each whose branch asks an agent per item (its proposals wait under the item's id). */
const doc = {
  schemaVersion: 1, id: 'branch-agent', kind: 'workflow', name: 'Ask per contact',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'each', type: 'flow.forEach', position: { x: 200, y: 0 }, params: { items: '{{ trigger.people }}' } },
    { id: 'task', type: 'action.createTask', position: { x: 400, y: 100 }, params: { title: 'Call {{ item.name }}' } },
    { id: 'after', type: 'action.sendNotification', position: { x: 400, y: 0 }, params: { title: 'Done' } },
  ],
  edges: [
    { id: 'e1', source: 'start', target: 'each' },
    { id: 'e2', source: 'each', sourceHandle: 'each', target: 'task' },
    { id: 'e3', source: 'each', target: 'after' },
  ],
};
const compiled = compile(doc).machine as CompiledMachine;

const row = (context: Record<string, unknown>, value: unknown): RunRow => ({
  id: 'r1', user_id: 'u1', flow_id: 'f1', flow_version: 1, status: 'running', trigger_node_id: 'start',
  trigger: { type: 'manual', payload: {} }, snapshot: { value, context }, snapshot_version: 3, reason: null, error: null,
  started_at: new Date(0), updated_at: new Date(0), finished_at: null,
});
const approval = (nodeId: string): AgentApprovalRow => ({
  id: 'a1', agent_id: 'ag1', agent_name: 'Writer', node_id: nodeId, tool: 'createDraft', args: { args: {} }, reason: 'draft', created_at: new Date(0),
});

describe('run view of a for-each branch', () => {
  it('shows branch nodes as pending before any item, then as the latest item left them, with the item', () => {
    const before = runView(row({ nodes: { start: { status: 'succeeded', handles: ['out'], attempts: 0 } } }, { active: { start: 'succeeded', each: 'running' } }), compiled);
    expect(before.nodes.task).toMatchObject({ state: 'pending', output: null });
    const during = runView(row({
      nodes: { start: { status: 'succeeded', handles: ['out'], attempts: 0 }, each: { status: 'waiting', handles: [], attempts: 0, output: { count: 1, total: 2, skipped: 0, pending: 1 } } },
      each: { each: { total: 2, skipped: 0, items: [
        { index: 0, value: { name: 'Ada' }, status: 'succeeded', nodes: { task: 'succeeded' }, outputs: { task: { taskId: 't0' } } },
        { index: 1, value: { name: 'Grace' }, status: 'running', nodes: { task: 'running' }, outputs: {} },
      ] } },
    }, { active: { start: 'succeeded', each: 'items' } }), compiled);
    expect(during.nodes.each).toMatchObject({ state: 'running', output: { count: 1, total: 2 } });
    expect(during.nodes.task).toMatchObject({ state: 'running', item: { forEach: 'each', index: 1 } });
    expect(during.status).toBe('running');

    // The item's step waits for a person to decide its agent's proposal: the node reads waiting, and so does the run.
    const waiting = runView(row({
      nodes: { start: { status: 'succeeded', handles: ['out'], attempts: 0 } },
      each: { each: { total: 2, skipped: 0, items: [{ index: 1, value: {}, status: 'running', nodes: { task: 'running' } }] } },
    }, { active: { start: 'succeeded', each: 'items' } }), compiled, [approval('each[1].task')]);
    expect(waiting.nodes.task!.state).toBe('waiting');
    expect(waiting.status).toBe('waiting');
    // A proposal made under another for-each's item does not.
    expect(runView(row({ nodes: {}, each: { each: { total: 1, skipped: 0, items: [{ index: 0, value: {}, status: 'running', nodes: { task: 'running' } }] } } },
      { active: { each: 'items' } }), compiled, [approval('other[0].task')]).nodes.task!.state).toBe('running');
  });
});
