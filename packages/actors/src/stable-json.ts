/**
 * JSON with sorted object keys, so equal values give equal strings (idempotency keys, hashes).
 * Keys compare by UTF-16 code units (the default sort); `undefined` members are left out, and
 * `undefined` in a list is `null`, as JSON.stringify does. Written as loops: it builds every
 * effect key (bench: 10-step run).
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      if (i in value) out += stableStringify(value[i]);
    }
    return out + ']';
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + stableStringify(v);
  }
  return out + '}';
}
