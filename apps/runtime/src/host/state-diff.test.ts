import fc from 'fast-check';
import jsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { diffPersisted } from './state-diff';

const json = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
/** What a restore does: the stored JSON of the older state, patched. */
const rebuilt = (from: unknown, to: unknown) => jsonPatch.applyPatch(json(from), diffPersisted(from, to), true, true).newDocument;

/** Values a run's state holds: JSON, plus what JSON drops or rewrites (undefined, functions, Dates, non-finite numbers). */
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, 1, 2.5, '', 'x', undefined, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, () => 1),
    fc.string({ maxLength: 6 }),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c/d', 'e~f', 'status', ''), tie('v'), { maxKeys: 4 }),
  ),
})).v;
const state = fc.dictionary(fc.constantFrom('value', 'context', 'children', 'status', 'x'), value, { maxKeys: 5 });

/** The next state as XState makes it: a copy along one path, the rest the same objects. */
function edit(s: Record<string, unknown>, path: string[], next: unknown, remove: boolean): Record<string, unknown> {
  const [key, ...rest] = path;
  if (key === undefined) return s;
  const copy = { ...s };
  const child = copy[key];
  if (!rest.length || child === null || typeof child !== 'object' || Array.isArray(child) || child instanceof Date) {
    if (remove) delete copy[key];
    else copy[key] = next;
  } else copy[key] = edit(child as Record<string, unknown>, rest, next, remove);
  return copy;
}

describe('journal deltas on the states themselves', () => {
  it('rebuild the next state from the stored older one, for edits that share structure and for unrelated states', () => {
    fc.assert(fc.property(
      state,
      fc.array(fc.record({ path: fc.array(fc.constantFrom('value', 'context', 'a', 'b', 'c/d', 'status'), { minLength: 1, maxLength: 4 }), next: value, remove: fc.boolean() }), { maxLength: 4 }),
      state,
      (from, edits, other) => {
        const to = edits.reduce<Record<string, unknown>>((s, e) => edit(s, e.path, e.next, e.remove), from);
        expect(rebuilt(from, to)).toEqual(json(to));
        expect(rebuilt(from, other)).toEqual(json(other));
        // Nothing changed: no operation at all.
        expect(diffPersisted(from, from)).toEqual([]);
      },
    ), { numRuns: 400 });
  });

  it('skips what both states share without looking into it, and copies only what changed', () => {
    const shared = { big: Array.from({ length: 1000 }, (_, i) => ({ i })) };
    let reads = 0;
    const watched = new Proxy(shared, { get: (t, k) => { reads++; return Reflect.get(t, k); } });
    const from = { context: { nodes: { a: watched, b: { status: 'running' } } }, value: { b: 'running' } };
    const to = { context: { nodes: { a: watched, b: { status: 'succeeded', output: { id: 1, at: new Date(0), gone: undefined } } } }, value: { b: 'succeeded' } };
    expect(diffPersisted(from, to)).toEqual([
      { op: 'replace', path: '/context/nodes/b/status', value: 'succeeded' },
      { op: 'add', path: '/context/nodes/b/output', value: { id: 1, at: '1970-01-01T00:00:00.000Z' } },
      { op: 'replace', path: '/value/b', value: 'succeeded' },
    ]);
    expect(reads).toBe(0);
  });
});
