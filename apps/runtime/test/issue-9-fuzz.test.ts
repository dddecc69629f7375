import type { AnyTRPCProcedure } from '@trpc/server';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JSON_LIMITS } from '@switchyard/schema';
import { appRouter } from '../src/router';
import { TOKEN, backendsUnderTest, useRuntime } from './host-support';

/**
 * Issue 9 acceptance: a seeded fuzz of every mutation and search over real HTTP against a spawned
 * runtime. Phase 1 sends valid inputs with one poison planted at a random place (NUL, lone
 * surrogates, 10^5-deep nesting, a 5 MB string, prototype keys): each must be refused with a typed
 * 4xx and nothing stored may change. Phase 2 sends randomly mutated inputs: whatever happens, no 5xx
 * and every error typed. Reproduce a failure with its printed seed and path.
 */

const SEED = 20_260_109;
const auth = { authorization: `Bearer ${TOKEN}` };

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>)
  .map(([path, proc]) => ({ path, type: proc._def.type }))
  .filter((p) => p.type !== 'subscription' && p.path !== 'health');

type Sent = { status: number; body: unknown; path: string; note: string };

async function send(url: string, path: string, type: string, body: string, note: string): Promise<Sent> {
  const res = type === 'query'
    ? await fetch(`${url}/trpc/${path}?input=${encodeURIComponent(body)}`, { headers: auth })
    : await fetch(`${url}/trpc/${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the typed-error check below reports it.
  }
  return { status: res.status, body: parsed, path, note };
}

/** No 5xx; an error has the documented shape with a code and no internal message. */
function expectSafe(r: Sent) {
  const where = `${r.path} (${r.note}) -> ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`;
  expect(r.status, where).toBeLessThan(500);
  if (r.status >= 400) {
    const e = (r.body as { error?: { message?: string; data?: { switchyard?: { code?: string; issues?: unknown[] } } } }).error;
    expect(typeof e?.data?.switchyard?.code, where).toBe('string');
    expect(Array.isArray(e?.data?.switchyard?.issues), where).toBe(true);
    expect(e?.message ?? '', where).not.toMatch(/Maximum call stack|FST_|unsupported Unicode|invalid byte sequence|at position \d+/i);
  }
}

// Inputs ---------------------------------------------------------------------------------------------

const flowDoc = (id: string) => ({
  schemaVersion: 1, id, kind: 'workflow', name: id, description: '', version: 0, settings: {},
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', typeVersion: 1, position: { x: 200, y: 0 }, params: { title: 'Fuzz' } },
  ],
  edges: [{ id: 'e1', source: 'start', sourceHandle: 'out', target: 'task', targetHandle: 'in' }],
});

interface Ids { contact: string; task: string; draft: string; followUp: string; thread: string; notification: string; agent: string }

/** A valid input for each procedure that needs more than `{}`; the fuzz mutates these. */
function baseInputs(ids: Ids): Record<string, unknown> {
  const event = { type: 'email.received', payload: { from: 'fuzz@example.com', subject: 'Hello', body: 'Body text' } };
  return {
    'crm.contacts.create': { name: 'Fuzz Person', email: 'fuzz.person@example.com', company: 'Acme', tags: ['a'], notes: 'n' },
    'crm.contacts.update': { id: ids.contact, name: 'Renamed', notes: 'x' },
    'crm.contacts.list': { search: 'Fuzz', limit: 10 },
    'crm.contacts.get': { id: ids.contact },
    'crm.emails.create': { from: 'fuzz@example.com', to: ['me@example.com'], subject: 'Subject', body: 'Body' },
    'crm.emails.list': { search: 'Sub', limit: 10 },
    'crm.emails.get': { id: ids.thread },
    'crm.tasks.create': { title: 'Task', description: 'd', priority: 'high' },
    'crm.tasks.update': { id: ids.task, title: 'T2', status: 'done' },
    'crm.tasks.list': { search: 'Task', limit: 10 },
    'crm.followUps.create': { contactId: ids.contact, dueAt: '2026-03-01T10:00:00.000Z', note: 'n' },
    'crm.followUps.update': { id: ids.followUp, note: 'x' },
    'crm.followUps.list': { search: 'n', limit: 10 },
    'crm.notifications.list': { search: 'n', limit: 10 },
    'crm.notifications.act': { id: ids.notification, actionId: 'ok' },
    'crm.notifications.snooze': { id: ids.notification, until: '2026-03-01T10:00:00.000Z' },
    'crm.drafts.create': { subject: 'Draft', body: 'Body', to: ['a@example.com'] },
    'crm.drafts.update': { id: ids.draft, body: 'New body' },
    'crm.drafts.list': { search: 'Dr', limit: 10 },
    'events.emit': event,
    'flows.save': { document: flowDoc('fuzz-flow'), note: 'n' },
    'flows.import': { document: flowDoc('fuzz-import'), replace: false },
    'flows.validate': { document: flowDoc('fuzz-flow') },
    'flows.compile': { document: flowDoc('fuzz-flow') },
    'flows.list': { search: 'fuzz', kind: 'workflow', limit: 10 },
    'flows.get': { docId: 'fuzz-base' },
    'flows.export': { docId: 'fuzz-base' },
    'flows.versions': { docId: 'fuzz-base' },
    'flows.deploy': { docId: 'fuzz-base' },
    'runs.start': { docId: 'fuzz-base', draft: true, payload: { from: 'fuzz@example.com', note: 'n' } },
    'runs.list': { limit: 10 },
    'agents.create': { name: 'Fuzz agent', description: 'd', systemPrompt: 'Be brief.' },
    'agents.update': { id: ids.agent, description: 'new' },
    'agents.get': { id: ids.agent },
    'agents.list': { limit: 10 },
    'agents.memory': { id: ids.agent, prefix: 'k', limit: 10 },
    'agents.memoryEntries': { id: ids.agent, prefix: 'k', limit: 10 },
    'agents.remember': { id: ids.agent, key: 'k', value: { nested: ['v'] } },
    'agents.recall': { id: ids.agent, key: 'k' },
    'agents.chat': { id: ids.agent, message: 'Hello there' },
    'agents.feedback': { id: ids.agent, feedback: 'too-long', comment: 'c' },
    'skills.search': { query: 'email' },
    'skills.validate': { skill: 'draft-email', params: { to: 'a@example.com' } },
  };
}

/** What the poisoned phase may change: everything a listing shows. */
async function snapshot(url: string) {
  const lists = ['flows.list', 'crm.contacts.list', 'crm.emails.list', 'crm.tasks.list', 'crm.followUps.list', 'crm.notifications.list', 'crm.drafts.list', 'agents.list', 'runs.list'];
  const out: Record<string, unknown> = {};
  for (const list of lists) {
    const input = `?input=${encodeURIComponent(JSON.stringify({ limit: 200 }))}`;
    const res = await fetch(`${url}/trpc/${list}${input}`, { headers: auth });
    expect(res.status, list).toBe(200);
    out[list] = await res.json();
  }
  return JSON.stringify(out);
}

type Path = (string | number)[];

/** Every place in `value` where something can be put: existing keys/indexes, and new keys of objects. */
function places(value: unknown): Path[] {
  const out: Path[] = [];
  const stack: { v: unknown; p: Path }[] = [{ v: value, p: [] }];
  while (stack.length) {
    const { v, p } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) v.forEach((x, i) => { out.push([...p, i]); stack.push({ v: x, p: [...p, i] }); });
    else {
      out.push([...p, '\u0001new']);
      for (const [k, x] of Object.entries(v)) {
        out.push([...p, k]);
        stack.push({ v: x, p: [...p, k] });
      }
    }
  }
  return out;
}

/** `value` with `replacement` at `path` (a '\u0001new' segment adds a key `newKey`). */
function setAt(value: unknown, path: Path, replacement: unknown, newKey = 'extra'): unknown {
  if (path.length === 0) return replacement;
  const copy = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const [head, ...rest] = path;
  const key = head === '\u0001new' ? newKey : head!;
  (copy as Record<string | number, unknown>)[key] = setAt((copy as Record<string | number, unknown>)[key], rest, replacement, newKey);
  return copy;
}

const PLACEHOLDER = '\u0001POISON\u0001';
const placeholderJson = JSON.stringify(PLACEHOLDER);
const deepText = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/**
 * A poison is JSON text to splice in (10^5-deep nesting cannot go through JSON.stringify), or a key
 * to add. Queries travel in the URL, so theirs stay small enough for it (16 KiB of headers).
 */
type Poison = { kind: 'value'; text: () => string; note: string } | { kind: 'key'; key: string; text: () => string; note: string };
// Texts are made when sent, so a counterexample prints its note, not megabytes.
const lazy = (text: string) => () => text;

const badChar = fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF');
const badString = fc.tuple(fc.string({ maxLength: 8 }), badChar, fc.string({ maxLength: 8 })).map(([a, c, b]) => a + c + b);
const poison = (query: boolean): fc.Arbitrary<Poison> => fc.oneof(
  badString.map((s) => ({ kind: 'value' as const, text: lazy(JSON.stringify(s)), note: `string ${JSON.stringify(s)}` })),
  badString.map((s) => ({ kind: 'key' as const, key: s, text: lazy('1'), note: `key ${JSON.stringify(s)}` })),
  fc.constant({ kind: 'key' as const, key: '__proto__', text: lazy('{"polluted":true}'), note: '__proto__ key' }),
  fc.constant({ kind: 'key' as const, key: 'constructor', text: lazy('{"prototype":{"polluted":true}}'), note: 'constructor.prototype key' }),
  fc.constant({ kind: 'value' as const, text: () => deepText(query ? 1_000 : 100_000), note: query ? '1,000-deep' : '100,000-deep' }),
  fc.constant({ kind: 'value' as const, text: () => deepText(JSON_LIMITS.maxDepth + 1), note: 'just past the depth limit' }),
  // Over the limit by a little and by a lot (5 MiB is the limit; the body adds its own bytes).
  ...(query ? [] : [
    fc.constant({ kind: 'value' as const, text: () => JSON.stringify('x'.repeat(5 * 1024 * 1024)), note: '5 MiB string' }),
    fc.constant({ kind: 'value' as const, text: () => JSON.stringify('\u00e9'.repeat(3 * 1024 * 1024)), note: '3 Mi two-byte characters' }),
  ]),
);

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const getAt = (value: unknown, path: Path) => path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], value);
const PROTO_KEY = '\u0001proto';

/** The request body: `base` with the poison at `path`, spliced in as text. */
function poisoned(base: unknown, path: Path, p: Poison): string {
  let target = path.filter((k) => k !== '\u0001new');
  if (p.kind === 'key') {
    // A key poison goes into the nearest object at or above `path` (a new root object if there is none).
    while (target.length && !isObject(getAt(base, target))) target = target.slice(0, -1);
    if (!isObject(getAt(base, target))) return `{${JSON.stringify(p.key)}:${p.text()}}`;
    target = [...target, '\u0001new'];
  } else if (path[path.length - 1] === '\u0001new') target = path;
  const key = p.kind === 'key' ? (p.key === '__proto__' ? PROTO_KEY : p.key) : 'extra';
  const text = JSON.stringify(setAt(base, target, PLACEHOLDER, key));
  // Functions as replacements: a poison's text may hold `$&` and friends.
  return text.replace(JSON.stringify(PROTO_KEY), () => '"__proto__"').replace(placeholderJson, p.text);
}

describe.each(backendsUnderTest())('issue 9: seeded fuzz of every mutation and search over HTTP (%s)', (backend) => {
  const t = useRuntime(backend);

  it('poisoned inputs are refused with typed 4xx errors and change nothing; mutated inputs never 5xx', { timeout: 120_000 }, async () => {
    const url = t.rt.url;
    const post = async (path: string, input: unknown) => {
      const r = await send(url, path, 'mutation', JSON.stringify(input), 'setup');
      expect(r.status, `${path} ${JSON.stringify(r.body)}`).toBe(200);
      return (r.body as { result: { data: Record<string, unknown> } }).result.data;
    };
    const contact = await post('crm.contacts.create', { name: 'Base', email: 'base@example.com' });
    const email = await post('crm.emails.create', { from: 'base@example.com', to: ['me@example.com'], subject: 'Base thread' });
    const ids: Ids = {
      contact: contact.id as string,
      task: (await post('crm.tasks.create', { title: 'Base task' })).id as string,
      draft: (await post('crm.drafts.create', { subject: 'Base draft' })).id as string,
      followUp: (await post('crm.followUps.create', { contactId: contact.id, dueAt: '2026-02-01T10:00:00.000Z' })).id as string,
      thread: (email.thread as { id: string }).id,
      notification: '00000000-0000-4000-8000-000000000000',
      agent: (await post('agents.create', { name: 'Base agent' })).id as string,
    };
    await post('flows.save', { document: flowDoc('fuzz-base') });
    const bases = baseInputs(ids);
    const targets = procedures.map((p) => ({ ...p, base: bases[p.path] ?? {} }));
    const started = Date.now();

    // Phase 1: one poison per request, nothing may change.
    const before = await snapshot(url);
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets).chain((target) => fc.record({
          target: fc.constant(target),
          path: fc.constantFrom(...places(target.base), [] as Path),
          poison: poison(target.type === 'query'),
        })),
        async ({ target, path, poison: p }) => {
          const r = await send(url, target.path, target.type, poisoned(target.base, path, p), `${p.note} at ${JSON.stringify(path)}`);
          expectSafe(r);
          expect(r.status, `${target.path} accepted ${p.note} at ${JSON.stringify(path)}`).toBeGreaterThanOrEqual(400);
          refused++;
        },
      ),
      { seed: SEED, numRuns: 160, endOnFailure: true },
    );
    expect(refused).toBe(160);
    expect(await snapshot(url)).toBe(before);

    // Phase 2: random values, keys and strings anywhere in otherwise valid inputs.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets).chain((target) => fc.record({
          target: fc.constant(target),
          path: fc.constantFrom(...places(target.base), [] as Path),
          value: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', ' ', 'constructor', 'toString', '__defineGetter__', '-1', '1e309', 'NaN')),
          key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf')),
        })),
        async ({ target, path, value, key }) => {
          const body = JSON.stringify(setAt(target.base, path, value, key));
          expectSafe(await send(url, target.path, target.type, body, `${JSON.stringify(value).slice(0, 80)} at ${JSON.stringify(path)} key ${JSON.stringify(key)}`));
        },
      ),
      { seed: SEED, numRuns: 250, endOnFailure: true },
    );
    expect(Date.now() - started).toBeLessThan(90_000);
  });
});
