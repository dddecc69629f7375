import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compile } from './compile';

const template = JSON.parse(readFileSync(new URL('../../../../templates/auto-respond-important.json', import.meta.url), 'utf8'));
const autoRespond = template.documents[0];
const clone = <T>(v: T): T => structuredClone(v);

describe('compile', () => {
  it('compiles the auto-respond template without diagnostics', () => {
    const r = compile(autoRespond);
    expect(r.diagnostics).toEqual([]);
    expect(r.machine?.triggers).toEqual([expect.objectContaining({ nodeId: 'trigger', listensTo: 'email.received' })]);
    expect(Object.keys(r.machine!.nodes)).toHaveLength(6);
  });

  it('is deterministic: byte-identical JSON for the same document', () => {
    expect(JSON.stringify(compile(clone(autoRespond)).machine)).toBe(JSON.stringify(compile(clone(autoRespond)).machine));
  });

  it('reports a missing trigger and pins a dangling edge to the node that remains', () => {
    const doc = clone(autoRespond);
    doc.nodes = doc.nodes.filter((n: { id: string }) => n.id !== 'trigger');
    doc.nodes.push({ id: 'lonely', type: 'action.createTask', position: { x: 0, y: 0 }, params: { title: 'x' } });
    const r = compile(doc);
    expect(r.machine).toBeNull();
    const codes = r.diagnostics.map((d) => [d.code, d.nodeId, d.edgeId]);
    expect(codes).toContainEqual(['missing-trigger', undefined, undefined]);
    expect(codes).toContainEqual(['dangling-edge', 'known_contact', 'e1']);
  });

  it('flags actions not connected to a trigger', () => {
    const doc = clone(autoRespond);
    doc.nodes.push({ id: 'lonely', type: 'action.createTask', position: { x: 0, y: 0 }, params: { title: 'x' } });
    const r = compile(doc);
    expect(r.diagnostics).toEqual([expect.objectContaining({ code: 'unreachable-node', nodeId: 'lonely', severity: 'error' })]);
  });

  it('gives invalid-cron, invalid-timezone and invalid-duration codes with param paths', () => {
    const doc = {
      schemaVersion: 1, id: 'bad', kind: 'workflow', name: 'Bad',
      nodes: [
        { id: 's', type: 'trigger.schedule', params: { cron: '61 * * * *', timezone: 'Mars/Olympus' } },
        { id: 't', type: 'action.createTask', params: { title: 'x', dueIn: 'soonish' } },
      ],
      edges: [{ id: 'e', source: 's', target: 't' }],
    };
    const r = compile(doc);
    expect(r.diagnostics.map((d) => [d.code, d.nodeId, d.path.join('.')])).toEqual([
      ['invalid-cron', 's', 'nodes.0.params.cron'],
      ['invalid-timezone', 's', 'nodes.0.params.timezone'],
      ['invalid-duration', 't', 'nodes.1.params.dueIn'],
    ]);
  });

  it('detects cycles', () => {
    const doc = {
      schemaVersion: 1, id: 'loop', kind: 'workflow', name: 'Loop',
      nodes: [
        { id: 'm', type: 'trigger.manual' },
        { id: 'a', type: 'action.createTask', params: { title: 'a' } },
        { id: 'b', type: 'action.createTask', params: { title: 'b' } },
      ],
      edges: [{ id: 'e1', source: 'm', target: 'a' }, { id: 'e2', source: 'a', target: 'b' }, { id: 'e3', source: 'b', target: 'a' }],
    };
    const r = compile(doc);
    expect(r.diagnostics.filter((d) => d.code === 'cycle').map((d) => d.nodeId).sort()).toEqual(['a', 'b']);
  });

  it('refuses a contact into a reply-draft (port type mismatch)', () => {
    const doc = {
      schemaVersion: 1, id: 'types', kind: 'workflow', name: 'Types',
      nodes: [{ id: 'c', type: 'trigger.contactCreated' }, { id: 'd', type: 'action.draftReply' }],
      edges: [{ id: 'e', source: 'c', target: 'd' }],
    };
    expect(compile(doc).diagnostics).toEqual([expect.objectContaining({ code: 'port-type-mismatch', nodeId: 'd', edgeId: 'e' })]);
  });

  it('reports bad expressions and unknown handles', () => {
    const doc = {
      schemaVersion: 1, id: 'expr', kind: 'workflow', name: 'Expr',
      nodes: [
        { id: 'm', type: 'trigger.manual' },
        { id: 'i', type: 'condition.if', params: { expression: 'trigger.a ===' } },
        { id: 't', type: 'action.createTask', params: { title: 'Hi {{ constructor.name }}' } },
      ],
      edges: [{ id: 'e1', source: 'm', target: 'i' }, { id: 'e2', source: 'i', sourceHandle: 'maybe', target: 't' }],
    };
    const codes = compile(doc).diagnostics.map((d) => [d.code, d.nodeId]);
    expect(codes).toContainEqual(['invalid-expression', 'i']);
    expect(codes).toContainEqual(['invalid-expression', 't']);
    expect(codes).toContainEqual(['unknown-handle', 'i']);
  });

  it('turns garbage into invalid-document diagnostics, never an exception', () => {
    for (const junk of [null, 42, 'x', [], {}, { nodes: 'no' }, { schemaVersion: 1, id: '1bad', kind: 'nope', name: '', nodes: [], edges: [] }]) {
      const r = compile(junk);
      expect(r.machine).toBeNull();
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(r.diagnostics.every((d) => d.code === 'invalid-document' && Array.isArray(d.path))).toBe(true);
    }
  });
});
