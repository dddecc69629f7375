import type { NodeType, ParamsOf } from '@switchyard/schema';
import type { Ride, RunPorts } from '../ports';
import type { Scope } from '../expression';

/** What a node implementation receives: params already rendered against the run's scope. */
export interface Invocation<P> {
  runId: string;
  userId: string;
  nodeId: string;
  nodeType: NodeType;
  params: P;
  scope: Scope;
  attempt: number;
  effectKey: string;
  signal: AbortSignal;
  /** A behavior's activation number (1, 2, ...): the n-th pass of a node has its own effect and timer keys. Absent in workflows. */
  activation?: number;
  /** A for-each that runs a branch per item: only pick the items (the run's machine runs the branch). */
  branch?: boolean;
  /** The node's effect may go with the step that started it (`RIDES_WITH_STEP`; the node did not wait for its commit). */
  ride?: Ride;
}

/** The key of a node's durable timer: per activation in behaviors. */
export const timerKeyOf = (nodeId: string, activation: number | undefined, suffix = '') =>
  `${nodeId}${suffix}${activation ? `#${activation}` : ''}`;

/** `handles` are the outputs that fire; none means the path stops here (with `reason`). */
export interface NodeOutcome {
  output: unknown;
  handles: string[];
  reason?: string;
}

export interface TriggerImplementation<T extends NodeType> {
  kind: 'trigger';
  /** Whether an incoming event payload starts this trigger. */
  matches(params: ParamsOf<T>, payload: Record<string, unknown>): boolean;
}

export interface InvokeImplementation<T extends NodeType> {
  kind: 'invoke';
  run(inv: Invocation<ParamsOf<T>>, ports: RunPorts): Promise<NodeOutcome>;
  /**
   * A pure node's outcome from its rendered params and scope alone, at once (no port, no clock):
   * from machine format 4 the step that reaches the node decides it (`DECIDED_IN_STEP`).
   */
  decide?(params: ParamsOf<T>, scope: Scope): NodeOutcome;
}

/** Nodes that wait for an outside event (a person's approval) instead of invoking anything. */
export interface EventImplementation {
  kind: 'event';
}

export type NodeImplementation<T extends NodeType> = TriggerImplementation<T> | InvokeImplementation<T> | EventImplementation;

export const pass = (output: unknown, handle = 'out'): NodeOutcome => ({ output, handles: [handle] });
