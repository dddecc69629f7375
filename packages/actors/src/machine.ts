import { assign, enqueueActions, fromPromise, setup, type AnyActorRef, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import { SwitchyardError, defaultCatalog, isNodeType, isSwitchyardError, type ErrorCode, type NodeType } from '@switchyard/schema';
import { CHAIN_MACHINE_FORMAT, DECIDED_IN_STEP, FLAT_MACHINE_FORMAT, INVOKED_MACHINE_FORMAT, MACHINE_FORMAT, NODE_REGION_STATES, type CompiledMachine, type CompiledNode, type IncomingEdge, type MachineConfigJson } from './compiler/types';
import { renderParams, type Scope } from './expression';
import { nodeImplementations } from './nodes/registry';
import { pass, timerKeyOf, type Invocation, type NodeOutcome } from './nodes/types';
import type { Ride, RunPorts } from './ports';
import { stableStringify } from './stable-json';

export type NodeStatus = 'succeeded' | 'failed' | 'skipped' | 'waiting';

export interface NodeResult {
  status: NodeStatus;
  handles: string[];
  output?: unknown;
  error?: { code: string; message: string };
  reason?: string;
  attempts: number;
  /** What a waiting approval asks, rendered. */
  request?: unknown;
}

export interface RunInput {
  runId: string;
  userId: string;
  triggerNodeId: string;
  payload: unknown;
}

export interface RunContext {
  runId: string;
  userId: string;
  triggerNodeId: string;
  trigger: unknown;
  nodes: Record<string, NodeResult>;
  /** Why the run did nothing (first condition that stopped a path). */
  skipReason: string | null;
  failure: { nodeId: string; code: string; message: string } | null;
  /** Behaviors: the activation under way (1, 2, ...; 0 before the first) and how the last one ended. */
  activation?: number;
  lastActivation?: { n: number; status: 'completed' | 'skipped' | 'failed'; reason: string | null; error: { nodeId: string; code: string; message: string } | null } | null;
  /** Behaviors: triggers that fired while an activation was under way, oldest first (each runs next, in turn). */
  queuedActivations?: { activationId: string; triggerNodeId: string; payload: unknown }[];
  /** Behaviors: triggers not queued because the queue was full (MAX_QUEUED_ACTIVATIONS). */
  droppedActivations?: number;
  /** For-each nodes running a branch per item: their items and how far each got. */
  each?: Record<string, ForEachState>;
  /** The machine of one item of a for-each's branch: which for-each, the item and its place in the list. */
  item?: { forEach: string; index: number; value: unknown };
}

/** One item of a for-each that runs a branch per item. */
export interface ForEachItem {
  /** The item's place in the list (`where` keeps places, so keys stay put). */
  index: number;
  value: unknown;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
  /** The state of each branch node, as the item's machine last reported it. */
  nodes: Record<string, string>;
  /** The item's machine only waits (a delay, a retry's backoff): nothing of it runs, the run may be parked. */
  waiting?: boolean;
  /** The outputs of the branch nodes that ran so far. */
  outputs?: Record<string, unknown>;
  error?: { nodeId: string | null; code: string; message: string };
}

export interface ForEachState {
  total: number;
  /** Items `where` left out. */
  skipped: number;
  items: ForEachItem[];
}

/** What an item's machine ends with (its final state's status, its context's results). */
interface ItemOutput {
  status: 'completed' | 'skipped' | 'failed';
  nodes: Record<string, NodeResult>;
  failure: RunContext['failure'];
}

/** The id of the child machine that runs a for-each's branch for the item at `index`. */
export const itemActorId = (forEachId: string, index: number) => `${forEachId}.item.${index}`;
const bodyActorSrc = (forEachId: string) => `sys.forEach.body.${forEachId}`;

/** A behavior queues at most this many activations behind the one under way; more are counted as dropped. */
export const MAX_QUEUED_ACTIVATIONS = 50;

export type RunEvent =
  | { type: 'approval.decide'; nodeId: string; decision: 'approve' | 'reject'; by?: string; comment?: string }
  /** An event matched a `flow.waitForEvent` node of this run (sent by the runtime as a command). */
  | { type: 'event.deliver'; nodeId: string; eventId: string; eventType: string; payload: unknown }
  /** A behavior's trigger fired (sent by the runtime as a command, `activationId` makes it idempotent). */
  | { type: 'behavior.activate'; activationId: string; triggerNodeId: string; payload: unknown }
  | { type: 'run.cancel' };

/**
 * The product's one run status. `parked`: the run's pinned machine is of a format this runtime
 * cannot execute; it is kept, never run (see the runtime's machine migrations).
 */
export type RunStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled' | 'parked';

const RESOLVED = new Set<NodeStatus>(['succeeded', 'failed', 'skipped']);

export const scopeOf = (context: RunContext): Scope => {
  const nodes: Record<string, unknown> = {};
  for (const [id, r] of Object.entries(context.nodes)) if (r.output !== undefined) nodes[id] = r.output;
  return { trigger: context.trigger, nodes, run: context.activation ? { id: context.runId, activation: context.activation } : { id: context.runId } };
};

const errorOf = (e: unknown): { code: string; message: string } =>
  isSwitchyardError(e) ? { code: e.code, message: e.message }
  : e instanceof Error ? { code: e.name === 'ExpressionError' ? 'BAD_INPUT' : 'INTERNAL', message: e.message }
  : { code: 'INTERNAL', message: String(e) };

const edgeActive = (ctx: RunContext, e: IncomingEdge) => {
  const r = ctx.nodes[e.source];
  return !!r && (r.status === 'succeeded' || r.status === 'failed') && r.handles.includes(e.handle);
};
const allResolved = (ctx: RunContext, incoming: IncomingEdge[]) => incoming.every((e) => RESOLVED.has(ctx.nodes[e.source]?.status as NodeStatus));

interface InvokeInput {
  nodeId: string;
  expressionParams: string[];
  backoffMs?: number;
  factor?: number;
  /** A for-each with a branch: its node only picks the items. */
  branch?: boolean;
}
/**
 * What an invoked node receives; it is persisted with the snapshot, so a restored run re-invokes
 * with it. It holds no copy of the run's outputs (that made every step's snapshot grow with the
 * run): the node reads its scope from the run's context when it starts. Snapshots written before
 * carry `scope`, which is then used as it was.
 */
interface BoundInput extends InvokeInput {
  runId: string;
  userId: string;
  attempt: number;
  scope?: Scope;
  activation?: number;
  /** A node of a for-each's branch: the for-each and the item's place (its effect and timer keys are the item's). */
  item?: { forEach: string; index: number };
}

/** What an invoked node receives, from its static input and the machine's context. */
const boundInput = (staticInput: InvokeInput, context: RunContext): BoundInput => ({
  ...staticInput, runId: context.runId, userId: context.userId,
  attempt: context.nodes[staticInput.nodeId]?.attempts ?? 0,
  ...(context.activation ? { activation: context.activation } : {}),
  ...(context.item ? { item: { forEach: context.item.forEach, index: context.item.index } } : {}),
});

/**
 * Replaces JSON invoke inputs by functions of context: config stays JSON until bound here. With
 * `executed` (format 5), an invoke of one of those sources becomes what the run's machine does
 * itself: its state's entry starts the work (`runWork`), its exit stops it (`stopWork`), and the
 * work's end comes back as the event the invoked actor's end would be (`xstate.done.actor.<id>`,
 * `xstate.error.actor.<id>`), handled by the same transitions.
 */
function hydrate(config: unknown, executed?: ReadonlySet<string>): unknown {
  if (Array.isArray(config)) return config.map((c) => hydrate(c, executed));
  if (!config || typeof config !== 'object') return config;
  const out: Record<string, unknown> = {};
  const state = config as Record<string, unknown>;
  const inv = state.invoke as Record<string, unknown> | undefined;
  if (executed && inv && typeof inv === 'object' && !Array.isArray(inv) && executed.has(inv.src as string)) {
    const { invoke: _invoke, entry, exit, on, ...rest } = state;
    const id = inv.id as string;
    const list = (a: unknown) => (a === undefined ? [] : Array.isArray(a) ? a : [a]);
    const work = { id, src: inv.src as string, input: inv.input as InvokeInput };
    Object.assign(out, hydrate(rest, executed), {
      entry: [...(hydrate(list(entry), executed) as unknown[]), { type: 'runWork', params: work }],
      exit: [...(hydrate(list(exit), executed) as unknown[]), { type: 'stopWork', params: { id } }],
      on: {
        ...(hydrate(on ?? {}, executed) as object),
        ...(inv.onDone ? { [`xstate.done.actor.${id}`]: hydrate(inv.onDone, executed) } : {}),
        ...(inv.onError ? { [`xstate.error.actor.${id}`]: hydrate(inv.onError, executed) } : {}),
      },
    });
    return out;
  }
  for (const [k, v] of Object.entries(config)) {
    if (k === 'invoke' && v && typeof v === 'object' && !Array.isArray(v)) {
      const inv = v as Record<string, unknown>;
      const staticInput = inv.input as InvokeInput;
      out[k] = {
        ...(hydrate(inv, executed) as object),
        input: ({ context }: { context: RunContext }): BoundInput => boundInput(staticInput, context),
      };
    } else out[k] = hydrate(v, executed);
  }
  return out;
}

/**
 * Node types whose implementation's one effect is a single ledger statement through the CRM or
 * memory port (`Ride`): a task, a notification, a memory entry. Nothing else they do is seen
 * outside the run (they read, and `createTask` reads the clock: its output is journaled by the
 * next step, as every node's is).
 */
/** The implementations of the nodes decided in the step that reaches them (format 4), by type. */
const DECISIONS = new Map<string, (params: unknown, scope: Scope) => NodeOutcome>();
for (const type of DECIDED_IN_STEP) {
  const impl = isNodeType(type) ? nodeImplementations[type as NodeType] : undefined;
  if (impl?.kind === 'invoke' && impl.decide) DECISIONS.set(type, impl.decide as (params: unknown, scope: Scope) => NodeOutcome);
}

export const RIDES_WITH_STEP: ReadonlySet<string> = new Set(['action.createTask', 'action.sendNotification', 'action.setMemory']);

/**
 * What stops a node's work run by its machine (format 5): its signal is made when first read, as
 * most works (a condition) never read it, and is aborted at once if the work was stopped before.
 */
class LazyStop {
  #controller: AbortController | undefined;
  stopped = false;
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.stopped) this.#controller.abort();
    }
    return this.#controller.signal;
  }
  abort() {
    if (this.stopped) return;
    this.stopped = true;
    this.#controller?.abort();
  }
}

