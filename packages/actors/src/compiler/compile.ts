import {
  FlowDocumentSchema,
  parseDuration,
  defaultCatalog,
  hasErrors,
  joinDataTypes,
  portAccepts,
  type Catalog,
  type DataType,
  type Diagnostic,
  type DiagnosticCode,
  type FlowDocument,
  type NodeKindSpec,
} from '@switchyard/schema';
import { parseExpression, templateExpressions } from '../expression';
import { CHAIN_MACHINE_FORMAT, DECIDED_IN_STEP, FLAT_MACHINE_FORMAT, INVOKED_MACHINE_FORMAT, LEGACY_MACHINE_FORMAT, MACHINE_FORMAT, NODE_REGION_STATES, type CompileResult, type CompiledBody, type CompiledMachine, type CompiledNode, type IncomingEdge, type MachineConfigJson } from './types';

export interface CompileOptions {
  /**
   * Emit the format-1 shape (one parallel region per node). Only for pinning flow versions whose
   * runs started before machines were pinned: their snapshots have that shape.
   */
  legacyShape?: boolean;
  /**
   * Emit the format-2 shape (chains with a nested state per node, a region per trigger). Only for
   * tests of runs pinned to such machines.
   */
  chainShape?: boolean;
  /**
   * Emit the format-3 shape (pure nodes invoked, each a step of its own). Only for tests of runs
   * pinned to such machines.
   */
  flatShape?: boolean;
  /**
   * Emit format 4 (as format 5, each invoked node an actor of its own). Only for tests of runs
   * pinned to such machines.
   */
  invokedNodes?: boolean;
}

/** Node categories whose execution means "the run did something" (vs. only checked conditions). */
const WORK_CATEGORIES = new Set(['action', 'agent', 'flow']);

const diag = (code: DiagnosticCode, message: string, path: (string | number)[], extra: Partial<Diagnostic> = {}): Diagnostic => ({
  code, severity: 'error', message, path, ...extra,
});

/**
 * Compiles a flow document into a JSON machine config plus typed diagnostics.
 * Pure and deterministic: the same document always gives byte-identical JSON. Never throws on
 * bad input; every problem becomes a diagnostic.
 */
