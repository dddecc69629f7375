import { compile, type CompileOptions } from '../compiler/compile';

type Node = { id: string; type: string; params?: Record<string, unknown> };

/** A flow document for tests: nodes laid out in a row, edges as `[source, target, sourceHandle?]`. */
export const doc = (id: string, nodes: Node[], edges: [string, string, string?][], kind = 'workflow') => ({
  schemaVersion: 1, id, kind, name: id,
  nodes: nodes.map((n, i) => ({ ...n, params: n.params ?? {}, position: { x: i * 100, y: 0 } })),
  edges: edges.map(([source, target, sourceHandle], i) => ({ id: `e${i}`, source, target, ...(sourceHandle ? { sourceHandle } : {}) })),
});

/** A document's compiled machine; a document that does not compile fails the test with its diagnostics. */
export const compiled = (d: unknown, options: CompileOptions = {}) => {
  const r = compile(d, undefined, options);
  if (!r.machine) throw new Error(JSON.stringify(r.diagnostics));
  return r.machine;
};