/**
 * Binds a compiled machine to real (or fake) ports: the Temporal-style split between the
 * deterministic workflow (the JSON config) and its activities (node implementations).
 */
export function createRunMachine(compiled: CompiledMachine, ports: RunPorts, options: { startShortcut?: boolean } = {}) {
  // The run's nodes and those of its for-each branches (ids are unique across the document).
  const allNodes: Record<string, CompiledNode> = { ...compiled.nodes };
  const bodyOf = new Map<string, string>();
  for (const [eachId, body] of Object.entries(compiled.bodies ?? {})) {
    for (const [id, n] of Object.entries(body.nodes)) {
      allNodes[id] = n;
      bodyOf.set(id, eachId);
    }
  }
  // A node sees the outputs of the nodes upstream of it (all resolved before it starts, and never
  // changed after), so its scope is the same when it starts and when a restored run restarts it.
  const upstream = new Map<string, Set<string>>();
  const upstreamOf = (id: string): Set<string> => {
    const known = upstream.get(id);
    if (known) return known;
    const found = new Set<string>();
    const stack = (allNodes[id]?.incoming ?? []).map((e) => e.source);
    while (stack.length) {
      const next = stack.pop()!;
      if (found.has(next)) continue;
      found.add(next);
      for (const e of allNodes[next]?.incoming ?? []) stack.push(e.source);
    }
    upstream.set(id, found);
    return found;
  };
  const contextOf = (actor: AnyActorRef | undefined) => (actor?.getSnapshot() as { context?: RunContext } | undefined)?.context;
  /** An invoked node's scope, in the context of `machine`, the run's (or an item's) actor. */
  const scopeFor = (input: BoundInput, machine: AnyActorRef | undefined, context = contextOf(machine)): Scope => {
    if (input.scope) return input.scope;
    return scopeIn(input.nodeId, input.runId, context, context?.item ? machine?._parent : undefined);
  };
  /**
   * A node's scope in its machine's `context`. A node of a for-each's branch: the branch's outputs
   * are its item machine's, the rest (the for-each's upstream, the trigger) the run's (`runActor`'s),
   * which do not change while the for-each runs.
   */
  const scopeIn = (nodeId: string, runId: string, context: RunContext | undefined, runActor: AnyActorRef | undefined): Scope => {
    const item = context?.item;
    const run = item ? contextOf(runActor) : context;
    if (!context || !run) return { trigger: undefined, nodes: {}, run: { id: runId } };
    const nodes: Record<string, unknown> = {};
    for (const id of upstreamOf(nodeId)) {
      if (item && id === item.forEach) continue;
      const out = (bodyOf.has(id) ? context : run).nodes[id]?.output;
      if (out !== undefined) nodes[id] = out;
    }
    return {
      trigger: run.trigger, nodes, run: run.activation ? { id: run.runId, activation: run.activation } : { id: run.runId },
      ...(item ? { item: item.value, index: item.index } : {}),
    };
  };
  /** A node's params rendered against its scope (expression params stay as written), and the same without its retry settings (what its effect key holds). */
  const renderNode = (node: CompiledNode, expressionParams: readonly string[], scope: Scope) => {
    const rendered: Record<string, unknown> = {};
    const effectInput: Record<string, unknown> = {};
    for (const k of Object.keys(node.params)) {
      const v = node.params[k];
      const r = expressionParams.includes(k) ? v : renderParams(v, scope);
      rendered[k] = r;
      if (k !== 'retry' && k !== 'continueOnError') effectInput[k] = r;
    }
    return { rendered, effectInput };
  };
  /** The id a node acts under: a branch node's is its item's (`each[2].task`), like a one-action for-each's `each[2]`. */
  const actingId = (input: BoundInput) => (input.item ? `${input.item.forEach}[${input.item.index}].${input.nodeId}` : input.nodeId);
  const spec = (type: string) => defaultCatalog.get(type);
  /**
   * What each invoked source does, given its input, the signal that stops it, the actor of the
   * machine it runs for (the run's, or an item's) and that machine's context as the work starts
   * (read from the actor when not given): bound as a promise actor (formats 1-4) or run by that
   * machine itself (format 5, `runWork`, from an entry action, where the actor's snapshot is still
   * the one before the step).
   */
  const works: Record<string, (input: BoundInput, stop: { readonly signal: AbortSignal }, machine: AnyActorRef, context?: RunContext) => Promise<NodeOutcome>> = {};
  const actors: Record<string, unknown> = {};
  for (const node of Object.values(allNodes)) {
    if (!isNodeType(node.type) || actors[node.type]) continue;
    const impl = nodeImplementations[node.type as NodeType];
    if (impl.kind !== 'invoke') continue;
    const run = impl.run as (inv: Invocation<unknown>, p: RunPorts) => Promise<NodeOutcome>;
    // Persist before effect: a node that acts outside the run (an effect, a timer row, an agent
    // request) starts once the transition that started it is durable. A pure or read-only node
    // (a condition, even one that reads the clock) need not wait: nothing outside sees it, and the
    // effect after it waits for the commit that holds its output, so a replay that re-decides it
    // has acted on nothing.
    const waitsForCommit = spec(node.type)?.effect === true || node.type === 'flow.delay';
    // A node whose only effect is one ledger statement need not wait: its effect goes with the
    // step that started it (one commit for both), one round trip less per effect.
    const rides = RIDES_WITH_STEP.has(node.type);
    works[node.type] = async (input, stop, machine, context) => {
      const ride: Ride | undefined = waitsForCommit && rides ? ports.durability?.ride?.(input.runId, stop.signal) : undefined;
      const scope = scopeFor(input, machine, context);
      if (waitsForCommit && !ride) await ports.durability?.committed(input.runId, stop.signal);
      else if (!waitsForCommit) {
        const paced = ports.durability?.pace?.();
        if (paced) await paced;
      }
      const { nodeId, expressionParams } = input;
      const node = allNodes[nodeId]!;
      const { rendered, effectInput } = renderNode(node, expressionParams, scope);
      const acting = actingId(input);
      let effectKey: string | undefined;
      return run(
        {
          runId: input.runId, userId: input.userId, nodeId: acting, nodeType: node.type as NodeType,
          params: rendered, scope, attempt: input.attempt,
          // Made when first read (`LazyStop`): a condition never reads it.
          get signal() {
            return stop.signal;
          },
          ...(input.activation ? { activation: input.activation } : {}),
          ...(input.branch ? { branch: true } : {}),
          ...(ride ? { ride } : {}),
          // A behavior's n-th activation acts anew: its effects have keys of their own; so does each
          // item of a for-each's branch (its acting id holds the for-each and the item's place).
          // Made when first read: a condition, most nodes of a run, has no effect to key.
          get effectKey() {
            return (effectKey ??= stableStringify(input.activation ? [input.runId, input.activation, acting, effectInput] : [input.runId, acting, effectInput]));
          },
        },
        ports,
      );
    };
  }
  works['sys.timeout'] = async (input, { signal }) => {
    await ports.durability?.committed(input.runId, signal);
    await ports.timers.sleep({ runId: input.runId, key: timerKeyOf(actingId(input), input.activation, ':timeout') }, input.backoffMs ?? 0, signal);
    return { output: null, handles: [] };
  };
  works['sys.backoff'] = async (input, { signal }) => {
    await ports.durability?.committed(input.runId, signal);
    const attempts = Math.max(1, input.attempt);
    const ms = (input.backoffMs ?? 0) * (input.factor ?? 1) ** (attempts - 1);
    await ports.timers.sleep({ runId: input.runId, key: timerKeyOf(actingId(input), input.activation, `:retry:${attempts}`) }, ms, signal);
    return { output: null, handles: [] };
  };
  for (const [src, work] of Object.entries(works)) {
    actors[src] = fromPromise<NodeOutcome, BoundInput>(({ input, signal, self }) => work(input, { signal }, self._parent!));
  }
  // A for-each's branch is done: its node's outcome from its items (a failed item fails it).
  actors['sys.forEach.collect'] = fromPromise<NodeOutcome, BoundInput>(async ({ input, self }) => {
    const state = contextOf(self._parent)?.each?.[input.nodeId];
    if (!state) throw new SwitchyardError('INTERNAL', `The items of "${input.nodeId}" are not in the run's state`);
    const failed = state.items.find((i) => i.status === 'failed');
    if (failed) {
      const e = failed.error ?? { nodeId: null, code: 'INTERNAL', message: 'The item failed' };
      throw new SwitchyardError(e.code as ErrorCode, `Item ${failed.index + 1}${e.nodeId ? ` (${e.nodeId})` : ''}: ${e.message}`);
    }
    const done = state.items.filter((i) => i.status !== 'pending' && i.status !== 'running');
    return pass({
      count: done.length, total: state.total, skipped: state.skipped,
      results: done.map((i) => ({ index: i.index, status: i.status, nodes: i.outputs ?? {} })),
    });
  });

  /**
   * The work under way of each machine that runs its nodes itself (format 5), by invoke id. Its end
   * is sent to the machine as the event an invoked actor's end is; leaving the state stops it
   * (`stopWork`), as does stopping the machine's actor (a run parked, halted or stopped here).
   */
  const inFlight = new WeakMap<AnyActorRef, Map<string, LazyStop>>();
  const runWork = (machine: AnyActorRef, id: string, src: string, context: RunContext, input: BoundInput) => {
    const work = works[src]!;
    let mine = inFlight.get(machine);
    if (!mine) inFlight.set(machine, (mine = new Map()));
    mine.get(id)?.abort();
    const stop = new LazyStop();
    mine.set(id, stop);
    const settle = (event: { type: string }) => {
      if (stop.stopped || mine.get(id) !== stop) return;
      mine.delete(id);
      machine.send(event);
    };
    let done: Promise<NodeOutcome>;
    try {
      done = work(input, stop, machine, context);
    } catch (e) {
      done = Promise.reject(e);
    }
    done.then(
      (output) => settle({ type: `xstate.done.actor.${id}`, output, actorId: id } as never),
      (error: unknown) => settle({ type: `xstate.error.actor.${id}`, error, actorId: id } as never),
    );
  };
  const stopWork = (machine: AnyActorRef, id: string) => {
    const mine = inFlight.get(machine);
    const stop = mine?.get(id);
    if (!stop) return;
    mine!.delete(id);
    stop.abort();
  };
  const stopAllWork = (machine: AnyActorRef) => {
    const mine = inFlight.get(machine);
    if (!mine) return;
    inFlight.delete(machine);
    for (const stop of mine.values()) stop.abort();
  };
  /**
   * A machine that runs its nodes itself: stopping its actor stops their work, and a restored
   * snapshot starts again the work of the states it is in (as XState restarts the invoked actors
   * of a restored snapshot).
   */
  const runsItsWork = <M extends AnyStateMachine>(machine: M): M => {
    const restored = new WeakSet<object>();
    // XState's own methods, called on whatever object the actor's logic is (the host wraps the
    // machine with Object.create to observe its events).
    const { transition, restoreSnapshot, start } = machine as unknown as Record<'transition' | 'restoreSnapshot' | 'start', (...args: unknown[]) => unknown>;
    Object.assign(machine, {
      transition(this: M, snapshot: unknown, event: { type: string }, scope: { self: AnyActorRef }) {
        if (event.type === 'xstate.stop') stopAllWork(scope.self);
        return transition!.call(this, snapshot, event, scope);
      },
      restoreSnapshot(this: M, snapshot: unknown, scope: unknown) {
        const snap = restoreSnapshot!.call(this, snapshot, scope) as object;
        restored.add(snap);
        return snap;
      },
      start(this: M, snapshot: { _nodes: { entry: unknown[] }[]; context: RunContext; status: string }, scope: { self: AnyActorRef }) {
        start!.call(this, snapshot, scope);
        if (!restored.has(snapshot) || snapshot.status !== 'active') return;
        for (const node of snapshot._nodes) {
          for (const action of node.entry as { type?: string; params?: { id: string; src: string; input: InvokeInput } }[]) {
            if (action?.type === 'runWork' && action.params) runWork(scope.self, action.params.id, action.params.src, snapshot.context, boundInput(action.params.input, snapshot.context));
          }
        }
      },
    });
    return machine;
  };

  const setNode = (ctx: RunContext, nodeId: string, patch: Partial<NodeResult>): Record<string, NodeResult> => ({
    ...ctx.nodes,
    [nodeId]: { status: 'succeeded', handles: [], attempts: 0, ...ctx.nodes[nodeId], ...patch },
  });

  /** A node's end with its outcome: its handles fire; none stops the path (the run's skip reason if the first). */
  const succeeded = (context: RunContext, nodeId: string, outcome: NodeOutcome) => ({
    nodes: setNode(context, nodeId, {
      status: 'succeeded', handles: outcome.handles, output: outcome.output, attempts: (context.nodes[nodeId]?.attempts ?? 0) + 1,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    }),
    skipReason: context.skipReason ?? (outcome.handles.length === 0 ? (outcome.reason ?? `${nodeId} stopped the run`) : null),
  });
  /** A node's failure: the run's, or (continue on error) the node's `out` with the error as output. */
  const failed = (context: RunContext, nodeId: string, e: unknown, continueOnError: boolean) => {
    const error = errorOf(e);
    return {
      nodes: setNode(context, nodeId, {
        status: 'failed', handles: continueOnError ? ['out'] : [], error, attempts: (context.nodes[nodeId]?.attempts ?? 0) + 1,
        ...(continueOnError ? { output: { error } } : {}),
      }),
      failure: continueOnError ? context.failure : { nodeId, ...error },
    };
  };

  /** How far a for-each's items got, as its node's output while they run (the run view shows it). */
  const progressOf = (state: ForEachState) => {
    const count = state.items.filter((i) => i.status !== 'pending' && i.status !== 'running').length;
    return { count, total: state.total, skipped: state.skipped, pending: state.items.length - count };
  };
  const withItems = (context: RunContext, nodeId: string, state: ForEachState) => ({
    each: { ...context.each, [nodeId]: state },
    nodes: setNode(context, nodeId, { status: 'waiting', handles: [], output: progressOf(state) }),
  });
  const itemIndexOf = (eventType: string) => Number(eventType.slice(eventType.lastIndexOf('.') + 1));
  /** Where an item's machine is, from the snapshot it reported: its branch nodes' states and outputs. */
  const itemProgressOf = (event: { type: string }, forEachId: string) => {
    const snap = (event as unknown as { snapshot?: { value: unknown; context?: RunContext; hasTag?: (t: string) => boolean } }).snapshot;
    if (!snap?.context) return null;
    const { [forEachId]: _self, ...nodes } = nodeStatesOfSnapshot(snap as { value: unknown; context: RunContext });
    const outputs: Record<string, unknown> = {};
    for (const [id, r] of Object.entries(snap.context.nodes)) if (id !== forEachId && r.output !== undefined) outputs[id] = r.output;
    const waiting = !!snap.hasTag?.('waiting') && !snap.hasTag('running');
    return { index: itemIndexOf(event.type), nodes, outputs, waiting };
  };

  // xstate's setup() types each implementation precisely; the machine is assembled from a
  // runtime-built config, so the generic parameters are erased here on purpose.
  const machineSetup = (extraActors: Record<string, unknown>) => setup({
    types: {} as { context: RunContext; events: RunEvent; input: RunInput },
    actors: { ...actors, ...extraActors } as never,
    guards: {
      // An item's step changed what the run knows of it (a restored item reporting where it was does not).
      itemProgressed: ({ context, event }, p: { nodeId: string }) => {
        const progress = itemProgressOf(event, p.nodeId);
        const item = context.each?.[p.nodeId]?.items.find((i) => i.index === progress?.index);
        return !!progress && !!item && stableStringify([item.nodes, item.outputs ?? {}, item.waiting ?? false]) !== stableStringify([progress.nodes, progress.outputs, progress.waiting]);
      },
      // Every item ended (in order: or one failed, so the rest are not started).
      itemsDone: ({ context }, p: { nodeId: string; sequential: boolean }) => {
        const items = context.each?.[p.nodeId]?.items ?? [];
        if (items.some((i) => i.status === 'running')) return false;
        return !items.some((i) => i.status === 'pending') || (p.sequential && items.some((i) => i.status === 'failed'));
      },
      isFiredTrigger: ({ context }, p: { nodeId: string }) => context.triggerNodeId === p.nodeId,
      // A node decided in the step (format 4): what `decide` recorded.
      decided: ({ context }, p: { nodeId: string; handle: string }) => context.nodes[p.nodeId]?.handles.includes(p.handle) === true,
      decisionFailed: ({ context }, p: { nodeId: string }) => context.nodes[p.nodeId]?.status === 'failed',
      hasQueuedActivation: ({ context }) => (context.queuedActivations?.length ?? 0) > 0,
      inputsReady: ({ context }, p: { incoming: IncomingEdge[] }) => allResolved(context, p.incoming) && p.incoming.some((e) => edgeActive(context, e)),
      inputsDead: ({ context }, p: { incoming: IncomingEdge[] }) => allResolved(context, p.incoming) && !p.incoming.some((e) => edgeActive(context, e)),
      tookHandle: ({ event }, p: { handle: string }) =>
        ((event as unknown as { output?: NodeOutcome }).output?.handles ?? []).includes(p.handle),
      canRetry: ({ context }, p: { nodeId: string; maxAttempts: number }) => (context.nodes[p.nodeId]?.attempts ?? 0) + 1 < p.maxAttempts,
      isDecisionFor: ({ event }, p: { nodeId: string; decision: string }) =>
        event.type === 'approval.decide' && event.nodeId === p.nodeId && event.decision === p.decision,
      isDeliveryFor: ({ event }, p: { nodeId: string }) => event.type === 'event.deliver' && event.nodeId === p.nodeId,
      nothingRan: ({ context }, p: { workNodes: string[] }) =>
        context.skipReason !== null && !p.workNodes.some((id) => { const st = context.nodes[id]?.status; return st === 'succeeded' || st === 'failed'; }),
    },
    actions: {
      runWork: ({ context, self }, p: { id: string; src: string; input: InvokeInput }) => runWork(self, p.id, p.src, context, boundInput(p.input, context)),
      stopWork: ({ self }, p: { id: string }) => stopWork(self, p.id),
      beginItems: assign(({ context, event }, p: { nodeId: string }) => {
        const picked = (event as unknown as { output: { output: { total: number; skipped: number; items: { item: unknown; index: number }[] } } }).output.output;
        return withItems(context, p.nodeId, {
          total: picked.total, skipped: picked.skipped,
          items: picked.items.map(({ item, index }) => ({ index, value: item, status: 'pending', nodes: {} })),
        });
      }),
      // Starts the items that may start: all (parallel), or the next when none runs and none failed (in order).
      spawnItems: enqueueActions(({ context, enqueue }, p: { nodeId: string; sequential: boolean }) => {
        const state = context.each?.[p.nodeId];
        if (!state) return;
        const pending = state.items.filter((i) => i.status === 'pending');
        const busy = state.items.some((i) => i.status === 'running' || i.status === 'failed');
        const start = p.sequential ? (busy ? [] : pending.slice(0, 1)) : pending;
        if (!start.length) return;
        const starting = new Set(start.map((i) => i.index));
        enqueue.assign(withItems(context, p.nodeId, { ...state, items: state.items.map((i) => (starting.has(i.index) ? { ...i, status: 'running' } : i)) }));
        for (const i of start) {
          const input: ItemInput = { runId: context.runId, userId: context.userId, forEach: p.nodeId, index: i.index, value: i.value, ...(context.activation ? { activation: context.activation } : {}) };
          // Every step of an item is a step of the run: the host journals it, and the item's
          // effects wait for the write that holds it (persist before effect).
          enqueue.spawnChild(bodyActorSrc(p.nodeId) as never, { id: itemActorId(p.nodeId, i.index), input, syncSnapshot: true } as never);
        }
      }),
      recordItemProgress: assign(({ context, event }, p: { nodeId: string }) => {
        const state = context.each?.[p.nodeId];
        const progress = itemProgressOf(event, p.nodeId);
        if (!state || !progress) return {};
        const { index, nodes, outputs, waiting } = progress;
        return { each: { ...context.each, [p.nodeId]: { ...state, items: state.items.map((i) => (i.index === index ? { ...i, nodes, outputs, waiting } : i)) } } };
      }),
      recordItem: enqueueActions(({ context, event, enqueue }, p: { nodeId: string }) => {
        const state = context.each?.[p.nodeId];
        const index = itemIndexOf(event.type);
        enqueue.stopChild(itemActorId(p.nodeId, index));
        if (!state) return;
        const done = (event as unknown as { output?: ItemOutput }).output;
        const ended = (i: ForEachItem): ForEachItem => {
          if (!done) {
            const e = errorOf((event as unknown as { error: unknown }).error);
            return { ...i, status: 'failed', error: { nodeId: null, ...e } };
          }
          const outputs: Record<string, unknown> = {};
          const nodes: Record<string, string> = {};
          for (const [id, r] of Object.entries(done.nodes)) {
            if (id === p.nodeId) continue;
            nodes[id] = r.status;
            if (r.output !== undefined) outputs[id] = r.output;
          }
          const status = done.status === 'completed' ? 'succeeded' : done.status;
          return { ...i, status, nodes, outputs, ...(done.failure ? { error: done.failure } : {}) };
        };
        enqueue.assign(withItems(context, p.nodeId, { ...state, items: state.items.map((i) => (i.index === index ? ended(i) : i)) }));
      }),
      // Leaving the items (a failure elsewhere, a cancel): the items still running stop with it.
      stopItems: enqueueActions(({ context, enqueue }, p: { nodeId: string }) => {
        for (const i of context.each?.[p.nodeId]?.items ?? []) if (i.status === 'running') enqueue.stopChild(itemActorId(p.nodeId, i.index));
      }),
      recordTrigger: assign(({ context }, p: { nodeId: string }) => ({
        nodes: setNode(context, p.nodeId, { status: 'succeeded', handles: ['out'], output: context.trigger }),
      })),
      recordSkip: assign(({ context }, p: { nodeId: string }) => ({ nodes: setNode(context, p.nodeId, { status: 'skipped', handles: [] }) })),
      recordSkipMany: assign(({ context }, p: { nodeIds: string[] }) => {
        const nodes = { ...context.nodes };
        for (const id of p.nodeIds) nodes[id] = { handles: [], attempts: 0, ...context.nodes[id], status: 'skipped' };
        return { nodes };
      }),
      recordOutcome: assign(({ context, event }, p: { nodeId: string }) => succeeded(context, p.nodeId, (event as unknown as { output: NodeOutcome }).output)),
      // A pure node decided in the step that reaches it (format 4): its outcome or its failure
      // recorded as recordOutcome / recordFailure record an invoked node's end.
      decide: assign(({ context, self }, p: { nodeId: string }) => {
        const node = allNodes[p.nodeId]!;
        let outcome: NodeOutcome;
        try {
          const decide = DECISIONS.get(node.type);
          if (!decide) throw new SwitchyardError('INTERNAL', `"${node.type}" is not decided in the step`);
          const scope = scopeIn(p.nodeId, context.runId, context, context.item ? self._parent : undefined);
          outcome = decide(renderNode(node, spec(node.type)?.expressionParams ?? [], scope).rendered, scope);
        } catch (e) {
          return failed(context, p.nodeId, e, false);
        }
        return succeeded(context, p.nodeId, outcome);
      }),
      recordAttempt: assign(({ context, event }, p: { nodeId: string }) => ({
        nodes: setNode(context, p.nodeId, {
          status: 'waiting', attempts: (context.nodes[p.nodeId]?.attempts ?? 0) + 1,
          error: errorOf((event as unknown as { error: unknown }).error),
        }),
      })),
      recordFailure: assign(({ context, event }, p: { nodeId: string; continueOnError: boolean }) =>
        failed(context, p.nodeId, (event as unknown as { error: unknown }).error, p.continueOnError)),
      recordApprovalRequest: assign(({ context }, p: { nodeId: string; request: unknown }) => {
        let request: unknown = p.request;
        try {
          request = renderParams(p.request, scopeOf(context));
        } catch {
          /* show the unrendered text rather than failing the wait */
        }
        return { nodes: setNode(context, p.nodeId, { status: 'waiting', handles: [], request }) };
      }),
      beginActivation: assign(({ context, event }) => {
        const e = event as Extract<RunEvent, { type: 'behavior.activate' }>;
        return {
          activation: (context.activation ?? 0) + 1, nodes: {}, skipReason: null, failure: null,
          triggerNodeId: e.triggerNodeId, trigger: e.payload, ...(context.each ? { each: {} } : {}),
        };
      }),
      queueActivation: assign(({ context, event }) => {
        const e = event as Extract<RunEvent, { type: 'behavior.activate' }>;
        const queued = context.queuedActivations ?? [];
        if (queued.some((q) => q.activationId === e.activationId)) return {};
        if (queued.length >= MAX_QUEUED_ACTIVATIONS) return { droppedActivations: (context.droppedActivations ?? 0) + 1 };
        return { queuedActivations: [...queued, { activationId: e.activationId, triggerNodeId: e.triggerNodeId, payload: e.payload }] };
      }),
      beginQueuedActivation: assign(({ context }) => {
        const [next, ...rest] = context.queuedActivations ?? [];
        return {
          activation: (context.activation ?? 0) + 1, nodes: {}, skipReason: null, failure: null,
          triggerNodeId: next?.triggerNodeId ?? '', trigger: next?.payload ?? null, queuedActivations: rest, ...(context.each ? { each: {} } : {}),
        };
      }),
      endActivation: assign(({ context }, p: { status: 'completed' | 'skipped' | 'failed' }) => ({
        lastActivation: { n: context.activation ?? 0, status: p.status, reason: p.status === 'skipped' ? context.skipReason : null, error: p.status === 'failed' ? context.failure : null },
      })),
      recordWaitRequest: assign(({ context }, p: { nodeId: string; request: { event: string; field: string; key: string } }) => {
        let key: unknown = p.request.key;
        try {
          key = renderParams(p.request.key, scopeOf(context));
        } catch {
          /* an unrenderable key matches nothing; it is shown as written */
        }
        const request = { ...p.request, key: key === null || key === undefined ? '' : typeof key === 'string' ? key : JSON.stringify(key) };
        return { nodes: setNode(context, p.nodeId, { status: 'waiting', handles: [], request }) };
      }),
      recordDelivery: assign(({ context, event }, p: { nodeId: string }) => {
        const e = event as Extract<RunEvent, { type: 'event.deliver' }>;
        return {
          nodes: setNode(context, p.nodeId, {
            status: 'succeeded', handles: ['out'], attempts: 1,
            output: { eventId: e.eventId, type: e.eventType, ...(e.payload && typeof e.payload === 'object' ? (e.payload as object) : {}) },
          }),
        };
      }),
      recordTimeout: assign(({ context }, p: { nodeId: string }) => ({
        nodes: setNode(context, p.nodeId, { status: 'succeeded', handles: ['timeout'], attempts: 1, output: { timedOut: true } }),
      })),
      recordDecision: assign(({ context, event }, p: { nodeId: string; handle: string }) => {
        const e = event as Extract<RunEvent, { type: 'approval.decide' }>;
        return {
          nodes: setNode(context, p.nodeId, {
            status: 'succeeded', handles: [p.handle], attempts: 1,
            output: { decision: e.decision, by: e.by ?? null, comment: e.comment ?? null },
          }),
        };
      }),
    },
  });
  // Each for-each's branch: a machine run once per item, started by the run (a child in its
  // persisted snapshot, restored with it). Its context starts with the for-each's `each` fired.
  // Format 5: the machine does its nodes' work itself, no actor per node (a for-each's collect
  // stays an actor: it reads its item machines).
  const executed = compiled.format === MACHINE_FORMAT ? new Set(Object.keys(works)) : undefined;
  const bind = <M extends AnyStateMachine>(m: M) => (executed ? runsItsWork(m) : m);
  const base = machineSetup({});
  const bodies: Record<string, unknown> = {};
  for (const [eachId, body] of Object.entries(compiled.bodies ?? {})) {
    bodies[bodyActorSrc(eachId)] = bind(base.createMachine({
      ...(hydrate(body.config, executed) as object),
      context: ({ input }: { input: ItemInput }): RunContext => ({
        runId: input.runId, userId: input.userId, triggerNodeId: '', trigger: null,
        nodes: { [eachId]: { status: 'succeeded', handles: ['each'], attempts: 0 } }, skipReason: null, failure: null,
        ...(input.activation ? { activation: input.activation } : {}),
        item: { forEach: input.forEach, index: input.index, value: input.value },
      }),
      output: ({ context, event }: { context: RunContext; event: { output?: { status?: ItemOutput['status'] } } }): ItemOutput => ({
        status: event.output?.status ?? 'completed', nodes: context.nodes, failure: context.failure,
      }),
    } as never) as unknown as AnyStateMachine);
  }
  const shortcut = options.startShortcut === false ? null : startShortcut(compiled);
  const config = hydrate(shortcut?.config ?? compiled.config, executed) as Record<string, unknown>;
  // Format 3 compiles a single trigger's region out: its run always starts with the trigger recorded.
  const seeded = shortcut?.trigger ?? triggerCompiledOut(compiled);
  return bind((compiled.bodies ? machineSetup(bodies) : base).createMachine({
    ...(config as object),
    context: ({ input }: { input: RunInput }): RunContext => {
      if (!seeded) {
        return { runId: input.runId, userId: input.userId, triggerNodeId: input.triggerNodeId, trigger: input.payload, nodes: {}, skipReason: null, failure: null };
      }
      if (input.triggerNodeId !== seeded) throw new SwitchyardError('BAD_INPUT', `"${input.triggerNodeId}" is not the trigger of this flow`);
      // What the trigger's region records when it fires (recordTrigger), already in place.
      const fired: NodeResult = { status: 'succeeded', handles: ['out'], attempts: 0, output: input.payload };
      return { runId: input.runId, userId: input.userId, triggerNodeId: input.triggerNodeId, trigger: input.payload, nodes: { [seeded]: fired }, skipReason: null, failure: null };
    },
  } as never) as unknown as AnyStateMachine);
}

