import { stableStringify } from '@switchyard/actors';
import { defaultCatalog, type FlowDocument, type FlowEdge, type FlowNode, type Template } from '@switchyard/schema';

export interface NodeChange { flow: string; nodeId: string; type: string; label: string }
export interface BundleDiff {
  flows: { added: string[]; removed: string[]; changed: string[] };
  nodes: { added: NodeChange[]; removed: NodeChange[]; changed: NodeChange[] };
  agents: { added: string[]; removed: string[]; changed: { name: string; fields: string[] }[] };
  permissions: { added: string[]; removed: string[] };
  variables: { added: string[]; removed: string[] };
}

const same = (a: unknown, b: unknown) => stableStringify(a) === stableStringify(b);
/** What counts as a node's content: where it sits on the canvas does not. */
const content = (n: FlowNode) => ({ type: n.type, typeVersion: n.typeVersion, label: n.label, params: n.params });
/** A step in words: its label, else its kind's name with its id ("Create task (task)"). */
const stepLabel = (n: FlowNode) => n.label ?? `${defaultCatalog.get(n.type)?.label ?? n.type} (${n.id})`;
const change = (flow: string, n: FlowNode): NodeChange => ({ flow, nodeId: n.id, type: n.type, label: stepLabel(n) });

/** What changes between two versions of a template: flows, nodes, agents, permissions, variables. */
export function diffBundles(from: Template, to: Template, fromPermissions: string[], toPermissions: string[]): BundleDiff {
  const d: BundleDiff = {
    flows: { added: [], removed: [], changed: [] },
    nodes: { added: [], removed: [], changed: [] },
    agents: { added: [], removed: [], changed: [] },
    permissions: { added: toPermissions.filter((p) => !fromPermissions.includes(p)), removed: fromPermissions.filter((p) => !toPermissions.includes(p)) },
    variables: { added: to.variables.filter((v) => !from.variables.some((o) => o.key === v.key)).map((v) => v.label), removed: from.variables.filter((v) => !to.variables.some((n) => n.key === v.key)).map((v) => v.label) },
  };
  for (const doc of to.documents) {
    const old = from.documents.find((o) => o.id === doc.id);
    if (!old) {
      d.flows.added.push(doc.name);
      continue;
    }
    let changed = !same(old.edges.map((e) => [e.source, e.sourceHandle, e.target, e.targetHandle]), doc.edges.map((e) => [e.source, e.sourceHandle, e.target, e.targetHandle]));
    for (const n of doc.nodes) {
      const o = old.nodes.find((x) => x.id === n.id);
      if (!o) d.nodes.added.push(change(doc.name, n));
      else if (!same(content(o), content(n))) d.nodes.changed.push(change(doc.name, n));
      else continue;
      changed = true;
    }
    for (const o of old.nodes) {
      if (!doc.nodes.some((n) => n.id === o.id)) {
        d.nodes.removed.push(change(doc.name, o));
        changed = true;
      }
    }
    if (changed) d.flows.changed.push(doc.name);
  }
  for (const o of from.documents) if (!to.documents.some((n) => n.id === o.id)) d.flows.removed.push(o.name);
  for (const a of to.agents) {
    const o = from.agents.find((x) => x.ref === a.ref);
    if (!o) {
      d.agents.added.push(a.name);
      continue;
    }
    const fields = (['description', 'systemPrompt', 'skills', 'tools', 'caps'] as const).filter((f) => !same(o[f], a[f]));
    if (fields.length) d.agents.changed.push({ name: a.name, fields });
  }
  for (const o of from.agents) if (!to.agents.some((a) => a.ref === o.ref)) d.agents.removed.push(o.name);
  return d;
}

export interface MergeConflict { nodeId: string; label: string; message: string }

/**
 * A three-way merge of one flow, node by node and edge by edge: `base` is what the install (or
 * the last upgrade) wrote, `mine` the user's current version, `theirs` the new template version.
 * A node only one side changed takes that side; a node both changed differently is a conflict
 * and keeps the user's node. Positions follow the user.
 */
export function mergeDocuments(base: FlowDocument, mine: FlowDocument, theirs: FlowDocument): { document: FlowDocument; conflicts: MergeConflict[] } {
  const conflicts: MergeConflict[] = [];
  const byId = <T extends { id: string }>(xs: T[]) => new Map(xs.map((x) => [x.id, x]));
  const b = byId(base.nodes);
  const m = byId(mine.nodes);
  const t = byId(theirs.nodes);
  const nodes: FlowNode[] = [];
  const ids = [...new Set([...mine.nodes.map((n) => n.id), ...theirs.nodes.map((n) => n.id)])];
  for (const id of ids) {
    const bn = b.get(id);
    const mn = m.get(id);
    const tn = t.get(id);
    const label = stepLabel((mn ?? tn ?? bn)!);
    if (mn && tn) {
      const mineChanged = !bn || !same(content(bn), content(mn));
      const theirsChanged = !bn || !same(content(bn), content(tn));
      if (!theirsChanged || same(content(mn), content(tn))) nodes.push(mn);
      else if (!mineChanged) nodes.push({ ...tn, position: mn.position });
      else {
        nodes.push(mn);
        conflicts.push({ nodeId: id, label, message: 'You and the new version both changed this node: your version is kept' });
      }
    } else if (mn && !tn) {
      // Removed by the template: kept when the user changed it, else removed.
      if (bn && same(content(bn), content(mn))) continue;
      if (bn) conflicts.push({ nodeId: id, label, message: 'The new version removes this node, which you changed: it is kept' });
      nodes.push(mn);
    } else if (tn && !mn) {
      // Removed by the user: stays removed unless the template changed it.
      if (bn && same(content(bn), content(tn))) continue;
      if (bn) conflicts.push({ nodeId: id, label, message: 'You removed this node, which the new version changed: it stays removed' });
      else nodes.push(tn);
    }
  }
  const kept = new Set(nodes.map((n) => n.id));
  const edgeKey = (e: FlowEdge) => `${e.source}|${e.sourceHandle}|${e.target}|${e.targetHandle}`;
  const baseEdges = new Set(base.edges.map(edgeKey));
  const mineEdges = new Set(mine.edges.map(edgeKey));
  const theirEdges = new Set(theirs.edges.map(edgeKey));
  const edges: FlowEdge[] = [];
  const seen = new Set<string>();
  const usedIds = new Set<string>();
  for (const e of [...mine.edges, ...theirs.edges]) {
    const k = edgeKey(e);
    if (seen.has(k) || !kept.has(e.source) || !kept.has(e.target)) continue;
    seen.add(k);
    const inMine = mineEdges.has(k);
    const inTheirs = theirEdges.has(k);
    const inBase = baseEdges.has(k);
    // An edge either side removed (that was in the base) is removed; added by either side is added.
    if (inBase && (!inMine || !inTheirs)) continue;
    let id = e.id;
    for (let n = 2; usedIds.has(id); n++) id = `${e.id.slice(0, 60)}-${n}`;
    usedIds.add(id);
    edges.push({ ...e, id });
  }
  return { document: { ...theirs, nodes, edges }, conflicts };
}
