/** A chain node's params: a filter that passes, business hours open all week (the bench's clock is pinned to a Wednesday noon), a title. */
const paramsOf = (type: string, i: number): { title: string } => (
  type === 'condition.expression' ? { expression: 'true' }
  : type === 'condition.businessHours' ? { timezone: 'UTC', days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '23:59' }
  : { title: `Step ${i}` }) as never;

/** Flow documents of a given size for benchmarks. */
export function chainDoc(n: number, type = 'action.createTask', id = `chain-${n}`) {
  const nodes = [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} }];
  const edges: { id: string; source: string; sourceHandle: string; target: string; targetHandle: string }[] = [];
  for (let i = 1; i < n; i++) {
    nodes.push({ id: `n${i}`, type, position: { x: i * 200, y: 0 }, params: paramsOf(type, i) });
    edges.push({ id: `e${i}`, source: i === 1 ? 'start' : `n${i - 1}`, sourceHandle: i === 1 || type !== 'flow.approval' ? 'out' : 'approved', target: `n${i}`, targetHandle: 'in' });
  }
  return { schemaVersion: 1, id, kind: 'workflow', name: `Chain of ${n}`, nodes, edges };
}

/** A branching graph: fan-out of if-nodes and joins, for compile benchmarks. */
export function meshDoc(n: number) {
  const nodes: { id: string; type: string; position: { x: number; y: number }; params: Record<string, unknown> }[] = [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
  ];
  const edges: { id: string; source: string; sourceHandle: string; target: string; targetHandle: string }[] = [];
  for (let i = 1; i < n; i++) {
    const kind = i % 3;
    nodes.push({
      id: `n${i}`, position: { x: i * 50, y: (i % 7) * 80 },
      ...(kind === 0 ? { type: 'condition.if', params: { expression: `trigger.x > ${i}` } }
        : kind === 1 ? { type: 'action.createTask', params: { title: `Task {{ trigger.x }} ${i}`, dueIn: '1 hour' } }
        : { type: 'action.sendNotification', params: { title: `Note ${i}` } }),
    });
    const parents = [Math.floor((i - 1) / 2), Math.max(0, i - 3)].filter((p, k, a) => a.indexOf(p) === k);
    for (const p of parents) {
      const src = nodes[p]!;
      edges.push({ id: `e${edges.length}`, source: src.id, sourceHandle: src.type === 'condition.if' ? (i % 2 ? 'true' : 'false') : 'out', target: `n${i}`, targetHandle: 'in' });
    }
  }
  return { schemaVersion: 1, id: `mesh-${n}`, kind: 'workflow', name: `Mesh of ${n}`, nodes, edges };
}
