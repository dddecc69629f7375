import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { JSON_LIMITS } from '@switchyard/schema';
import { TOKEN, backendsUnderTest, useRuntime, waitForRun } from './host-support';

/**
 * Issue 9, "bad input must never be a 500": NUL bytes and lone surrogates, deep nesting, transport
 * errors (413, 415, 431, 404, malformed JSON), unbounded batches, flows.list stopping at 500 rows
 * and the CRM lists refusing their own nextCursor. Everything here goes over plain HTTP, as a
 * hostile client would send it, and checks the status and the documented error shape.
 */

type ErrorBody = { error: { message: string; code: number; data: { code: string; httpStatus: number; switchyard: { code: string; issues: { path: (string | number)[]; message: string; code?: string }[] } } } };

const auth = { authorization: `Bearer ${TOKEN}` };

async function post(url: string, path: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/trpc/${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', ...headers }, body: JSON.stringify(input) });
  return { status: res.status, body: (await res.json()) as ErrorBody & { result?: { data: unknown } } };
}
async function get(url: string, path: string, input: unknown) {
  const res = await fetch(`${url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: auth });
  return { status: res.status, body: (await res.json()) as ErrorBody & { result?: { data: unknown } } };
}
const data = <T>(r: { body: { result?: { data: unknown } } }) => r.body.result!.data as T;

/** The documented error shape, with our own words: no stack, no Fastify or V8 message. */
function expectTyped(body: unknown, code: string) {
  const e = (body as ErrorBody).error;
  expect(e.data.switchyard.code).toBe(code);
  expect(Array.isArray(e.data.switchyard.issues)).toBe(true);
  expect(e.message).not.toMatch(/stack|Maximum call|FST_|Unexpected token|JSON at position|unsupported Unicode/i);
  expect(JSON.stringify(body)).not.toContain('"stack"');
}

/** `depth` nested objects `{ a: { a: ... } }` built without recursion. */
const nested = (depth: number) => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
};
/**
 * A request body with `depth` nested objects at the placeholder "DEEP", written as text: the
 * client's own JSON.stringify would overflow first.
 */
const deepBody = (input: unknown, depth: number) => JSON.stringify(input).replace('"DEEP"', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
async function postRaw(url: string, path: string, body: string) {
  const res = await fetch(`${url}/trpc/${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
  return { status: res.status, body: (await res.json()) as ErrorBody };
}

const manualFlow = (id: string, extra: Record<string, unknown> = {}) => ({
  schemaVersion: 1, id, kind: 'workflow', name: id, description: '', version: 0, settings: {},
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', typeVersion: 1, position: { x: 200, y: 0 }, params: { title: 'Hello', ...extra } },
  ],
  edges: [{ id: 'e1', source: 'start', sourceHandle: 'out', target: 'task', targetHandle: 'in' }],
});

describe.each(backendsUnderTest())('issue 9: bad input is typed, never a 500 (%s)', (backend) => {
  const t = useRuntime(backend);

  it('NUL bytes and lone surrogates are BAD_INPUT naming the path, on every procedure that stored or searched them', async () => {
    const url = t.rt.url;
    await post(url, 'flows.save', { document: manualFlow('bad-strings') });
    const before = JSON.stringify([await get(url, 'flows.list', {}), await get(url, 'crm.contacts.list', {}), await get(url, 'crm.tasks.list', {}), await get(url, 'crm.drafts.list', {})]);
    const cases: { path: string; method: 'GET' | 'POST'; input: unknown; at: (string | number)[] }[] = [
      { path: 'crm.contacts.create', method: 'POST', input: { name: 'Ada\u0000', email: 'ada@example.com' }, at: ['name'] },
      { path: 'crm.contacts.create', method: 'POST', input: { name: 'Ada', email: 'ada@example.com', notes: 'x\uD800y' }, at: ['notes'] },
      { path: 'crm.tasks.create', method: 'POST', input: { title: 'Call\u0000back' }, at: ['title'] },
      { path: 'crm.drafts.create', method: 'POST', input: { subject: 'Hi', body: '\uDC00' }, at: ['body'] },
      { path: 'events.emit', method: 'POST', input: { type: 'email.received', payload: { from: 'a@example.com', subject: 'x\u0000' } }, at: ['payload', 'subject'] },
      { path: 'flows.save', method: 'POST', input: { document: { ...manualFlow('bad-strings'), name: 'a\u0000b' } }, at: ['document', 'name'] },
      { path: 'flows.save', method: 'POST', input: { document: manualFlow('bad-strings', { title: '\uD83D' }) }, at: ['document', 'nodes', 1, 'params', 'title'] },
      { path: 'flows.import', method: 'POST', input: { document: { ...manualFlow('bad-import'), description: '\u0000' } }, at: ['document', 'description'] },
      { path: 'flows.list', method: 'GET', input: { search: 'a\u0000b' }, at: ['search'] },
      { path: 'crm.contacts.list', method: 'GET', input: { search: 'a\uDC00' }, at: ['search'] },
      { path: 'flows.validate', method: 'POST', input: { document: { ['key\u0000']: 1 } }, at: ['document', 'key\u0000'] },
    ];
    for (const c of cases) {
      const r = c.method === 'GET' ? await get(url, c.path, c.input) : await post(url, c.path, c.input);
      expect(r.status, c.path).toBe(400);
      expectTyped(r.body, 'BAD_INPUT');
      expect(r.body.error.data.switchyard.issues[0], c.path).toMatchObject({ path: c.at, code: 'invalid_text' });
    }
    const after = JSON.stringify([await get(url, 'flows.list', {}), await get(url, 'crm.contacts.list', {}), await get(url, 'crm.tasks.list', {}), await get(url, 'crm.drafts.list', {})]);
    expect(after).toBe(before);
  });

  it('emoji and other paired surrogates are still fine', async () => {
    const r = await post(t.rt.url, 'crm.tasks.create', { title: 'Ship it 🚀 — ünïcødé' });
    expect(r.status).toBe(200);
    expect(data<{ title: string }>(r).title).toBe('Ship it 🚀 — ünïcødé');
  });

  it('deep nesting is BAD_INPUT before anything recursive runs (flows.save at 4,200, runs.start at 6,000, 10^5 anywhere)', async () => {
    const url = t.rt.url;
    await post(url, 'flows.save', { document: manualFlow('deep') });
    const stored = await get(url, 'flows.get', { docId: 'deep' });
    const cases = [
      { path: 'flows.save', input: { document: manualFlow('deep', { extra: 'DEEP' }) }, depth: 4_200 },
      { path: 'flows.save', input: { document: manualFlow('deep', { extra: 'DEEP' }) }, depth: 100_000 },
      { path: 'runs.start', input: { docId: 'deep', draft: true, payload: { x: 'DEEP' } }, depth: 6_000 },
      { path: 'flows.validate', input: { document: 'DEEP' }, depth: 100_000 },
      { path: 'flows.compile', input: { document: 'DEEP' }, depth: JSON_LIMITS.maxDepth + 1 },
      { path: 'events.emit', input: { type: 'email.received', payload: { from: 'a@example.com', extra: 'DEEP' } }, depth: 100_000 },
    ];
    for (const c of cases) {
      const r = await postRaw(url, c.path, deepBody(c.input, c.depth));
      expect(r.status, c.path).toBe(400);
      expectTyped(r.body, 'BAD_INPUT');
      expect(r.body.error.data.switchyard.issues[0]?.code, c.path).toBe('too_deep');
    }
    expect(JSON.stringify(await get(url, 'flows.get', { docId: 'deep' }))).toBe(JSON.stringify(stored));
    // Nesting within the limit is accepted and stored.
    const ok = await post(url, 'flows.save', { document: manualFlow('deep', { extra: nested(JSON_LIMITS.maxDepth - 8) }) });
    expect(ok.status).toBe(200);
  });

  it('prototype keys are BAD_INPUT in bodies and in GET inputs alike', async () => {
    const body = await fetch(`${t.rt.url}/trpc/crm.tasks.create`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"title":"x","__proto__":{"isAdmin":true}}',
    });
    expect(body.status).toBe(400);
    expectTyped(await body.json(), 'BAD_INPUT');
    const query = await fetch(`${t.rt.url}/trpc/crm.contacts.list?input=${encodeURIComponent('{"constructor":{"prototype":{"x":1}}}')}`, { headers: auth });
    expect(query.status).toBe(400);
    expectTyped(await query.json(), 'BAD_INPUT');
  });

  it('transport errors (413, 415, 431, 404, malformed JSON, unknown procedure) come back typed', async () => {
    const url = t.rt.url;
    const big = await fetch(`${url}/trpc/crm.tasks.create`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'x', description: 'y'.repeat(JSON_LIMITS.maxBytes + 10) }),
    });
    expect(big.status).toBe(413);
    const bigBody = (await big.json()) as ErrorBody;
    expectTyped(bigBody, 'BAD_INPUT');
    expect(bigBody.error.data.httpStatus).toBe(413);

    const media = await fetch(`${url}/trpc/crm.tasks.create`, { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: '<title>x</title>' });
    expect(media.status).toBe(415);
    expectTyped(await media.json(), 'BAD_INPUT');
    // text/plain passes Fastify (it has a parser for it) and tRPC refuses it, typed as well.
    const text = await fetch(`${url}/trpc/crm.tasks.create`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'title=x' });
    expect(text.status).toBe(400);
    expectTyped(await text.json(), 'BAD_INPUT');

    const notFound = await fetch(`${url}/nope/at/all`, { headers: auth });
    expect(notFound.status).toBe(404);
    expectTyped(await notFound.json(), 'NOT_FOUND');

    const malformed = await fetch(`${url}/trpc/crm.tasks.create`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"title":' });
    expect(malformed.status).toBe(400);
    const malformedBody = (await malformed.json()) as ErrorBody;
    expectTyped(malformedBody, 'BAD_INPUT');
    expect(malformedBody.error.message).toBe('The input is not valid JSON');
    const malformedQuery = await fetch(`${url}/trpc/crm.tasks.list?input=%7B%22a`, { headers: auth });
    expect(malformedQuery.status).toBe(400);
    expect(((await malformedQuery.json()) as ErrorBody).error.message).toBe('The input is not valid JSON');

    const unknown = await post(url, 'crm.nothing.here', {});
    expect(unknown.status).toBe(404);
    expectTyped(unknown.body, 'NOT_FOUND');

    // Node's HTTP parser answers oversized headers before Fastify runs; fetch cannot send them, so raw http.
    const header = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: '/trpc/health', headers: { 'x-filler': 'x'.repeat(20_000) } }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(header.status).toBe(431);
    expectTyped(JSON.parse(header.body), 'BAD_INPUT');

    const badUrl = await fetch(`${url}/trpc/crm.tasks.list%E0%A4%A?input=%7B%7D`, { headers: auth });
    expect(badUrl.status).toBeLessThan(500);
    expectTyped(await badUrl.json(), badUrl.status === 404 ? 'NOT_FOUND' : 'BAD_INPUT');

    // Not HTTP at all: Node's parser refuses it, and the answer is still our JSON.
    const garbage = await new Promise<string>((resolve, reject) => {
      const u = new URL(url);
      const socket = connect(Number(u.port), u.hostname, () => socket.write('HELLO\u0000 THERE\r\n\r\n'));
      let b = '';
      socket.on('data', (c: Buffer) => (b += c.toString()));
      socket.on('end', () => resolve(b));
      socket.on('error', reject);
    });
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expectTyped(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4)), 'BAD_INPUT');
  });

  it('a batch of more than 50 procedures is refused with a typed error; 50 are answered', async () => {
    const url = t.rt.url;
    const batch = async (n: number) => {
      const paths = Array.from({ length: n }, () => 'health').join(',');
      const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, {}]));
      const res = await fetch(`${url}/trpc/${paths}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`, { headers: auth });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const ok = await batch(50);
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveLength(50);
    const tooMany = await batch(400);
    expect(tooMany.status).toBe(400);
    const body = (Array.isArray(tooMany.body) ? tooMany.body[0] : tooMany.body) as ErrorBody;
    expectTyped(body, 'BAD_INPUT');
  });

  it('flows.list and flows.versions page with a cursor instead of stopping at 500 rows; a bad cursor is BAD_INPUT', async () => {
    const url = t.rt.url;
    for (let i = 0; i < 5; i++) expect((await post(url, 'flows.save', { document: manualFlow(`paged-${i}`) })).status).toBe(200);
    const all = data<{ items: { docId: string }[]; nextCursor: string | null }>(await get(url, 'flows.list', { limit: 200 }));
    expect(all.nextCursor).toBeNull();
    const seen: string[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = data<{ items: { docId: string }[]; nextCursor: string | null }>(await get(url, 'flows.list', { limit: 2, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((f) => f.docId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThan(2);
    expect(seen).toEqual(all.items.map((f) => f.docId));
    // flows.versions pages the same way.
    for (let v = 1; v <= 4; v++) expect((await post(url, 'flows.save', { document: { ...manualFlow('paged-0'), name: `v${v}` } })).status).toBe(200);
    const versions: number[] = [];
    let vCursor: string | null = null;
    do {
      const page: { items: { version: number }[]; nextCursor: string | null } = data<{ items: { version: number }[]; nextCursor: string | null }>(await get(url, 'flows.versions', { docId: 'paged-0', limit: 2, ...(vCursor ? { cursor: vCursor } : {}) }));
      versions.push(...page.items.map((v) => v.version));
      vCursor = page.nextCursor;
    } while (vCursor);
    expect(versions).toEqual([5, 4, 3, 2, 1]);
    expectTyped((await get(url, 'flows.versions', { docId: 'paged-0', cursor: '1; drop' })).body, 'BAD_INPUT');
    for (const bad of ['nope', Buffer.from('["2026-01-01", 5]').toString('base64url'), Buffer.from('["x\'; drop table flows; --","00000000-0000-0000-0000-000000000000"]').toString('base64url')]) {
      const r = await get(url, 'flows.list', { cursor: bad });
      expect(r.status).toBe(400);
      expectTyped(r.body, 'BAD_INPUT');
      expect(r.body.error.data.switchyard.issues[0]?.path).toEqual(['cursor']);
    }
  });

  it('every CRM list (and runs.list) accepts its own nextCursor: page 2 continues page 1 exactly (was 400 "Invalid cursor")', async () => {
    const url = t.rt.url;
    const contacts: string[] = [];
    for (let i = 0; i < 3; i++) {
      // A name that looks like an ISO date used to be revived as a Date by the cursor decoder.
      const c = await post(url, 'crm.contacts.create', { name: i === 0 ? '2026-01-01T00:00:00.000Z' : `Pager ${i}`, email: `pager${i}@example.com` });
      expect(c.status).toBe(200);
      contacts.push(data<{ id: string }>(c).id);
      expect((await post(url, 'crm.emails.create', { from: `pager${i}@example.com`, to: ['me@example.com'], subject: `Paging ${i}` })).status).toBe(200);
      expect((await post(url, 'crm.tasks.create', { title: `Paging task ${i}` })).status).toBe(200);
      expect((await post(url, 'crm.followUps.create', { contactId: contacts[i], dueAt: new Date(Date.UTC(2026, 2, 1 + i)).toISOString() })).status).toBe(200);
      expect((await post(url, 'crm.drafts.create', { subject: `Paging draft ${i}` })).status).toBe(200);
    }
    // Notifications come from runs: a flow that sends one, run three times.
    const notify = {
      ...manualFlow('pager-notify'),
      nodes: [manualFlow('x').nodes[0], { id: 'note', type: 'action.sendNotification', typeVersion: 1, position: { x: 200, y: 0 }, params: { title: 'Paging note' } }],
      edges: [{ id: 'e1', source: 'start', sourceHandle: 'out', target: 'note', targetHandle: 'in' }],
    };
    expect((await post(url, 'flows.save', { document: notify })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const run = data<{ runId: string }>(await post(url, 'runs.start', { docId: 'pager-notify', draft: true }));
      await waitForRun(t.api, run.runId, (r) => r.status !== 'running');
    }

    // runs.list too: the test clock is fixed, so these runs share one started_at (ties were lost by `before`).
    for (const list of ['crm.contacts.list', 'crm.emails.list', 'crm.tasks.list', 'crm.followUps.list', 'crm.notifications.list', 'crm.drafts.list', 'runs.list']) {
      const all = data<{ items: { id: string }[]; nextCursor: string | null }>(await get(url, list, { limit: 200 }));
      expect(all.items.length, list).toBeGreaterThanOrEqual(3);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const r = await get(url, list, { limit: 2, ...(cursor ? { cursor } : {}) });
        expect(r.status, `${list} ${cursor ? 'next page' : 'first page'}`).toBe(200);
        const page = data<{ items: { id: string }[]; nextCursor: string | null }>(r);
        seen.push(...page.items.map((x) => x.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen, list).toEqual(all.items.map((x) => x.id));
      // A forged cursor of the wrong types is BAD_INPUT, not a database cast error.
      const forged = await get(url, list, { cursor: Buffer.from('["not a date","not-a-uuid"]').toString('base64url') });
      expect(forged.status, list).toBe(400);
      expectTyped(forged.body, 'BAD_INPUT');
    }
  });
});
