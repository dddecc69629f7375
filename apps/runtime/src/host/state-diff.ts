import jsonPatch, { type Operation } from 'fast-json-patch';

/**
 * The JSON Patch (RFC 6902) from one persisted run state to the next, as `JSON.parse(JSON.stringify(x))`
 * of each would give it, computed on the states themselves, not on JSON copies.
 *
 * XState's snapshots are immutable and share structure: an `assign` makes new objects only along the
 * path it changed, and `getPersistedSnapshot` keeps the context as it is. So a subtree that is the
 * same object in both states is skipped without a look, and a step costs what it changed, not the
 * size of the run's state (before: a JSON round trip of the whole state, then a deep compare).
 * Only the changed values are copied to JSON, for the operations. Objects that are not plain (a
 * Date, anything with `toJSON`) and arrays are compared as JSON text and replaced whole.
 */
export function diffPersisted(from: unknown, to: unknown): Operation[] {
  const ops: Operation[] = [];
  walk(from, to, '', ops);
  return ops;
}

const escape = (key: string) => (key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key);
/**
 * A value as JSON would store it: what `JSON.parse(JSON.stringify(v))` gives, without the text in
 * between (members that are undefined or functions dropped, in arrays null, non-finite numbers
 * null). Anything else than plain objects, arrays and primitives (a Date, a `toJSON`) goes through
 * JSON itself.
 */
const toJson = (v: unknown): unknown => {
  switch (typeof v) {
    case 'string': case 'boolean': return v;
    case 'number': return Number.isFinite(v) ? v : null;
    case 'undefined': case 'function': case 'symbol': return undefined;
  }
  if (v === null) return null;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = toJson(v[i]) ?? null;
    return out;
  }
  if (!isPlain(v)) return JSON.parse(JSON.stringify(v)) as unknown;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const c = toJson(v[key]);
    if (c !== undefined) out[key] = c;
  }
  return out;
};
const isPrimitive = (v: unknown) => v === null || (typeof v !== 'object' && typeof v !== 'function');
const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
};
/** What JSON keeps of an object member: undefined and functions are dropped. */
const kept = (v: unknown) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

function walk(a: unknown, b: unknown, path: string, ops: Operation[]) {
  if (a === b) return;
  if (isPlain(a) && isPlain(b)) {
    for (const key of Object.keys(a)) {
      const prev = a[key];
      // Unchanged members first: the same value on both sides is never a removal.
      if (prev === b[key] || !kept(prev)) continue;
      if (!(Object.prototype.hasOwnProperty.call(b, key) && kept(b[key]))) ops.push({ op: 'remove', path: `${path}/${escape(key)}` });
    }
    for (const key of Object.keys(b)) {
      const next = b[key];
      // The common case first: a member the step did not touch is the same object (no path built).
      if (next === a[key] || !kept(next)) continue;
      const p = `${path}/${escape(key)}`;
      if (Object.prototype.hasOwnProperty.call(a, key) && kept(a[key])) walk(a[key], next, p, ops);
      else ops.push({ op: 'add', path: p, value: toJson(next) });
    }
    return;
  }
  // Two primitives (a status, a count): JSON keeps them as they are, but for non-finite numbers.
  if (isPrimitive(a) && isPrimitive(b) && kept(a) && kept(b)) {
    const right = toJson(b);
    if (toJson(a) === right) return;
    if (path === '') throw new Error('diffPersisted: a state must be an object');
    ops.push({ op: 'replace', path, value: right });
    return;
  }
  // Arrays, and objects JSON turns into something else: equal when their JSON is.
  const left = JSON.stringify(a);
  const right = JSON.stringify(b);
  if (left === right) return;
  if (path === '') throw new Error('diffPersisted: a state must be an object');
  ops.push({ op: 'replace', path, value: right === undefined ? null : JSON.parse(right) });
}

/** Whether `ops` turn `from` into `to`, both read as JSON (the check tests run on every delta). */
export function deltaHolds(from: unknown, to: unknown, ops: Operation[]): boolean {
  const rebuilt = jsonPatch.applyPatch(JSON.parse(JSON.stringify(from)), ops, false, true).newDocument;
  return JSON.stringify(rebuilt) === JSON.stringify(toJson(to)) || jsonPatch.compare(rebuilt as object, toJson(to) as object).length === 0;
}
