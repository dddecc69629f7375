import { assign, fromPromise, setup, type AnyActorRef, type AnyStateMachine, type SnapshotFrom } from 'xstate';
import { defaultCatalog, isNodeType, isSwitchyardError, type NodeType } from '@switchyard/schema';
import type { CompiledMachine, IncomingEdge, MachineConfigJson } from './compiler/types';
import { renderParams, type Scope } from './expression';
import { nodeImplementations } from './nodes/registry';
import { timerKeyOf, type Invocation, type NodeOutcome } from './nodes/types';
import type { RunPorts } from './ports';
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
}

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
}

/** Replaces JSON invoke inputs by functions of context: config stays JSON until bound here. */
function hydrate(config: unknown): unknown {
  if (Array.isArray(config)) return config.map(hydrate);
  if (!config || typeof config !== 'object') return config;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'invoke' && v && typeof v === 'object' && !Array.isArray(v)) {
      const inv = v as Record<string, unknown>;
      const staticInput = inv.input as InvokeInput;
      out[k] = {
        ...(hydrate(inv) as object),
        input: ({ context }: { context: RunContext }): BoundInput => ({
          ...staticInput, runId: context.runId, userId: context.userId,
          attempt: context.nodes[staticInput.nodeId]?.attempts ?? 0,
          ...(context.activation ? { activation: context.activation } : {}),
        }),
      };
    } else out[k] = hydrate(v);
  }
  return out;
}

/**
 * Binds a compiled machine to real (or fake) ports: the Temporal-style split between the
 * deterministic workflow (the JSON config) and its activities (node implementations).
 */
