import {
  defaultCatalog,
  joinDataTypes,
  portAccepts,
  type DataType,
  type FlowDocument,
  type FlowEdge,
  type FlowNode,
  type NodeCategory,
  type NodeKindSpec,
} from '@switchyard/schema';

/**
 * Pure helpers between the flow document and the canvas: ids, port-type checks (the compiler's
 * rule, applied while the user drags a connection), and clipboard copies. No React in here.
 */

export type GraphNode = FlowNode;
export type GraphEdge = FlowEdge;

/** Exactly what the history and the clipboard store: the document's own node and edge shapes. */
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export const specOf = (type: string): NodeKindSpec | undefined => defaultCatalog.get(type);

/** `action.createTask` -> `createTask`, `createTask_2`, ... (ids must stay valid XState keys). */
export function newNodeId(type: string, taken: ReadonlySet<string>): string {
  const base = (type.split('.').pop() ?? 'node').replace(/[^A-Za-z0-9_-]/g, '') || 'node';
  const stem = /^[A-Za-z]/.test(base) ? base : `n${base}`;
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}_${i}`)) return `${stem}_${i}`;
}

export function newEdgeId(taken: ReadonlySet<string>): string {
  for (let i = taken.size + 1; ; i++) if (!taken.has(`e${i}`)) return `e${i}`;
}

/** A document id from a name: "Auto respond!" -> "auto-respond-k3f9". */
export function docIdFromName(name: string, random: () => number = Math.random): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const suffix = Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  const stem = /^[a-z]/.test(slug) ? slug : `flow-${slug}`.replace(/-+$/, '');
  return `${stem}-${suffix}`;
}

/**
 * The data type a node's (first) output carries: declared, or for `inherit` whatever all its
 * inputs agree on (else `any`) — the same inference the compiler runs in topological order.
 */
export function outputType(graph: Graph, nodeId: string, seen: Set<string> = new Set()): DataType {
  const node = graph.nodes.find((n) => n.id === nodeId);
  const spec = node ? specOf(node.type) : undefined;
  if (!spec) return 'any';
  const declared = spec.outputs[0]?.dataType ?? 'any';
  if (declared !== 'inherit') return declared;
  if (seen.has(nodeId)) return 'any';
  seen.add(nodeId);
  const types = graph.edges.filter((e) => e.target === nodeId).map((e) => outputType(graph, e.source, seen));
  return joinDataTypes(types);
}

const article = (t: DataType) => (t === 'email' ? 'an email' : t === 'contact' ? 'a contact' : 'a value');

export interface ConnectionAttempt {
  source: string;
  sourceHandle?: string | null | undefined;
  target: string;
  targetHandle?: string | null | undefined;
}

/** Why a connection may not be drawn, in words for the status line; null when it may. */
export function connectionProblem(graph: Graph, c: ConnectionAttempt): string | null {
  if (c.source === c.target) return 'A node cannot connect to itself.';
  const source = graph.nodes.find((n) => n.id === c.source);
  const target = graph.nodes.find((n) => n.id === c.target);
  const sourceSpec = source && specOf(source.type);
  const targetSpec = target && specOf(target.type);
  if (!source || !target || !sourceSpec || !targetSpec) return 'That node no longer exists.';
  if (targetSpec.inputs.length === 0) return `${targetSpec.label} is a trigger: it starts the flow and takes no input.`;
  const targetPort = targetSpec.inputs.find((p) => p.id === (c.targetHandle ?? 'in')) ?? targetSpec.inputs[0]!;
  const sourceHandle = c.sourceHandle ?? sourceSpec.outputs[0]?.id ?? 'out';
  if (graph.edges.some((e) => e.source === c.source && e.sourceHandle === sourceHandle && e.target === c.target)) {
    return 'These two are already connected.';
  }
  const want = targetPort.dataType;
  const got = outputType(graph, source.id);
  if (!portAccepts(want, got)) {
    return `${targetSpec.label} needs ${article(want)}, but ${source.label ?? sourceSpec.label} gives ${article(got)}.`;
  }
  if (wouldLoop(graph, c.source, c.target)) return 'That would make a loop: workflows run one way, from the trigger on.';
  return null;
}

function wouldLoop(graph: Graph, source: string, target: string): boolean {
  const stack = [target];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === source) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of graph.edges) if (e.source === id) stack.push(e.target);
  }
  return false;
}

/**
 * Copies of the given nodes (and the edges between them) with fresh ids, moved by `offset`, for
 * paste and duplicate. Edges to nodes outside the selection are dropped.
 */
export function cloneSubgraph(graph: Graph, clip: Graph, offset = { x: 40, y: 40 }): Graph {
  const takenNodes = new Set(graph.nodes.map((n) => n.id));
  const takenEdges = new Set(graph.edges.map((e) => e.id));
  const rename = new Map<string, string>();
  const nodes = clip.nodes.map((n) => {
    const id = newNodeId(n.type, takenNodes);
    takenNodes.add(id);
    rename.set(n.id, id);
    return { ...n, id, params: structuredClone(n.params), position: { x: n.position.x + offset.x, y: n.position.y + offset.y } };
  });
  const edges: GraphEdge[] = [];
  for (const e of clip.edges) {
    const source = rename.get(e.source);
    const target = rename.get(e.target);
    if (!source || !target) continue;
    const id = newEdgeId(takenEdges);
    takenEdges.add(id);
    edges.push({ ...e, id, source, target });
  }
  return { nodes, edges };
}

/** The document the editor saves: the loaded one with the canvas's nodes and edges. */
export function toDocument(base: FlowDocument, graph: Graph): FlowDocument {
  return { ...base, nodes: graph.nodes, edges: graph.edges };
}

export const CATEGORY_ORDER: readonly NodeCategory[] = ['trigger', 'condition', 'action', 'agent', 'flow'];

/** Trigger that a test run or event starts from: the selected one, else the first on the canvas. */
export function primaryTrigger(graph: Graph, selectedId?: string | null): GraphNode | undefined {
  const triggers = graph.nodes.filter((n) => specOf(n.type)?.category === 'trigger');
  return triggers.find((n) => n.id === selectedId) ?? triggers[0];
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

const overlaps = (a: Rect, b: Rect, gap: number) =>
  a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;

/**
 * Where a node of `size` added by a click goes: centred on `around` (the middle of the visible
 * canvas) if that is free, else the nearest free cell of a grid around it, ring by ring, so a
 * new node never lands on top of another. Cells inside `visible` (the part of the canvas on
 * screen) come first, so the node appears where the user is looking; only a full view sends it
 * beyond the edge.
 */
export function freeSpot(
  occupied: readonly Rect[],
  around: { x: number; y: number },
  size: { width: number; height: number },
  visible?: Rect,
  gap = 24,
): { x: number; y: number } {
  const origin = { x: Math.round(around.x - size.width / 2), y: Math.round(around.y - size.height / 2) };
  const stepX = size.width + gap;
  const stepY = size.height + gap;
  const free = (x: number, y: number) => !occupied.some((r) => overlaps({ x, y, width: size.width, height: size.height }, r, gap / 2));
  const inView = (x: number, y: number) =>
    !visible || (x >= visible.x && y >= visible.y && x + size.width <= visible.x + visible.width && y + size.height <= visible.y + visible.height);
  let outside: { x: number; y: number } | null = null;
  for (let ring = 0; ring <= 50; ring++) {
    const cells: Array<{ dx: number; dy: number }> = [];
    for (let dy = -ring; dy <= ring; dy++) {
      for (let dx = -ring; dx <= ring; dx++) if (Math.max(Math.abs(dx), Math.abs(dy)) === ring) cells.push({ dx, dy });
    }
    // Nearest first (in pixels), then right of and below before left of and above.
    cells.sort((a, b) => Math.hypot(a.dx * stepX, a.dy * stepY) - Math.hypot(b.dx * stepX, b.dy * stepY) || b.dx - a.dx || b.dy - a.dy);
    for (const { dx, dy } of cells) {
      const x = origin.x + dx * stepX;
      const y = origin.y + dy * stepY;
      if (!free(x, y)) continue;
      if (inView(x, y)) return { x, y };
      outside ??= { x, y };
    }
    // Once the rings span the whole view, every cell on screen was tried: the view is full, so the
    // nearest free cell beyond it will do.
    const spansView =
      !visible ||
      (origin.x - ring * stepX <= visible.x &&
        origin.x + ring * stepX + size.width >= visible.x + visible.width &&
        origin.y - ring * stepY <= visible.y &&
        origin.y + ring * stepY + size.height >= visible.y + visible.height);
    if (spansView && outside) return outside;
  }
  if (outside) return outside;
  // A canvas this full: below everything.
  const bottom = Math.max(...occupied.map((r) => r.y + r.height));
  return { x: origin.x, y: bottom + gap };
}
