import { SwitchyardError, type ErrorIssue } from './errors';

/**
 * The one rule for JSON that crosses the API boundary (every tRPC input, webhook bodies): at most
 * `maxDepth` nested objects/arrays, at most `maxBytes` of JSON text (measured approximately while
 * walking, so it needs no `JSON.stringify`), no NUL character and no unpaired UTF-16 surrogate in any
 * string or key (PostgreSQL's text and jsonb cannot store them), and no prototype keys (`__proto__`,
 * `constructor.prototype`). Broken input is rejected with BAD_INPUT naming the path, never stripped:
 * silently changing what a client sent would store something it did not say.
 */
export const JSON_LIMITS = {
  /** Far below what recursive code (`JSON.stringify`, zod, version comparison) survives (~4,000). */
  maxDepth: 64,
  /** The same as the HTTP body limit, so an in-process caller gets the same answer as an HTTP one. */
  maxBytes: 5 * 1024 * 1024,
} as const;

// Without the `u` flag the regex sees UTF-16 code units, which is what a lone surrogate is.
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string breaks the text rule, or null. */
export function textProblem(s: string): string | null {
  const m = BAD_TEXT.exec(s);
  if (!m) return null;
  return m[0] === '\u0000' ? 'Text may not contain a NUL character (\\u0000)' : 'Text may not contain an unpaired UTF-16 surrogate';
}

interface Frame {
  node: Record<string, unknown> | unknown[];
  /** Object keys; null for arrays. */
  keys: string[] | null;
  /** Index of the next child; the child being looked at is `next - 1`. */
  next: number;
}

type Problem = { message: string; code: string };

/**
 * Walks `value` without recursion (so 10^5-deep input cannot overflow the stack) and returns the
 * first problem with its path, or null. The walk stops at the first problem, and its stack never
 * holds more than `maxDepth` frames.
 */
export function findJsonProblem(value: unknown, limits: { maxDepth: number; maxBytes: number } = JSON_LIMITS): ErrorIssue | null {
  const stack: Frame[] = [];
  let bytes = 0;
  const visit = (v: unknown): Problem | null => {
    if (typeof v === 'string') {
      bytes += v.length + 2;
      const text = textProblem(v);
      return text ? { message: text, code: 'invalid_text' } : null;
    }
    if (v === null || typeof v !== 'object') {
      bytes += typeof v === 'number' ? String(v).length : v === false ? 5 : 4;
      return null;
    }
    if (stack.length >= limits.maxDepth) return { message: `Nested deeper than ${limits.maxDepth} levels`, code: 'too_deep' };
    bytes += 2;
    if (Array.isArray(v)) stack.push({ node: v, keys: null, next: 0 });
    else stack.push({ node: v as Record<string, unknown>, keys: Object.keys(v), next: 0 });
    return null;
  };
  const childKey = (f: Frame): string | number => (f.keys ? f.keys[f.next - 1]! : f.next - 1);

  let problem = visit(value);
  while (!problem && stack.length > 0) {
    if (bytes > limits.maxBytes) {
      stack.length = 0;
      problem = { message: `Larger than ${Math.floor(limits.maxBytes / 1024)} KiB of JSON`, code: 'too_big' };
      break;
    }
    const top = stack[stack.length - 1]!;
    const length = top.keys ? top.keys.length : (top.node as unknown[]).length;
    if (top.next >= length) {
      stack.pop();
      continue;
    }
    top.next++;
    if (!top.keys) {
      bytes += 1;
      problem = visit((top.node as unknown[])[top.next - 1]);
      continue;
    }
    const key = top.keys[top.next - 1]!;
    const child = (top.node as Record<string, unknown>)[key];
    bytes += key.length + 4;
    const text = textProblem(key);
    if (text) problem = { message: `Key: ${text}`, code: 'invalid_text' };
    else if (key === '__proto__' || (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype'))) {
      problem = { message: `The key "${key === '__proto__' ? key : 'constructor.prototype'}" is not allowed`, code: 'forbidden_key' };
    } else problem = visit(child);
  }
  if (!problem && bytes > limits.maxBytes) problem = { message: `Larger than ${Math.floor(limits.maxBytes / 1024)} KiB of JSON`, code: 'too_big' };
  if (!problem) return null;
  return { path: stack.map(childKey), message: problem.message, code: problem.code };
}

/**
 * Throws BAD_INPUT (with the offending path, prefixed by `basePath`) unless `value` keeps the JSON
 * rule above. Call it on parsed input before any recursive work (zod, `JSON.stringify`, comparisons).
 */
export function assertJsonLimits(value: unknown, basePath: (string | number)[] = []): void {
  const issue = findJsonProblem(value);
  if (!issue) return;
  const path = [...basePath, ...issue.path];
  const where = path.length ? ` at ${path.join('.')}` : '';
  throw new SwitchyardError('BAD_INPUT', `Invalid input${where}: ${issue.message}`, { issues: [{ ...issue, path }] });
}