export function createRunMachine(compiled: CompiledMachine, ports: RunPorts) {
  // A node sees the outputs of the nodes upstream of it (all resolved before it starts, and never
  // changed after), so its scope is the same when it starts and when a restored run restarts it.
  const upstream = new Map<string, Set<string>>();
  const upstreamOf = (id: string): Set<string> => {
    const known = upstream.get(id);
    if (known) return known;
    const found = new Set<string>();
    const stack = (compiled.nodes[id]?.incoming ?? []).map((e) => e.source);
    while (stack.length) {
      const next = stack.pop()!;
      if (found.has(next)) continue;
      found.add(next);
      for (const e of compiled.nodes[next]?.incoming ?? []) stack.push(e.source);
    }
    upstream.set(id, found);
    return found;
  };
  const scopeFor = (input: BoundInput, self: AnyActorRef): Scope => {
    if (input.scope) return input.scope;
    const context = (self._parent?.getSnapshot() as { context?: RunContext } | undefined)?.context;
    if (!context) return { trigger: undefined, nodes: {}, run: { id: input.runId } };
    const nodes: Record<string, unknown> = {};
    for (const id of upstreamOf(input.nodeId)) {
      const out = context.nodes[id]?.output;
      if (out !== undefined) nodes[id] = out;
    }
    return { trigger: context.trigger, nodes, run: context.activation ? { id: context.runId, activation: context.activation } : { id: context.runId } };
  };
  const actors: Record<string, ReturnType<typeof fromPromise<NodeOutcome, BoundInput>>> = {};
  for (const node of Object.values(compiled.nodes)) {
    if (!isNodeType(node.type) || actors[node.type]) continue;
    const impl = nodeImplementations[node.type as NodeType];
    if (impl.kind !== 'invoke') continue;
    const run = impl.run as (inv: Invocation<unknown>, p: RunPorts) => Promise<NodeOutcome>;
    // Persist before effect: a node that acts outside the run (an effect, a timer row, an agent
    // request) starts once the transition that started it is durable. A pure or read-only node
    // (a condition, even one that reads the clock) need not wait: nothing outside sees it, and the
    // effect after it waits for the commit that holds its output, so a replay that re-decides it
    // has acted on nothing.
    const spec = defaultCatalog.get(node.type);
    const waitsForCommit = spec?.effect === true || node.type === 'flow.delay';
    actors[node.type] = fromPromise<NodeOutcome, BoundInput>(async ({ input, signal, self }) => {
      const scope = scopeFor(input, self);
      if (waitsForCommit) await ports.durability?.committed(input.runId, signal);
      const { nodeId, expressionParams } = input;
      const node = compiled.nodes[nodeId]!;
      const skip = new Set(expressionParams);
      const rendered: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node.params)) rendered[k] = skip.has(k) ? v : renderParams(v, scope);
      const { retry: _r, continueOnError: _c, ...effectInput } = rendered;
      return run(
        {
          runId: input.runId, userId: input.userId, nodeId, nodeType: node.type as NodeType,
          params: rendered, scope, attempt: input.attempt, signal,
          ...(input.activation ? { activation: input.activation } : {}),
          // A behavior's n-th activation acts anew: its effects have keys of their own.
          effectKey: stableStringify(input.activation ? [input.runId, input.activation, nodeId, effectInput] : [input.runId, nodeId, effectInput]),
        },
        ports,
      );
    });
  }
  actors['sys.timeout'] = fromPromise<NodeOutcome, BoundInput>(async ({ input, signal }) => {
    await ports.durability?.committed(input.runId, signal);
    await ports.timers.sleep({ runId: input.runId, key: timerKeyOf(input.nodeId, input.activation, ':timeout') }, input.backoffMs ?? 0, signal);
    return { output: null, handles: [] };
  });
  actors['sys.backoff'] = fromPromise<NodeOutcome, BoundInput>(async ({ input, signal }) => {
    await ports.durability?.committed(input.runId, signal);
    const attempts = Math.max(1, input.attempt);
    const ms = (input.backoffMs ?? 0) * (input.factor ?? 1) ** (attempts - 1);
    await ports.timers.sleep({ runId: input.runId, key: timerKeyOf(input.nodeId, input.activation, `:retry:${attempts}`) }, ms, signal);
    return { output: null, handles: [] };
  });

  const setNode = (ctx: RunContext, nodeId: string, patch: Partial<NodeResult>): Record<string, NodeResult> => ({
    ...ctx.nodes,
    [nodeId]: { status: 'succeeded', handles: [], attempts: 0, ...ctx.nodes[nodeId], ...patch },
  });

  // xstate's setup() types each implementation precisely; the machine is assembled from a
  // runtime-built config, so the generic parameters are erased here on purpose.
  const s = setup({
    types: {} as { context: RunContext; events: RunEvent; input: RunInput },
    actors: actors as never,
    guards: {
      isFiredTrigger: ({ context }, p: { nodeId: string }) => context.triggerNodeId === p.nodeId,
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
      recordTrigger: assign(({ context }, p: { nodeId: string }) => ({
        nodes: setNode(context, p.nodeId, { status: 'succeeded', handles: ['out'], output: context.trigger }),
      })),
      recordSkip: assign(({ context }, p: { nodeId: string }) => ({ nodes: setNode(context, p.nodeId, { status: 'skipped', handles: [] }) })),
      recordSkipMany: assign(({ context }, p: { nodeIds: string[] }) => {
        const nodes = { ...context.nodes };
        for (const id of p.nodeIds) nodes[id] = { handles: [], attempts: 0, ...context.nodes[id], status: 'skipped' };
        return { nodes };
      }),
      recordOutcome: assign(({ context, event }, p: { nodeId: string }) => {
        const outcome = (event as unknown as { output: NodeOutcome }).output;
        const attempts = (context.nodes[p.nodeId]?.attempts ?? 0) + 1;
        return {
          nodes: setNode(context, p.nodeId, {
            status: 'succeeded', handles: outcome.handles, output: outcome.output, attempts,
            ...(outcome.reason ? { reason: outcome.reason } : {}),
          }),
          skipReason: context.skipReason ?? (outcome.handles.length === 0 ? (outcome.reason ?? `${p.nodeId} stopped the run`) : null),
        };
      }),
      recordAttempt: assign(({ context, event }, p: { nodeId: string }) => ({
        nodes: setNode(context, p.nodeId, {
          status: 'waiting', attempts: (context.nodes[p.nodeId]?.attempts ?? 0) + 1,
          error: errorOf((event as unknown as { error: unknown }).error),
        }),
      })),
      recordFailure: assign(({ context, event }, p: { nodeId: string; continueOnError: boolean }) => {
        const error = errorOf((event as unknown as { error: unknown }).error);
        return {
          nodes: setNode(context, p.nodeId, {
            status: 'failed', handles: p.continueOnError ? ['out'] : [], error, attempts: (context.nodes[p.nodeId]?.attempts ?? 0) + 1,
            ...(p.continueOnError ? { output: { error } } : {}),
          }),
          failure: p.continueOnError ? context.failure : { nodeId: p.nodeId, ...error },
        };
      }),
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
          triggerNodeId: e.triggerNodeId, trigger: e.payload,
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
          triggerNodeId: next?.triggerNodeId ?? '', trigger: next?.payload ?? null, queuedActivations: rest,
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
  const config = hydrate(compiled.config) as Record<string, unknown>;
  return s.createMachine({
    ...(config as object),
    context: ({ input }: { input: RunInput }): RunContext => ({
      runId: input.runId, userId: input.userId, triggerNodeId: input.triggerNodeId, trigger: input.payload,
      nodes: {}, skipReason: null, failure: null,
    }),
  } as never) as unknown as AnyStateMachine;
}

export type RunSnapshot = SnapshotFrom<AnyStateMachine>;

/** The run's status as the product shows it, from a machine snapshot. */
export function runStatusOf(snapshot: { value: unknown; status: string; hasTag?: (t: string) => boolean }): RunStatus {
  const v = snapshot.value;
  if (v === 'completed' || v === 'skipped' || v === 'failed' || v === 'cancelled') return v;
  if (snapshot.status === 'error') return 'failed';
  return snapshot.hasTag?.('running') ? 'running' : snapshot.hasTag?.('waiting') ? 'waiting' : 'running';
}

/**
 * Per-node state for overlays (pending | running | waiting | retrying | succeeded | failed |
 * skipped) of the nodes the state value names: a region per node (`{ a: 'running' }`), or a chain
 * region whose active node is a nested state (`{ head: { b: 'running' } }`, `{ head: '$pending' }`).
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
      else if (v !== '$done') out[region] = v;
      continue;
    }
    for (const [node, inner] of Object.entries((v ?? {}) as Record<string, unknown>)) {
      if (typeof inner === 'string') out[node] = inner;
    }
  }
  return out;
}

/** Per-node state of every node a snapshot knows: outcomes from context, overlaid by the active states. */
export function nodeStatesOfSnapshot(snapshot: { value: unknown; context: Pick<RunContext, 'nodes'> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, r] of Object.entries(snapshot.context.nodes)) out[id] = r.status;
  return Object.assign(out, nodeStatesOf(snapshot.value));
}

/** Waiting approvals in a snapshot value. */
export function waitingApprovals(compiled: CompiledMachine, value: unknown): string[] {
  const states = nodeStatesOf(value);
  return Object.entries(states).filter(([id, st]) => st === 'running' && compiled.nodes[id]?.type === 'flow.approval').map(([id]) => id);
}

export type { MachineConfigJson };