/**
 * How a workflow with one trigger is bound: it always starts from that trigger, so the trigger's
 * region (format 2; format 3 has none) starts `succeeded` (its output put in the context, as
 * `recordTrigger` would) and every region fed only by the trigger starts at its first node,
 * instead of getting there through eventless steps (`pending` -> `succeeded`, `$pending` -> the
 * node) that cost a microstep each, every start. No snapshot ever holds those passing states (they never end a macrostep), so
 * stored snapshots and state values are the same either way: the compiled machine, pinned to
 * its flow version, is unchanged; only its start is shorter. Null for anything else (behaviors
 * re-enter their regions per activation, legacy and multi-trigger machines decide at start).
 */
function startShortcut(compiled: CompiledMachine): { config: MachineConfigJson; trigger: string } | null {
  if (compiled.kind !== 'workflow' || (compiled.format !== MACHINE_FORMAT && compiled.format !== INVOKED_MACHINE_FORMAT && compiled.format !== FLAT_MACHINE_FORMAT && compiled.format !== CHAIN_MACHINE_FORMAT) || compiled.triggers.length !== 1) return null;
  const trigger = compiled.triggers[0]!.nodeId;
  const root = compiled.config as { states?: { active?: { type?: string; states?: Record<string, MachineConfigJson> } } };
  const regions = root.states?.active?.states;
  if (root.states?.active?.type !== 'parallel' || !regions) return null;
  const triggerRegion = regions[trigger] as { initial?: string; states?: Record<string, unknown> } | undefined;
  // No region for the trigger: format 3 compiled it out (the run's context starts with it recorded).
  if (triggerRegion && (triggerRegion.initial !== 'pending' || !triggerRegion.states?.succeeded)) return null;
  const onlyFromTrigger = (incoming: IncomingEdge[] | undefined) =>
    !!incoming?.length && incoming.every((e) => e.source === trigger && e.handle === 'out');
  const next: Record<string, MachineConfigJson> = {};
  for (const [id, region] of Object.entries(regions)) {
    const r = region as { initial?: string; states?: Record<string, unknown> };
    if (id === trigger) next[id] = { ...r, initial: 'succeeded' };
    // A chain of nodes: its first node (the state keyed by its id).
    else if (r.initial === '$pending' && r.states?.[id] && onlyFromTrigger(compiled.nodes[id]?.incoming)) next[id] = { ...r, initial: id };
    // One node: its running state.
    else if (r.initial === 'pending' && r.states?.running && onlyFromTrigger(compiled.nodes[id]?.incoming)) next[id] = { ...r, initial: 'running' };
    else next[id] = region;
  }
  return { trigger, config: { ...compiled.config, states: { ...(compiled.config as { states: object }).states, active: { ...root.states.active, states: next } } } as MachineConfigJson };
}

