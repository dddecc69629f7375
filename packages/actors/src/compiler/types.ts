import type { DataType, Diagnostic, FlowDocument, FlowKind, NodeCategory } from '@switchyard/schema';

/**
 * The format of compiled machines this compiler emits.
 * - `/5`: the states of `/4`, and the run's machine does its invoked nodes' work itself: a node's
 *   state starts its work on entry and stops it on exit, and the work's end comes back as the
 *   event an invoked actor's end is (`xstate.done.actor.<id>`), handled by the same transitions.
 *   No actor per node: a step costs a third of the CPU of one, and a snapshot has no child for
 *   it (`createRunMachine`). The config is `/4`'s; the binding differs, so runs pinned to `/4`
 *   (whose snapshots hold their nodes' actors) keep theirs.
 * - `/4`: as `/3`, and a pure node (`DECIDED_IN_STEP`: a filter, an if) is decided by the step
 *   that reaches it, in the transition (its state's entry records the outcome, its eventless
 *   transitions leave at once), instead of by an invoked actor whose end is a step of its own.
 *   Such a node never rests in its state: a chain of filters costs one step, not one per node.
 * - `/3`: as `/2`, and a chain's node that is one state (no retry, no for-each steps) is that
 *   state itself (`{ head: 'b' }`, not `{ head: { b: 'running' } }`); a workflow with one trigger
 *   has no region for it (the run starts with the trigger recorded in its context).
 * - `/2`: chains of nodes are sequential states of one region (cost per event follows the active nodes).
 * - `/1`: one parallel region per node.
 * The interpreter executes all five, so runs pinned to an older format keep going.
 */
export const MACHINE_FORMAT = 'switchyard.machine/5' as const;
export const INVOKED_MACHINE_FORMAT = 'switchyard.machine/4' as const;
export const FLAT_MACHINE_FORMAT = 'switchyard.machine/3' as const;
export const CHAIN_MACHINE_FORMAT = 'switchyard.machine/2' as const;
export const LEGACY_MACHINE_FORMAT = 'switchyard.machine/1' as const;
export const EXECUTABLE_MACHINE_FORMATS: readonly string[] = [MACHINE_FORMAT, INVOKED_MACHINE_FORMAT, FLAT_MACHINE_FORMAT, CHAIN_MACHINE_FORMAT, LEGACY_MACHINE_FORMAT];
export type MachineFormat = typeof MACHINE_FORMAT | typeof INVOKED_MACHINE_FORMAT | typeof FLAT_MACHINE_FORMAT | typeof CHAIN_MACHINE_FORMAT | typeof LEGACY_MACHINE_FORMAT;

/**
 * Node types decided in the step that reaches them (format 4): pure functions of their params and
 * the outputs upstream, with no port, no clock and no retry policy. Their implementations have
 * `decide`. A condition that reads the clock or the CRM (business hours, contact exists) stays a
 * step of its own, so its outcome is journaled before anything after it runs.
 */
export const DECIDED_IN_STEP: ReadonlySet<string> = new Set(['condition.expression', 'condition.if']);

/**
 * The states a node's own region (or a chain node's nested state) can be in. A chain's node whose
 * id is one of these keeps its nested state in format 3, so a region's value that is none of them
 * names the chain's node under way.
 */
export const NODE_REGION_STATES: ReadonlySet<string> = new Set(['pending', 'running', 'retrying', 'succeeded', 'failed', 'skipped', 'items', 'collecting']);

export interface IncomingEdge {
  source: string;
  handle: string;
}

export interface CompiledNode {
  id: string;
  type: string;
  category: NodeCategory;
  label: string;
  /** Params after defaults; `{{ }}` templates are rendered when the node runs. */
  params: Record<string, unknown>;
  incoming: IncomingEdge[];
  outputType: DataType;
}

export interface CompiledTrigger {
  nodeId: string;
  type: string;
  listensTo: string | null;
  params: Record<string, unknown>;
}

/** JSON-only machine config: implementations are referenced by name and bound later. */
export type MachineConfigJson = Record<string, unknown>;

export interface CompiledMachine {
  format: MachineFormat;
  docId: string;
  kind: FlowKind;
  name: string;
  version: number;
  nodes: Record<string, CompiledNode>;
  triggers: CompiledTrigger[];
  config: MachineConfigJson;
  /**
   * For-each nodes that run a branch per item (edges leave their `each` output): the branch's
   * nodes (not in `nodes`) and its machine config. Absent when no for-each has a branch.
   */
  bodies?: Record<string, CompiledBody>;
  /** A behavior that runs for every active user, each in their own scope (absent: its owner only). */
  audience?: 'everyone';
}

/** A for-each's branch, run once per item as a child machine of the run. */
export interface CompiledBody {
  nodes: Record<string, CompiledNode>;
  config: MachineConfigJson;
}

export interface CompileResult {
  /** Null when any diagnostic is an error. */
  machine: CompiledMachine | null;
  diagnostics: Diagnostic[];
  /** The parsed document (defaults applied), when it parsed at all. */
  document: FlowDocument | null;
}
