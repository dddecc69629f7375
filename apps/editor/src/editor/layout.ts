import type { Graph } from './graph';

const NODE_W = 240;
const NODE_H = 96;

/**
 * Left-to-right layered layout with elkjs, loaded on first use so the canvas does not pay for
 * it up front. Returns new positions by node id; the caller commits them as one undo step.
 */
export async function layeredLayout(graph: Graph, sizes: ReadonlyMap<string, { width: number; height: number }>): Promise<Map<string, { x: number; y: number }>> {
  const { default: ELK } = await import('elkjs/lib/elk.bundled.js');
  const elk = new ELK();
  const result = await elk.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.spacing.nodeNode': '48',
      'elk.layered.spacing.nodeNodeBetweenLayers': '72',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: graph.nodes.map((n) => ({ id: n.id, width: sizes.get(n.id)?.width ?? NODE_W, height: sizes.get(n.id)?.height ?? NODE_H })),
    edges: graph.edges
      .filter((e) => graph.nodes.some((n) => n.id === e.source) && graph.nodes.some((n) => n.id === e.target))
      .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  });
  return new Map((result.children ?? []).map((c) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
}