/**
 * A workflow's one trigger when the compiler left its region out (format 3), else null. Read from
 * the machine's shape, not its format: formats 1 and 2 always have the region.
 */
function triggerCompiledOut(compiled: CompiledMachine): string | null {
  if (compiled.kind !== 'workflow' || compiled.triggers.length !== 1) return null;
  const trigger = compiled.triggers[0]!.nodeId;
  const regions = (compiled.config as { states?: { active?: { states?: Record<string, unknown> } } }).states?.active?.states;
  return regions && !(trigger in regions) ? trigger : null;
}

interface ItemInput {
  runId: string;
  userId: string;
  activation?: number;
  forEach: string;
  index: number;
  value: unknown;
}

export type RunSnapshot = SnapshotFrom<AnyStateMachine>;

/** The run's status as the product shows it, from a machine snapshot. */
export function runStatusOf(snapshot: { value: unknown; status: string; hasTag?: (t: string) => boolean; context?: Pick<RunContext, 'each'> }): RunStatus {
  const v = snapshot.value;
  if (v === 'completed' || v === 'skipped' || v === 'failed' || v === 'cancelled') return v;
  if (snapshot.status === 'error') return 'failed';
  if (snapshot.hasTag?.('running')) return 'running';
  // A for-each running its branch per item: waiting when every item under way only waits.
  if (snapshot.hasTag?.('items')) return itemsBusy(snapshot.context) ? 'running' : 'waiting';
  return snapshot.hasTag?.('waiting') ? 'waiting' : 'running';
}

