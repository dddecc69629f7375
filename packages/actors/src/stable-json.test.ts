import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stableStringify } from './stable-json';

/**
 * The first implementation, kept as the reference: effect keys of runs in flight were built with
 * it, so the loop version must give the same string for every JSON value, or a run restored after
 * an upgrade would act again under a new key.
 */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
}

describe('stableStringify', () => {
  it('gives the reference string for any JSON-like value (keys in any order, unicode, undefined members)', () => {
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.constant(undefined), fc.boolean(), fc.double(), fc.integer(), fc.string({ unit: 'binary' }),
        fc.array(tie('any'), { maxLength: 5 }), fc.dictionary(fc.string({ unit: 'binary' }), tie('any'), { maxKeys: 6 })),
    })).any;
    fc.assert(fc.property(value, (v) => {
      expect(stableStringify(v)).toBe(reference(v));
    }), { numRuns: 2000 });
  });

  it('sorts keys and drops undefined members', () => {
    expect(stableStringify({ b: 1, a: [undefined, { d: undefined, c: 'x' }], é: true, Z: null })).toBe('{"Z":null,"a":[null,{"c":"x"}],"b":1,"é":true}');
    expect(stableStringify(['run', 2, 'node', { to: ['a@b.c'] }])).toBe('["run",2,"node",{"to":["a@b.c"]}]');
  });
});
