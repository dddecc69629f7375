/** What a card's preview needs of a flow (from `templates.search` / `templates.get`). */
export interface FlowPreviewData {
  id: string;
  kind: string;
  name: string;
  nodes: { id: string; type: string; label: string | null; x: number; y: number }[];
  edges: { source: string; target: string }[];
}

const NODE_W = 150;
const NODE_H = 44;

const categoryOf = (type: string) => type.split('.')[0] ?? 'action';
/** Labelled previews are drawn at this scale of the canvas (narrower boxes shrink them further), so text reads the same size in each. */
const LABEL_SCALE = 0.8;
const LABEL_CHARS = 16;
const shorten = (s: string) => (s.length > LABEL_CHARS ? `${s.slice(0, LABEL_CHARS - 1).trimEnd()}…` : s);

/**
 * A read-only drawing of a flow from its document: nodes where the canvas has them, coloured by
 * category like the editor's nodes, edges as curves. Plain SVG (no canvas library), so a page of
 * cards stays light; it scales to the box it is given.
 */
export function FlowPreview({ flow, height = 120, labels = false }: { flow: FlowPreviewData; height?: number; labels?: boolean }) {
  if (flow.nodes.length === 0) return <div className="mp-preview mp-preview--empty" style={{ height }}>Empty flow</div>;
  const xs = flow.nodes.map((n) => n.x);
  const ys = flow.nodes.map((n) => n.y);
  const minX = Math.min(...xs) - 20;
  const minY = Math.min(...ys) - 20;
  const w = Math.max(...xs) - minX + NODE_W + 20;
  const h = Math.max(...ys) - minY + NODE_H + 20;
  const at = new Map(flow.nodes.map((n) => [n.id, n]));
  return (
    <svg
      className="mp-preview"
      viewBox={`${minX} ${minY} ${w} ${h}`}
      // A card's preview fills a box of fixed height; a labelled one keeps its own proportions at one scale.
      style={labels ? { width: w * LABEL_SCALE, maxWidth: '100%', height: 'auto', maxHeight: height * 2, margin: '0 auto' } : { height }}
      preserveAspectRatio="xMidYMid meet"
      role="img"
      aria-label={`Preview of “${flow.name}”: ${flow.nodes.length} steps`}
      data-testid="flow-preview"
    >
      {flow.edges.map((e, i) => {
        const s = at.get(e.source);
        const t = at.get(e.target);
        if (!s || !t) return null;
        const x1 = s.x + NODE_W;
        const y1 = s.y + NODE_H / 2;
        const x2 = t.x;
        const y2 = t.y + NODE_H / 2;
        const dx = Math.max(30, (x2 - x1) / 2);
        return <path key={i} className="mp-preview__edge" d={`M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`} />;
      })}
      {flow.nodes.map((n) => (
        <g key={n.id} className={`mp-preview__node mp-preview__node--${categoryOf(n.type)}`}>
          <rect x={n.x} y={n.y} width={NODE_W} height={NODE_H} rx={8} />
          <rect className="mp-preview__stripe" x={n.x} y={n.y} width={6} height={NODE_H} rx={3} />
          {labels ? (
            <text x={n.x + 16} y={n.y + NODE_H / 2 + 5}>
              <title>{n.label ?? n.type}</title>
              {shorten(n.label ?? n.type)}
            </text>
          ) : (
            <rect className="mp-preview__line" x={n.x + 16} y={n.y + NODE_H / 2 - 4} width={NODE_W * 0.55} height={8} rx={4} />
          )}
        </g>
      ))}
    </svg>
  );
}