/** Some for-each item under way is doing something (not only waiting on a delay or a backoff). */
const itemsBusy = (context: Pick<RunContext, 'each'> | undefined) =>
  Object.values(context?.each ?? {}).some((state) => state.items.some((i) => i.status === 'running' && !i.waiting));

/**
 * Per-node state for overlays (pending | running | waiting | retrying | succeeded | failed |
 * skipped) of the nodes the state value names: a region per node (`{ a: 'running' }`), or a chain
 * region whose active node is a nested state (`{ head: { b: 'running' } }`, `{ head: '$pending' }`)
 * or, in format 3, a node of one step (`{ head: 'b' }`: b is running).
 * Nodes a chain has passed or not reached are not in the value: their outcome is in context.
 */
export function nodeStatesOf(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  const active = (value as Record<string, unknown>).active;
  if (!active || typeof active !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [region, v] of Object.entries(active as Record<string, unknown>)) {
    if (typeof v === 'string') {
      if (v === '$pending') out[region] = 'pending';
      else if (v === '$done') continue;
      // A node's own region (its step), or (format 3) a chain whose node of one step is under way.
      else if (NODE_REGION_STATES.has(v)) out[region] = FOR_EACH_STEPS.has(v) ? 'running' : v;
      else out[v] = 'running';
      continue;
    }
    for (const [node, inner] of Object.entries((v ?? {}) as Record<string, unknown>)) {
      if (typeof inner === 'string') out[node] = FOR_EACH_STEPS.has(inner) ? 'running' : inner;
    }
  }
  return out;
}

