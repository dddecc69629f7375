import { describe, expect, it } from 'vitest';
import { SwitchyardError } from './errors';
import { JSON_LIMITS, assertJsonLimits, findJsonProblem, textProblem } from './limits';

/** `depth` nested arrays around `inner`, built without recursion. */
const nested = (depth: number, inner: unknown = 1) => {
  let v = inner;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe('JSON limits (issue 9: bad input must never be a 500)', () => {
  it('accepts ordinary JSON, including paired surrogates (emoji) and keys named like builtins', () => {
    expect(findJsonProblem({ a: [1, 'x', null, true, { b: 'héllo 😀' }], constructor: 'ok', toString: 1 })).toBeNull();
    expect(findJsonProblem(nested(JSON_LIMITS.maxDepth - 1))).toBeNull();
  });

  it('finds NUL and lone surrogates in values and keys, with the path', () => {
    expect(findJsonProblem({ a: [0, { b: 'x\u0000y' }] })).toMatchObject({ path: ['a', 1, 'b'], code: 'invalid_text' });
    expect(findJsonProblem({ a: 'x\uD800' })).toMatchObject({ path: ['a'], code: 'invalid_text' });
    expect(findJsonProblem({ a: '\uDC00x' })).toMatchObject({ path: ['a'], code: 'invalid_text' });
    expect(findJsonProblem({ a: { 'k\u0000': 1 } })).toMatchObject({ path: ['a', 'k\u0000'], code: 'invalid_text' });
    expect(findJsonProblem('\uDBFF')).toMatchObject({ path: [], code: 'invalid_text' });
    expect(textProblem('😀')).toBeNull();
    expect(textProblem('\uDE00\uD83D')).not.toBeNull(); // reversed pair
  });

  it('refuses prototype keys', () => {
    expect(findJsonProblem(JSON.parse('{"x":{"__proto__":{"polluted":1}}}'))).toMatchObject({ path: ['x', '__proto__'], code: 'forbidden_key' });
    expect(findJsonProblem(JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'))).toMatchObject({ path: ['constructor'], code: 'forbidden_key' });
  });

  it('refuses 10^5-deep nesting without recursing, at the level past the limit', () => {
    const problem = findJsonProblem(nested(100_000));
    expect(problem).toMatchObject({ code: 'too_deep' });
    expect(problem!.path).toHaveLength(JSON_LIMITS.maxDepth);
    expect(findJsonProblem(nested(JSON_LIMITS.maxDepth))).toBeNull();
    expect(findJsonProblem(nested(JSON_LIMITS.maxDepth + 1))).toMatchObject({ code: 'too_deep' });
  });

  it('refuses more than the size limit, counting strings, keys and values', () => {
    expect(findJsonProblem({ s: 'x'.repeat(JSON_LIMITS.maxBytes) })).toMatchObject({ code: 'too_big' });
    expect(findJsonProblem(Array.from({ length: 800_000 }, () => 123_456))).toMatchObject({ code: 'too_big' });
    // Counted as JSON text: a million small numbers are about 2 MB, within the limit.
    expect(findJsonProblem(Array.from({ length: 1_000_000 }, () => 1))).toBeNull();
    expect(findJsonProblem({ s: 'x'.repeat(JSON_LIMITS.maxBytes - 100) })).toBeNull();
  });

  it('assertJsonLimits throws BAD_INPUT with the prefixed path', () => {
    let error: unknown;
    try {
      assertJsonLimits({ name: 'a\u0000b' }, ['body']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SwitchyardError);
    expect(error).toMatchObject({ code: 'BAD_INPUT', issues: [{ path: ['body', 'name'], code: 'invalid_text' }] });
    expect((error as Error).message).toContain('body.name');
    expect(() => assertJsonLimits({ ok: true })).not.toThrow();
  });
});
