import type { CompiledMachine, NodeResult, RunContext } from '@switchyard/actors';
import { branchNodesOf, nodeStatesOf } from '@switchyard/actors';
import type { RunRow } from './run-store';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** A pending proposal an agent made in one of the run's steps. */
export interface AgentApprovalRow {
  id: string;
  agent_id: string;
  agent_name: string;
  node_id: string | null;
  tool: string;
  args: { args: unknown };
  reason: string;
  created_at: Date | string;
}

/** `each[2].reply` -> `each.reply`: the for-each and the branch node an item's acting id names (null for a plain node id). */
const itemNodeOf = (actingId: string) => {
  const m = /^(.+)\[\d+\]\.([^.[\]]+)$/.exec(actingId);
  return m ? `${m[1]}.${m[2]}` : null;
};

/**
 * Per-node state for the canvas overlay and the run page, from a persisted snapshot. A step whose
 * agent proposals wait for a person is 'waiting', and so is the run.
 */
export function runView(row: RunRow & { doc_id?: string }, compiled: CompiledMachine | null, agentApprovalRows: AgentApprovalRow[] = []) {
  const agentApprovals = agentApprovalRows.map((a) => ({
    id: a.id, agentId: a.agent_id, agentName: a.agent_name, nodeId: a.node_id, tool: a.tool, args: a.args.args, reason: a.reason, createdAt: iso(a.created_at)!,
  }));
  const waitingOnAgents = new Set(agentApprovals.map((a) => a.nodeId));
  const snap = (row.snapshot ?? null) as { value?: unknown; context?: RunContext } | null;
  const results: Record<string, NodeResult> = snap?.context?.nodes ?? {};
  const active = nodeStatesOf(snap?.value);
  // A for-each's branch nodes are not in `nodes`: they show as the latest item left them (pending before).
  const branch = snap?.context ? branchNodesOf(snap.context) : {};
  const bodyIds = Object.values(compiled?.bodies ?? {}).flatMap((b) => Object.keys(b.nodes));
  const ids = compiled ? [...Object.keys(compiled.nodes), ...bodyIds] : Object.keys({ ...active, ...results, ...branch });
  const nodes = Object.fromEntries(
    ids.map((id) => {
      const region = active[id];
      const r = results[id];
      const type = compiled?.nodes[id]?.type;
      const waits = region === 'running' && (type === 'flow.approval' || type === 'flow.waitForEvent' || waitingOnAgents.has(id));
      const b = compiled?.nodes[id] ? undefined : branch[id];
      const inBranch = b !== undefined || (compiled !== null && !compiled.nodes[id]);
      // A branch node acts under its item's id (`each[2].reply`): its agent's proposals wait under that id.
      const itemWaits = b !== undefined && b.state === 'running' && [...waitingOnAgents].some((n) => n !== null && itemNodeOf(n) === `${b.forEach}.${id}`);
      const state = inBranch ? (itemWaits ? 'waiting' : (b?.state ?? 'pending'))
        : region === 'running' || region === 'retrying' ? (waits ? 'waiting' : region) : (r?.status ?? region ?? 'pending');
      return [id, {
        state, output: (inBranch ? b?.output : r?.output) ?? null, error: (inBranch ? b?.error : r?.error) ?? null, reason: r?.reason ?? null,
        attempts: r?.attempts ?? 0, request: r?.request ?? null,
        // A branch node's fired outputs are not kept per item: none given, so it does not read as "stopped here".
        handles: inBranch ? undefined : (r?.handles ?? []),
        ...(b ? { item: { forEach: b.forEach, index: b.item } } : {}),
      }];
    }),
  );
  return {
    id: row.id,
    flowId: row.flow_id,
    docId: row.doc_id ?? null,
    flowVersion: row.flow_version,
    status: row.status === 'running' && agentApprovals.length ? 'waiting' : row.status,
    reason: row.reason,
    error: row.error,
    triggerNodeId: row.trigger_node_id,
    trigger: row.trigger,
    startedAt: iso(row.started_at)!,
    updatedAt: iso(row.updated_at)!,
    finishedAt: iso(row.finished_at),
    nodes,
    waitingApprovals: Object.entries(nodes)
      .filter(([nodeId, n]) => n.state === 'waiting' && n.request && compiled?.nodes[nodeId]?.type !== 'flow.waitForEvent')
      .map(([nodeId, n]) => ({ nodeId, request: n.request })),
    agentApprovals,
    /** Behaviors: idle between activations, the activation shown (current or last) and how the last one ended. */
    behavior: compiled?.kind === 'behavior'
      ? { idle: snap?.value === 'idle', activation: snap?.context?.activation ?? 0, lastActivation: snap?.context?.lastActivation ?? null }
      : null,
  };
}
export type RunView = ReturnType<typeof runView>;