/** A for-each running its branch per item is running while it runs the items and collects them. */
const FOR_EACH_STEPS = new Set(['items', 'collecting']);

/**
 * Per-node state of every node a snapshot knows: outcomes from context, overlaid by the active
 * states. A for-each's branch nodes show the latest item's: the last one running, else the last ended.
 */
export function nodeStatesOfSnapshot(snapshot: { value: unknown; context: Pick<RunContext, 'nodes' | 'each'> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, n] of Object.entries(branchNodesOf(snapshot.context))) out[id] = n.state;
  for (const [id, r] of Object.entries(snapshot.context.nodes)) out[id] = r.status;
  return Object.assign(out, nodeStatesOf(snapshot.value));
}

/** A node of a for-each's branch as a run view shows it: as the latest item left it. */
export interface BranchNodeView {
  state: string;
  output: unknown;
  error: { code: string; message: string } | null;
  /** The for-each, and the place in its list of the item shown. */
  forEach: string;
  item: number;
}

/**
 * The nodes of for-each branches in a run's context, each as the latest item left it: the last
 * item running, else the last that ended, with the outputs of the nodes that ran. Nodes of a
 * for-each whose items have not started are not in it (pending).
 */
export function branchNodesOf(context: Pick<RunContext, 'each'>): Record<string, BranchNodeView> {
  const out: Record<string, BranchNodeView> = {};
  for (const [forEach, state] of Object.entries(context.each ?? {})) {
    const started = state.items.filter((i) => i.status !== 'pending');
    const latest = started.filter((i) => i.status === 'running').at(-1) ?? started.at(-1);
    if (!latest) continue;
    for (const [id, st] of Object.entries(latest.nodes)) {
      const error = latest.error && latest.error.nodeId === id ? { code: latest.error.code, message: latest.error.message } : null;
      out[id] = { state: st, output: latest.outputs?.[id] ?? null, error, forEach, item: latest.index };
    }
  }
  return out;
}

/** Waiting approvals in a snapshot value. */
export function waitingApprovals(compiled: CompiledMachine, value: unknown): string[] {
  const states = nodeStatesOf(value);
  return Object.entries(states).filter(([id, st]) => st === 'running' && compiled.nodes[id]?.type === 'flow.approval').map(([id]) => id);
}

export type { MachineConfigJson };