export function compile(input: unknown, catalog: Catalog = defaultCatalog, options: CompileOptions = {}): CompileResult {
  const parsed = FlowDocumentSchema.safeParse(input);
  if (!parsed.success) {
    return {
      machine: null, document: null,
      diagnostics: parsed.error.issues.map((i) => {
        const path = i.path.map((p) => (typeof p === 'number' ? p : String(p)));
        const nodeIdx = path[0] === 'nodes' && typeof path[1] === 'number' ? path[1] : -1;
        const nodeId = nodeIdx >= 0 && isRecord(input) && Array.isArray(input.nodes) ? idOf(input.nodes[nodeIdx]) : undefined;
        return diag('invalid-document', i.message, path, nodeId ? { nodeId } : {});
      }),
    };
  }
  const doc = parsed.data;
  const diagnostics: Diagnostic[] = [];
  const specs = new Map<string, NodeKindSpec>();
  const params = new Map<string, Record<string, unknown>>();

  // Ids are unique across nodes and edges.
  const seen = new Set<string>();
  doc.nodes.forEach((n, i) => {
    if (seen.has(n.id)) diagnostics.push(diag('duplicate-id', `Another node already uses id "${n.id}"`, ['nodes', i, 'id'], { nodeId: n.id }));
    seen.add(n.id);
  });
  const edgeIds = new Set<string>();
  doc.edges.forEach((e, i) => {
    if (edgeIds.has(e.id)) diagnostics.push(diag('duplicate-id', `Another edge already uses id "${e.id}"`, ['edges', i, 'id'], { edgeId: e.id }));
    edgeIds.add(e.id);
  });

  // Kinds and params.
  doc.nodes.forEach((n, i) => {
    const spec = catalog.get(n.type);
    if (!spec) {
      diagnostics.push(diag('unknown-node-type', `Unknown node type "${n.type}"`, ['nodes', i, 'type'], { nodeId: n.id }));
      return;
    }
    specs.set(n.id, spec);
    const res = spec.params.safeParse(n.params);
    if (!res.success) {
      for (const issue of res.error.issues) {
        const code = ((issue as { params?: { diagnostic?: DiagnosticCode } }).params?.diagnostic) ?? 'invalid-params';
        const path = ['nodes', i, 'params', ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
        const field = issue.path.length ? `${issue.path.join('.')}: ` : '';
        diagnostics.push(diag(code, `${field}${issue.message}`, path, { nodeId: n.id }));
      }
      return;
    }
    const p = res.data as Record<string, unknown>;
    params.set(n.id, p);
    checkExpressions(spec, p, (message, key) =>
      diagnostics.push(diag('invalid-expression', message, ['nodes', i, 'params', ...key], { nodeId: n.id })));
  });

  // Edges: both ends exist, handles exist.
  const nodeIndex = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const validEdges = doc.edges.filter((e, i) => {
    for (const end of ['source', 'target'] as const) {
      if (!nodeIndex.has(e[end])) {
        diagnostics.push(diag('dangling-edge', `Edge ${end} "${e[end]}" is not a node`, ['edges', i, end], {
          edgeId: e.id, ...(nodeIndex.has(e.source) ? { nodeId: e.source } : nodeIndex.has(e.target) ? { nodeId: e.target } : {}),
        }));
        return false;
      }
    }
    const s = specs.get(e.source);
    const t = specs.get(e.target);
    if (!s || !t) return false;
    if (!s.outputs.some((o) => o.id === e.sourceHandle)) {
      diagnostics.push(diag('unknown-handle', `${s.label} has no output "${e.sourceHandle}"`, ['edges', i, 'sourceHandle'], { edgeId: e.id, nodeId: e.source }));
      return false;
    }
    if (!t.inputs.some((o) => o.id === e.targetHandle)) {
      diagnostics.push(diag('unknown-handle', t.inputs.length ? `${t.label} has no input "${e.targetHandle}"` : `${t.label} is a trigger and takes no input`,
        ['edges', i, 'targetHandle'], { edgeId: e.id, nodeId: e.target }));
      return false;
    }
    return true;
  });

  checkAudience(doc, (message, path, nodeId) => diagnostics.push(diag('kind-not-allowed', message, path, nodeId ? { nodeId } : {})));

  // Triggers.
  const triggerIds = doc.nodes.filter((n) => specs.get(n.id)?.category === 'trigger').map((n) => n.id);
  if (triggerIds.length === 0 && doc.nodes.length >= 0) {
    diagnostics.push(diag('missing-trigger', 'Add a trigger: nothing can start this flow', ['nodes']));
  }

  // Graph structure: cycles (Kahn) and reachability from triggers.
  const out = new Map<string, string[]>(doc.nodes.map((n) => [n.id, []]));
  const indeg = new Map<string, number>(doc.nodes.map((n) => [n.id, 0]));
  for (const e of validEdges) {
    out.get(e.source)!.push(e.target);
    indeg.set(e.target, (indeg.get(e.target) ?? 0) + 1);
  }
  const order: string[] = [];
  const queue = doc.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  const remaining = new Map(indeg);
  while (queue.length) {
    const id = queue.shift()!;
    order.push(id);
    for (const t of out.get(id) ?? []) {
      const d = remaining.get(t)! - 1;
      remaining.set(t, d);
      if (d === 0) queue.push(t);
    }
  }
  const inCycle = new Set(doc.nodes.map((n) => n.id).filter((id) => !order.includes(id)));
  for (const id of inCycle) {
    diagnostics.push(diag('cycle', 'This node is part of a loop; workflows must not loop back', ['nodes', nodeIndex.get(id)!], { nodeId: id }));
  }
  const reached = new Set<string>(triggerIds);
  const stack = [...triggerIds];
  while (stack.length) {
    for (const t of out.get(stack.pop()!) ?? []) {
      if (reached.has(t)) continue;
      reached.add(t);
      stack.push(t);
    }
  }
  for (const n of doc.nodes) {
    if (!reached.has(n.id) && specs.has(n.id) && triggerIds.length > 0 && !inCycle.has(n.id)) {
      diagnostics.push(diag('unreachable-node', `${n.label ?? specs.get(n.id)!.label} is not connected to a trigger, so it never runs`,
        ['nodes', nodeIndex.get(n.id)!], { nodeId: n.id }));
    }
  }

  // Port types, inferred along the topological order.
  const incoming = new Map<string, (IncomingEdge & { edgeId: string; edgeIdx: number })[]>(doc.nodes.map((n) => [n.id, []]));
  validEdges.forEach((e) => incoming.get(e.target)!.push({ source: e.source, handle: e.sourceHandle, edgeId: e.id, edgeIdx: doc.edges.indexOf(e) }));
  const outType = new Map<string, DataType>();
  for (const id of order) {
    const spec = specs.get(id);
    if (!spec) continue;
    const ins = incoming.get(id)!;
    const inTypes = ins.map((e) => outType.get(e.source) ?? 'any');
    const joined = joinDataTypes(inTypes);
    for (const [k, e] of ins.entries()) {
      const want = spec.inputs[0]?.dataType ?? 'any';
      const got = inTypes[k]!;
      if (!portAccepts(want, got)) {
        diagnostics.push(diag('port-type-mismatch', `${spec.label} needs ${article(want)} but receives ${article(got)} from "${e.source}"`,
          ['edges', e.edgeIdx], { nodeId: id, edgeId: e.edgeId }));
      }
    }
    const declared = spec.outputs[0]?.dataType ?? 'any';
    outType.set(id, declared === 'inherit' ? (ins.length ? joined : 'any') : declared);
  }

  const bodies = forEachBodies(doc, validEdges, (d) => diagnostics.push(d));

  if (hasErrors(diagnostics)) return { machine: null, diagnostics, document: doc };
  return { machine: buildMachine(doc, specs, params, incoming, outType, validEdges, options, bodies), diagnostics, document: doc };
}

/**
 * Node kinds a behavior for everyone may not hold: it runs in every user's scope, so nothing in it
 * may send mail as them, call out with their data, or ask the author's agents; and a webhook has no
 * user to run for.
 */
export const EVERYONE_FORBIDDEN_KINDS: readonly string[] = ['action.sendEmail', 'action.webhook', 'agent.runSkill', 'plan.step', 'trigger.webhook'];

function checkAudience(doc: FlowDocument, report: (message: string, path: (string | number)[], nodeId?: string) => void) {
  if (doc.settings.audience !== 'everyone') return;
  if (doc.kind !== 'behavior') {
    report('Only a behavior can run for everyone', ['settings', 'audience']);
    return;
  }
  doc.nodes.forEach((n, i) => {
    if (EVERYONE_FORBIDDEN_KINDS.includes(n.type)) {
      report(`A behavior for everyone runs in every user's data: it cannot ${n.type === 'trigger.webhook' ? 'start from a webhook' : n.type === 'action.sendEmail' ? 'send email' : n.type === 'action.webhook' ? 'call webhooks' : 'ask agents'}`, ['nodes', i, 'type'], n.id);
    }
    // A for-each with a branch does not use its action (the branch's nodes are checked like any other).
    const branch = doc.edges.some((e) => e.source === n.id && e.sourceHandle === 'each');
    const action = n.type === 'flow.forEach' && !branch && typeof n.params.action === 'string' ? n.params.action : null;
    if (action && EVERYONE_FORBIDDEN_KINDS.includes(action)) {
      report(`A behavior for everyone runs in every user's data: its for-each cannot do ${action}`, ['nodes', i, 'params', 'action'], n.id);
    }
  });
}

/** Kinds a for-each's branch may not hold: they wait for something sent to the run, which an item's branch does not receive. */
const BODY_FORBIDDEN: Record<string, string> = {
  'flow.approval': 'wait for an approval',
  'flow.waitForEvent': 'wait for an event',
};

/**
 * The branch of each for-each drawn from its `each` output: every node reachable from there. It
 * runs once per item, so it must be a branch of its own: a node in it that also takes input from
 * outside (or from another for-each's branch) is `foreach-body-entry`; kinds that wait for
 * something sent to the run, and a for-each with a branch of its own, are `kind-not-allowed`.
 * Returns for-each id -> its branch's node ids (document order).
 */
function forEachBodies(doc: FlowDocument, edges: FlowDocument['edges'], report: (d: Diagnostic) => void): Map<string, string[]> {
  const bodies = new Map<string, string[]>();
  const index = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const heads = new Set(edges.filter((e) => e.sourceHandle === 'each' && doc.nodes[index.get(e.source)!]?.type === 'flow.forEach').map((e) => e.source));
  for (const each of doc.nodes.filter((n) => heads.has(n.id))) {
    const body = new Set<string>();
    const stack = edges.filter((e) => e.source === each.id && e.sourceHandle === 'each').map((e) => e.target);
    while (stack.length) {
      const id = stack.pop()!;
      if (body.has(id) || id === each.id) continue; // a loop back is reported as a cycle
      body.add(id);
      for (const e of edges) if (e.source === id) stack.push(e.target);
    }
    const ids = doc.nodes.filter((n) => body.has(n.id)).map((n) => n.id);
    bodies.set(each.id, ids);
    for (const id of ids) {
      const i = index.get(id)!;
      const node = doc.nodes[i]!;
      const name = node.label ?? node.id;
      for (const e of edges) {
        if (e.target !== id || body.has(e.source) || (e.source === each.id && e.sourceHandle === 'each')) continue;
        report(diag('foreach-body-entry',
          `${name} runs once per item of "${each.label ?? each.id}", so it cannot also take input from "${e.source}", which is outside that branch`,
          ['edges', doc.edges.indexOf(e)], { nodeId: id, edgeId: e.id }));
      }
      const why = BODY_FORBIDDEN[node.type] ?? (node.type === 'flow.forEach' && heads.has(id) ? 'hold a for-each with a branch of its own' : null);
      if (why) report(diag('kind-not-allowed', `A for-each's branch cannot ${why}`, ['nodes', i, 'type'], { nodeId: id }));
    }
  }
  return bodies;
}

const article = (t: DataType) => (t === 'email' ? 'an email' : t === 'contact' ? 'a contact' : 'a value');
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const idOf = (v: unknown) => (isRecord(v) && typeof v.id === 'string' ? v.id : undefined);

function checkExpressions(spec: NodeKindSpec, params: Record<string, unknown>, report: (message: string, path: (string | number)[]) => void) {
  const expr = new Set(spec.expressionParams ?? []);
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value === 'string') {
      const sources = expr.has(String(path[0])) && path.length === 1 ? (value.trim() ? [value] : []) : templateExpressions(value);
      for (const s of sources) {
        try {
          parseExpression(s);
        } catch (e) {
          report(`${path.join('.')}: ${(e as Error).message}`, path);
        }
      }
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (isRecord(value)) for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(params, []);
}

function buildMachine(
  doc: FlowDocument,
  specs: Map<string, NodeKindSpec>,
  params: Map<string, Record<string, unknown>>,
  incoming: Map<string, (IncomingEdge & { edgeId: string })[]>,
  outType: Map<string, DataType>,
  allEdges: FlowDocument['edges'],
  options: CompileOptions,
  bodies: Map<string, string[]> = new Map(),
): CompiledMachine {
  const compiledNode = (n: FlowDocument['nodes'][number]): CompiledNode => {
    const spec = specs.get(n.id)!;
    const ins = incoming.get(n.id)!.map(({ source, handle }) => ({ source, handle }));
    return { id: n.id, type: n.type, category: spec.category, label: n.label ?? spec.label, params: params.get(n.id)!, incoming: ins, outputType: outType.get(n.id) ?? 'any' };
  };
  // A for-each's branch is a machine of its own (run once per item), not part of the run's drawing.
  const inBody = new Set([...bodies.values()].flat());
  const parentNodes = inBody.size ? doc.nodes.filter((n) => !inBody.has(n.id)) : doc.nodes;
  const edges = inBody.size ? allEdges.filter((e) => !inBody.has(e.source) && !(e.sourceHandle === 'each' && bodies.has(e.source))) : allEdges;
  const nodes: Record<string, CompiledNode> = {};
  for (const n of parentNodes) nodes[n.id] = compiledNode(n);
  const format = options.legacyShape ? LEGACY_MACHINE_FORMAT : options.chainShape ? CHAIN_MACHINE_FORMAT : options.flatShape ? FLAT_MACHINE_FORMAT
    : options.invokedNodes ? INVOKED_MACHINE_FORMAT : MACHINE_FORMAT;
  // Format 3 on: nodes of one state are that state; format 4 on: pure nodes are decided in the step
  // (format 5 has format 4's states: it differs in how they are bound, see MACHINE_FORMAT).
  const decided = format === MACHINE_FORMAT || format === INVOKED_MACHINE_FORMAT;
  const shape: Shape = { flat: decided || format === FLAT_MACHINE_FORMAT, decided };
  const regions = regionsOf({ ...doc, nodes: parentNodes }, specs, params, nodes, edges, options.legacyShape === true, bodies, shape);
  // Format 3: a workflow with one trigger always starts from it, so the run's context starts with
  // it recorded (createRunMachine) and it has no region (a region that is only ever `succeeded` cost
  // a microstep at every start and a state at every step). Kept when it is the only node.
  const onlyTrigger = doc.kind === 'workflow' ? parentNodes.filter((n) => specs.get(n.id)!.category === 'trigger') : [];
  if (shape.flat && onlyTrigger.length === 1 && Object.keys(regions).length > 1) delete regions[onlyTrigger[0]!.id];
  const compiledBodies: Record<string, CompiledBody> = {};
  for (const [eachId, ids] of bodies) {
    const inThis = new Set(ids);
    const bodyNodes = doc.nodes.filter((n) => inThis.has(n.id));
    const bnodes: Record<string, CompiledNode> = {};
    for (const n of bodyNodes) bnodes[n.id] = compiledNode(n);
    const bodyEdges = allEdges.filter((e) => inThis.has(e.source) && inThis.has(e.target));
    compiledBodies[eachId] = {
      nodes: bnodes,
      config: bodyConfig(
        regionsOf({ ...doc, nodes: bodyNodes }, specs, params, bnodes, bodyEdges, false, new Map(), shape),
        bodyNodes.filter((n) => WORK_CATEGORIES.has(specs.get(n.id)!.category)).map((n) => n.id),
      ),
    };
  }
  const workNodes = parentNodes.filter((n) => WORK_CATEGORIES.has(specs.get(n.id)!.category)).map((n) => n.id);
  // A behavior is one long-lived machine: it idles (parked), an activation (a trigger firing) runs
  // the drawing once with fresh node states, and it idles again; a failed activation is recorded
  // and the behavior goes on. Only a cancel ends it. A trigger that fires while an activation is
  // under way is queued (in context, so it is durable) and runs as soon as the machine is idle.
  const config: MachineConfigJson = doc.kind === 'behavior' ? {
    id: 'run',
    initial: 'idle',
    on: { 'run.cancel': { target: '.cancelled' } },
    states: {
      idle: {
        tags: ['waiting', 'idle'],
        always: { guard: { type: 'hasQueuedActivation' }, target: 'active', actions: { type: 'beginQueuedActivation' } },
        on: { 'behavior.activate': { target: 'active', actions: { type: 'beginActivation' } } },
      },
      active: { type: 'parallel', states: regions, onDone: { target: 'finalize' }, on: { 'behavior.activate': { actions: { type: 'queueActivation' } } } },
      finalize: {
        always: [
          { guard: { type: 'nothingRan', params: { workNodes } }, target: 'idle', actions: { type: 'endActivation', params: { status: 'skipped' } } },
          { target: 'idle', actions: { type: 'endActivation', params: { status: 'completed' } } },
        ],
      },
      failed: { always: { target: 'idle', actions: { type: 'endActivation', params: { status: 'failed' } } } },
      cancelled: { type: 'final' },
    },
  } : {
    id: 'run',
    initial: 'active',
    on: { 'run.cancel': { target: '.cancelled' } },
    states: {
      active: { type: 'parallel', states: regions, onDone: { target: 'finalize' } },
      finalize: {
        always: [{ guard: { type: 'nothingRan', params: { workNodes } }, target: 'skipped' }, { target: 'completed' }],
      },
      completed: { type: 'final' },
      skipped: { type: 'final' },
      failed: { type: 'final' },
      cancelled: { type: 'final' },
    },
  };
  return {
    format, docId: doc.id, kind: doc.kind, name: doc.name, version: doc.version, nodes,
    triggers: doc.nodes
      .filter((n) => specs.get(n.id)!.category === 'trigger')
      .map((n) => ({ nodeId: n.id, type: n.type, listensTo: specs.get(n.id)!.listensTo ?? null, params: params.get(n.id)! })),
    config,
    ...(bodies.size ? { bodies: compiledBodies } : {}),
    ...(doc.kind === 'behavior' && doc.settings.audience === 'everyone' ? { audience: 'everyone' as const } : {}),
  };
}

/** What the format changes in the states of nodes (see MACHINE_FORMAT). */
interface Shape {
  /** A chain's node of one state is that state (format 3 on). */
  flat: boolean;
  /** Pure nodes (`DECIDED_IN_STEP`) are decided by the step that reaches them (format 4). */
  decided: boolean;
}

/**
 * The regions of a drawing: one per node (format 1), or one per chain (a node whose only way out
 * leads to a node with no other way in); a for-each in `bodies` runs its branch per item.
 */
function regionsOf(
  doc: FlowDocument,
  specs: Map<string, NodeKindSpec>,
  params: Map<string, Record<string, unknown>>,
  nodes: Record<string, CompiledNode>,
  edges: FlowDocument['edges'],
  legacyShape: boolean,
  bodies: Map<string, string[]>,
  shape: Shape,
): Record<string, MachineConfigJson> {
  const regions: Record<string, MachineConfigJson> = {};
  const single = (n: FlowDocument['nodes'][number]) => {
    const spec = specs.get(n.id)!;
    const ins = nodes[n.id]!.incoming;
    const p = params.get(n.id)!;
    return spec.category === 'trigger' ? triggerRegion(n.id) : n.type === 'flow.approval' ? approvalRegion(n.id, p, ins)
      : n.type === 'flow.waitForEvent' ? waitRegion(n.id, p, ins)
      : shape.decided && decidedInStep(n.type, p) ? decidedRegion(n.id, ins) : invokeRegion(n.id, n.type, spec, p, ins, bodies.has(n.id));
  };
  if (legacyShape) {
    for (const n of doc.nodes) regions[n.id] = single(n);
    return regions;
  }
  // Chains become sequential states of one region: nodes not reached yet are not active states, so
  // a step costs what the active nodes cost. Forks and joins stay parallel regions that wait on their inputs.
  for (const chain of chainsOf(doc, specs, edges)) {
    const head = chain[0]!.id;
    if (chain.length === 1) regions[head] = single(chain[0]!);
    else {
      regions[head] = chainRegion(shape, chain.map((n, i) => ({
        id: n.id, type: n.type, spec: specs.get(n.id)!, params: params.get(n.id)!, incoming: nodes[n.id]!.incoming,
        next: chain[i + 1] ? { id: chain[i + 1]!.id, handle: edges.find((e) => e.source === n.id)!.sourceHandle } : null,
        branch: bodies.has(n.id),
      })));
    }
  }
  return regions;
}

/**
 * A for-each's branch as a machine run once per item: the drawing's regions, then how the item
 * ended (`completed`, `skipped` when no work node ran, `failed`). Its context starts with the
 * for-each's `each` output fired, so the branch's first nodes are ready at once.
 */
function bodyConfig(regions: Record<string, MachineConfigJson>, workNodes: string[]): MachineConfigJson {
  return {
    id: 'run',
    initial: 'active',
    states: {
      active: { type: 'parallel', states: regions, onDone: { target: 'finalize' } },
      finalize: {
        always: [{ guard: { type: 'nothingRan', params: { workNodes } }, target: 'skipped' }, { target: 'completed' }],
      },
      completed: { type: 'final', output: { status: 'completed' } },
      skipped: { type: 'final', output: { status: 'skipped' } },
      failed: { type: 'final', output: { status: 'failed' } },
    },
  };
}

/**
 * A for-each that runs a branch per item, as the states of its node: `running` picks the items
 * (the node's implementation: the list, `where`, `maxItems`), `items` runs one child machine per
 * item (all at once, or one after another), `collecting` turns the items' ends into the node's
 * outcome, so `onDone` / `onError` are the node's usual transitions.
 */
function branchStates(nodeId: string, spec: NodeKindSpec, p: Record<string, unknown>, onDone: unknown, onError: unknown[]) {
  const sequential = p.mode === 'sequential';
  const item = `${nodeId}.item.*`;
  return {
    running: {
      tags: ['running'],
      invoke: {
        id: nodeId, src: 'flow.forEach', input: { nodeId, expressionParams: spec.expressionParams ?? [], branch: true },
        onDone: { target: 'items', actions: [{ type: 'beginItems', params: { nodeId } }] }, onError,
      },
    },
    items: {
      // Running or waiting as its items are (runStatusOf reads them): a run whose items only wait is parked.
      tags: ['items'],
      entry: { type: 'spawnItems', params: { nodeId, sequential } },
      always: { guard: { type: 'itemsDone', params: { nodeId, sequential } }, target: 'collecting' },
      on: {
        [`xstate.snapshot.${item}`]: { guard: { type: 'itemProgressed', params: { nodeId } }, actions: { type: 'recordItemProgress', params: { nodeId } } },
        [`xstate.done.actor.${item}`]: { actions: [{ type: 'recordItem', params: { nodeId } }, { type: 'spawnItems', params: { nodeId, sequential } }] },
        [`xstate.error.actor.${item}`]: { actions: [{ type: 'recordItem', params: { nodeId } }, { type: 'spawnItems', params: { nodeId, sequential } }] },
      },
      exit: { type: 'stopItems', params: { nodeId } },
    },
    collecting: {
      tags: ['running'],
      invoke: { id: nodeId, src: 'sys.forEach.collect', input: { nodeId, expressionParams: [] }, onDone, onError },
    },
  };
}

const final = { type: 'final' };

function triggerRegion(nodeId: string): MachineConfigJson {
  return {
    initial: 'pending',
    states: {
      pending: {
        always: [
          { guard: { type: 'isFiredTrigger', params: { nodeId } }, target: 'succeeded', actions: { type: 'recordTrigger', params: { nodeId } } },
          { target: 'skipped', actions: { type: 'recordSkip', params: { nodeId } } },
        ],
      },
      succeeded: final,
      skipped: final,
    },
  };
}

/** A pure node with no retry or continue-on-error policy: format 4 decides it in the step that reaches it. */
const decidedInStep = (type: string, p: Record<string, unknown>) =>
  DECIDED_IN_STEP.has(type) && ((p.retry as { maxAttempts?: number } | undefined)?.maxAttempts ?? 1) <= 1 && p.continueOnError !== true;

/**
 * The state of a node decided in the step that reaches it: its entry records the outcome
 * (`decide`), as `recordOutcome` / `recordFailure` would from an invoked actor's end, and its
 * eventless transitions leave at once: `leave` lists them after the failure's.
 */
const decidingState = (nodeId: string, leave: unknown[]) => ({
  tags: ['running'],
  entry: { type: 'decide', params: { nodeId } },
  always: [{ guard: { type: 'decisionFailed', params: { nodeId } }, target: '#run.failed' }, ...leave],
});

function decidedRegion(nodeId: string, incoming: IncomingEdge[]): MachineConfigJson {
  return {
    initial: 'pending',
    states: {
      pending: pendingState(nodeId, incoming),
      running: decidingState(nodeId, [{ target: 'succeeded' }]),
      succeeded: final,
      failed: final,
      skipped: final,
    },
  };
}

const pendingState = (nodeId: string, incoming: IncomingEdge[]) => ({
  always: [
    { guard: { type: 'inputsDead', params: { incoming } }, target: 'skipped', actions: { type: 'recordSkip', params: { nodeId } } },
    { guard: { type: 'inputsReady', params: { incoming } }, target: 'running' },
  ],
});

function invokeRegion(nodeId: string, type: string, spec: NodeKindSpec, p: Record<string, unknown>, incoming: IncomingEdge[], branch = false): MachineConfigJson {
  const retry = (p.retry ?? { maxAttempts: 1, backoffMs: 0, factor: 1 }) as { maxAttempts: number; backoffMs: number; factor: number };
  const continueOnError = p.continueOnError === true;
  const onError: unknown[] = [];
  if (retry.maxAttempts > 1) {
    onError.push({ guard: { type: 'canRetry', params: { nodeId, maxAttempts: retry.maxAttempts } }, target: 'retrying', actions: { type: 'recordAttempt', params: { nodeId } } });
  }
  onError.push(
    continueOnError
      ? { target: 'failed', actions: { type: 'recordFailure', params: { nodeId, continueOnError: true } } }
      : { target: '#run.failed', actions: { type: 'recordFailure', params: { nodeId, continueOnError: false } } },
  );
  const waits = type === 'flow.delay';
  const onDone = { target: 'succeeded', actions: { type: 'recordOutcome', params: { nodeId } } };
  return {
    initial: 'pending',
    states: {
      pending: pendingState(nodeId, incoming),
      ...(branch ? branchStates(nodeId, spec, p, onDone, onError) : {
        running: {
          tags: waits ? ['waiting'] : ['running'],
          invoke: { id: nodeId, src: type, input: { nodeId, expressionParams: spec.expressionParams ?? [] }, onDone, onError },
        },
      }),
      ...(retry.maxAttempts > 1
        ? { retrying: { tags: ['waiting'], invoke: { id: `${nodeId}.retry`, src: 'sys.backoff', input: { nodeId, backoffMs: retry.backoffMs, factor: retry.factor }, onDone: { target: 'running' } } } }
        : {}),
      succeeded: final,
      failed: final,
      skipped: final,
    },
  };
}

function approvalRegion(nodeId: string, p: Record<string, unknown>, incoming: IncomingEdge[]): MachineConfigJson {
  const decide = (decision: 'approve' | 'reject', handle: string) => ({
    guard: { type: 'isDecisionFor', params: { nodeId, decision } },
    target: 'succeeded',
    actions: { type: 'recordDecision', params: { nodeId, handle } },
  });
  return {
    initial: 'pending',
    states: {
      pending: pendingState(nodeId, incoming),
      running: {
        tags: ['waiting', 'approval'],
        entry: { type: 'recordApprovalRequest', params: { nodeId, request: { title: p.title, details: p.details } } },
        on: { 'approval.decide': [decide('approve', 'approved'), decide('reject', 'rejected')] },
      },
      succeeded: final,
      skipped: final,
    },
  };
}

type Transition = { target: string; actions: unknown[] };

/**
 * Waiting for an event: a state an `event.deliver` for this node ends (the runtime sends it when
 * an event's payload field equals the rendered key), or, with a timeout, a durable timer.
 */
function waitingForEvent(nodeId: string, p: Record<string, unknown>, onEvent: (record: unknown) => Transition, onTimeout: (record: unknown) => Transition) {
  const ms = typeof p.timeout === 'string' && p.timeout ? parseDuration(p.timeout) : null;
  return {
    tags: ['waiting', 'event'],
    entry: { type: 'recordWaitRequest', params: { nodeId, request: { event: p.event, field: p.field, key: p.key } } },
    on: { 'event.deliver': [{ guard: { type: 'isDeliveryFor', params: { nodeId } }, ...onEvent({ type: 'recordDelivery', params: { nodeId } }) }] },
    ...(ms ? { invoke: { id: `${nodeId}.timeout`, src: 'sys.timeout', input: { nodeId, expressionParams: [], backoffMs: ms }, onDone: onTimeout({ type: 'recordTimeout', params: { nodeId } }) } } : {}),
  };
}

function waitRegion(nodeId: string, p: Record<string, unknown>, incoming: IncomingEdge[]): MachineConfigJson {
  const to = (record: unknown): Transition => ({ target: 'succeeded', actions: [record] });
  return {
    initial: 'pending',
    states: {
      pending: pendingState(nodeId, incoming),
      running: waitingForEvent(nodeId, p, to, to),
      succeeded: final,
      skipped: final,
    },
  };
}

/**
 * Splits the graph into chains: `v` continues into `w` when `v` (not a trigger) has exactly one
 * outgoing edge, to `w`, and `w` has no other incoming edge. Every non-trigger node is in exactly
 * one chain; triggers are chains of their own. Deterministic: document order of the heads.
 */
function chainsOf(doc: FlowDocument, specs: Map<string, NodeKindSpec>, edges: FlowDocument['edges']): FlowDocument['nodes'][] {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const outs = new Map<string, FlowDocument['edges']>();
  const insCount = new Map<string, number>();
  for (const e of edges) {
    outs.set(e.source, [...(outs.get(e.source) ?? []), e]);
    insCount.set(e.target, (insCount.get(e.target) ?? 0) + 1);
  }
  const isTrigger = (id: string) => specs.get(id)?.category === 'trigger';
  const continuation = (id: string): string | null => {
    if (isTrigger(id)) return null;
    const out = outs.get(id) ?? [];
    if (out.length !== 1) return null;
    const t = out[0]!.target;
    return insCount.get(t) === 1 && !isTrigger(t) ? t : null;
  };
  const continued = new Set<string>();
  for (const n of doc.nodes) {
    const t = continuation(n.id);
    if (t) continued.add(t);
  }
  const chains: FlowDocument['nodes'][] = [];
  for (const n of doc.nodes) {
    if (continued.has(n.id)) continue;
    const chain = [n];
    for (let t = continuation(n.id); t; t = continuation(t)) chain.push(byId.get(t)!);
    chains.push(chain);
  }
  return chains;
}

interface ChainNode {
  id: string;
  type: string;
  spec: NodeKindSpec;
  params: Record<string, unknown>;
  incoming: IncomingEdge[];
  /** The next node of the chain and the output handle that leads there. */
  next: { id: string; handle: string } | null;
  /** A for-each that runs its branch per item. */
  branch?: boolean;
}

const nodeStateId = (id: string) => `n_${id}`;
const chainDoneId = (head: string) => `d_${head}`;

/**
 * One region for a chain: `$pending` until the head's inputs resolve, then one state per node, then
 * `$done`. A node with steps (`running`, `retrying`; a for-each's) is a compound state of them; in
 * format 3 a node of one step is that step's state (one state fewer to enter, exit and read). A
 * node that does not take the chain's handle (a false condition, a rejected approval, a failure
 * without continue-on-error) ends the chain and records the rest as skipped, so joins downstream
 * see every input resolved.
 */
function chainRegion(shape: Shape, chain: ChainNode[]): MachineConfigJson {
  const head = chain[0]!;
  const done = `#${chainDoneId(head.id)}`;
  const rest = (i: number) => chain.slice(i + 1).map((c) => c.id);
  const skipRest = (i: number) => (rest(i).length ? [{ type: 'recordSkipMany', params: { nodeIds: rest(i) } }] : []);
  const states: Record<string, unknown> = {
    $pending: {
      always: [
        { guard: { type: 'inputsDead', params: { incoming: head.incoming } }, target: done, actions: [{ type: 'recordSkipMany', params: { nodeIds: chain.map((c) => c.id) } }] },
        { guard: { type: 'inputsReady', params: { incoming: head.incoming } }, target: `#${nodeStateId(head.id)}` },
      ],
    },
    $done: { id: chainDoneId(head.id), type: 'final' },
  };
  // A node's state: its steps nested under it; in format 3 a node of one step is that step.
  const nodeState = (id: string, steps: Record<string, unknown>) =>
    shape.flat && Object.keys(steps).length === 1 && steps.running && !NODE_REGION_STATES.has(id)
      ? { ...(steps.running as object), id: nodeStateId(id) }
      : { id: nodeStateId(id), initial: 'running', states: steps };
  chain.forEach((c, i) => {
    const onward = (record: unknown, handle: string | null) =>
      c.next && handle !== null && handle === c.next.handle
        ? { target: `#${nodeStateId(c.next.id)}`, actions: [record] }
        : { target: done, actions: [record, ...skipRest(i)] };
    if (c.type === 'flow.waitForEvent') {
      states[c.id] = nodeState(c.id, { running: waitingForEvent(c.id, c.params, (r) => onward(r, 'out') as Transition, (r) => onward(r, 'timeout') as Transition) });
      return;
    }
    if (c.type === 'flow.approval') {
      const decide = (decision: 'approve' | 'reject', handle: string) => ({
        guard: { type: 'isDecisionFor', params: { nodeId: c.id, decision } },
        ...onward({ type: 'recordDecision', params: { nodeId: c.id, handle } }, handle),
      });
      states[c.id] = nodeState(c.id, {
        running: {
          tags: ['waiting', 'approval'],
          entry: { type: 'recordApprovalRequest', params: { nodeId: c.id, request: { title: c.params.title, details: c.params.details } } },
          on: { 'approval.decide': [decide('approve', 'approved'), decide('reject', 'rejected')] },
        },
      });
      return;
    }
    if (shape.decided && decidedInStep(c.type, c.params)) {
      states[c.id] = nodeState(c.id, {
        running: decidingState(c.id, [
          ...(c.next ? [{ guard: { type: 'decided', params: { nodeId: c.id, handle: c.next.handle } }, target: `#${nodeStateId(c.next.id)}` }] : []),
          { target: done, actions: skipRest(i) },
        ]),
      });
      return;
    }
    const retry = (c.params.retry ?? { maxAttempts: 1, backoffMs: 0, factor: 1 }) as { maxAttempts: number; backoffMs: number; factor: number };
    const continueOnError = c.params.continueOnError === true;
    const record = { type: 'recordOutcome', params: { nodeId: c.id } };
    const onDone: unknown[] = [];
    if (c.next) onDone.push({ guard: { type: 'tookHandle', params: { handle: c.next.handle } }, target: `#${nodeStateId(c.next.id)}`, actions: [record] });
    onDone.push({ target: done, actions: [record, ...skipRest(i)] });
    const onError: unknown[] = [];
    if (retry.maxAttempts > 1) {
      onError.push({ guard: { type: 'canRetry', params: { nodeId: c.id, maxAttempts: retry.maxAttempts } }, target: 'retrying', actions: { type: 'recordAttempt', params: { nodeId: c.id } } });
    }
    onError.push(continueOnError
      ? onward({ type: 'recordFailure', params: { nodeId: c.id, continueOnError: true } }, 'out')
      : { target: '#run.failed', actions: { type: 'recordFailure', params: { nodeId: c.id, continueOnError: false } } });
    states[c.id] = nodeState(c.id, {
      ...(c.branch ? branchStates(c.id, c.spec, c.params, onDone, onError) : {
        running: {
          tags: c.type === 'flow.delay' ? ['waiting'] : ['running'],
          invoke: { id: c.id, src: c.type, input: { nodeId: c.id, expressionParams: c.spec.expressionParams ?? [] }, onDone, onError },
        },
      }),
      ...(retry.maxAttempts > 1
        ? { retrying: { tags: ['waiting'], invoke: { id: `${c.id}.retry`, src: 'sys.backoff', input: { nodeId: c.id, backoffMs: retry.backoffMs, factor: retry.factor }, onDone: { target: 'running' } } } }
        : {}),
    });
  });
  return { initial: '$pending', states };
}
