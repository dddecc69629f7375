import type { EntityManager } from '@mikro-orm/postgresql';
import jsonPatch, { type Operation } from 'fast-json-patch';
import { DECIDED_IN_STEP, nodeStatesOf, nodeStatesOfSnapshot, type CompiledMachine, type RunContext } from '@switchyard/actors';
import { SwitchyardError } from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import type { Host } from '../host/host';
import type { RunRow } from '../host/run-store';
import { journalValue } from './journal';

const FINAL = new Set(['completed', 'failed', 'skipped', 'cancelled', 'parked']);

/** Every string equal to `from` becomes `to` (the run id sits in the context and in each invoked node's input). */
function rewriteId(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => rewriteId(v, from, to));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = rewriteId(v, from, to);
  return out;
}

const badStep = (message: string) => new SwitchyardError('BAD_INPUT', message, { issues: [{ path: ['fromNodeId'], message }] });

/**
 * The stored state of a run at journal row `seq`: the newest checkpoint at or before it, brought
 * forward by the deltas after it (each applied only to the state it was taken from).
 */
async function stateAt(em: EntityManager, runId: string, seq: number): Promise<unknown> {
  const cp = await sqlOne<{ seq: number; snapshot: unknown }>(em,
    `select seq, snapshot from run_journal where run_id = ? and seq <= ? and snapshot is not null
        and coalesce(snapshot->>'status', '') <> 'stopped' order by seq desc limit 1`, [runId, seq]);
  if (!cp) return null;
  let at = Number(cp.seq);
  let doc = cp.snapshot;
  const deltas = await sql<{ seq: number; base: number; delta: Operation[] }>(em,
    'select seq, base, delta from run_journal where run_id = ? and seq > ? and seq <= ? and delta is not null order by seq', [runId, at, seq]);
  for (const d of deltas) {
    if (Number(d.base) !== at) continue;
    doc = jsonPatch.applyPatch(doc, d.delta, false, true).newDocument;
    at = Number(d.seq);
  }
  return at === seq ? doc : null;
}

/**
 * Replay: re-runs a finished workflow run from a chosen step. The new run starts in the state the
 * old one was in when that step started (read back from the journal), so every step that had
 * finished by then keeps its recorded result and is not run again: no model call, no effect. The
 * chosen step and everything after it run anew on the same pinned machine (flow version), with new
 * effect keys (they belong to the new run). Nothing is stored when a check fails.
 */
export async function replayRun(
  deps: { em: EntityManager; host: Pick<Host, 'startReplay'>; compiledFor: (flowId: string, version: number) => Promise<CompiledMachine> },
  userId: string,
  input: { runId: string; fromNodeId: string },
) {
  const { em } = deps;
  const run = await sqlOne<Pick<RunRow, 'id' | 'flow_id' | 'flow_version' | 'status' | 'trigger_node_id' | 'trigger'> & { kind: string; deleted: boolean }>(em,
    `select r.id, r.flow_id, r.flow_version, r.status, r.trigger_node_id, r.trigger, f.kind, f.deleted_at is not null as deleted
       from runs r join flows f on f.id = r.flow_id where r.id = ? and r.user_id = ?`, [input.runId, userId]);
  if (!run) throw new SwitchyardError('NOT_FOUND', 'Run not found');
  if (run.deleted) throw new SwitchyardError('INVALID_STATE', 'The flow of this run was deleted: its runs are history now');
  if (run.kind !== 'workflow') throw new SwitchyardError('INVALID_STATE', `Only workflow runs can be replayed (this is a ${run.kind})`);
  if (!FINAL.has(run.status) || run.status === 'parked') {
    throw new SwitchyardError('INVALID_STATE', run.status === 'parked' ? 'A parked run cannot be replayed: its machine format is not executable here' : 'The run has not finished yet: replay it once it ended');
  }
  if (!run.trigger_node_id) throw new SwitchyardError('INVALID_STATE', 'The run has no trigger to replay');
  const compiled = await deps.compiledFor(run.flow_id, run.flow_version);
  const node = compiled.nodes[input.fromNodeId];
  if (!node) throw badStep(`"${input.fromNodeId}" is not a step of this run's flow version`);
  const trigger = { type: run.trigger.type, eventId: null, payload: run.trigger.payload };
  const link = { userId, flowId: run.flow_id, version: run.flow_version, triggerNodeId: run.trigger_node_id, trigger, replayOf: run.id, fromNodeId: input.fromNodeId };

  if (input.fromNodeId === run.trigger_node_id) {
    // From the trigger: everything runs again, from the same trigger payload.
    const { runId } = await deps.host.startReplay({ ...link, seed: null });
    return { runId, replayOf: run.id, fromNodeId: input.fromNodeId, reused: [] as string[] };
  }

  // The first stored step in which the chosen step was running: its state is the replay's start.
  const value = await journalValue(em, 'j');
  const rows = await sql<{ seq: number; changed: Record<string, { state: string }> | null; value: unknown }>(em,
    `select seq, data->'changed' as changed, ${value} as value from run_journal j where run_id = ? and kind = 'state' order by seq`, [run.id]);
  const started = rows.find((r) => (r.changed ? r.changed[input.fromNodeId]?.state === 'running' : nodeStatesOf(r.value)[input.fromNodeId] === 'running'));
  if (!started) {
    // A filter or an if of a format-4 machine is decided by the step that reaches it: it has no state of its own to start from.
    if (DECIDED_IN_STEP.has(node.type) && rows.some((r) => ['succeeded', 'failed'].includes(r.changed?.[input.fromNodeId]?.state ?? ''))) {
      throw badStep(`"${input.fromNodeId}" was decided in the step that reached it (a filter or an if has no step of its own): replay from the step before it`);
    }
    throw badStep(`The step "${input.fromNodeId}" did not run in this run`);
  }
  const state = (await stateAt(em, run.id, Number(started.seq))) as { status?: string; value: unknown; context: RunContext } | null;
  if (!state || state.status !== 'active' || !state.context) {
    throw new SwitchyardError('INVALID_STATE', `The journal does not hold the run's state when "${input.fromNodeId}" started`);
  }
  const { runId } = await deps.host.startReplay({ ...link, seed: (newId) => {
    const snapshot = rewriteId(state, run.id, newId) as typeof state;
    const nodes = nodeStatesOfSnapshot(snapshot);
    const reused = Object.keys(snapshot.context.nodes).filter((id) => ['succeeded', 'failed', 'skipped'].includes(nodes[id] ?? ''));
    const waits = Object.entries(nodes)
      .filter(([id, st]) => st === 'running' && compiled.nodes[id]?.type === 'flow.waitForEvent')
      .map(([id]) => {
        const r = (snapshot.context.nodes[id]?.request ?? {}) as { event?: string; field?: string; key?: string };
        return { nodeId: id, eventType: String(r.event ?? ''), field: String(r.field ?? ''), key: String(r.key ?? '') };
      });
    return {
      snapshot, value: snapshot.value, waits,
      // The step as the timeline reads it: every node the seed holds, with its recorded result.
      data: {
        changed: Object.fromEntries(Object.entries(nodes).map(([id, st]) => [id, { state: st, result: snapshot.context.nodes[id] ?? null }])),
        replay: { of: run.id, fromNodeId: input.fromNodeId, fromSeq: Number(started.seq), reused },
      },
    };
  } });
  return { runId, replayOf: run.id, fromNodeId: input.fromNodeId, reused: Object.keys(state.context.nodes).filter((id) => id !== input.fromNodeId && ['succeeded', 'failed', 'skipped'].includes(state.context.nodes[id]?.status ?? '')) };
}
