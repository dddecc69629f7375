import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '@switchyard/schema';
import { createOutbound, type LookupAll } from '../src/outbound/outbound';

/** Every test target is loopback: the sandbox forbids other traffic, and blocked ones never connect. */
const listen = (handler: Parameters<typeof createServer>[1]) =>
  new Promise<{ server: Server; port: number }>((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port }));
  });

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof SwitchyardError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the request to fail');
};

/** A resolver that must not be reached: literal addresses are judged without DNS. */
const noDns: LookupAll = async (h) => {
  throw new Error(`unexpected DNS lookup of ${h}`);
};

describe('outbound guard', () => {
  let target: { server: Server; port: number };
  let redirector: { server: Server; port: number };
  let received: IncomingHttpHeaders[] = [];
  let connections = 0;

  beforeAll(async () => {
    target = await listen((req, res) => {
      received.push(req.headers);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/big') {
          res.end('x'.repeat(2 * 1024 * 1024));
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      });
    });
    target.server.on('connection', () => connections++);
    redirector = await listen((req, res) => {
      const to = req.url === '/to-target' ? `http://127.0.0.1:${target.port}/landed` : req.url === '/loop' ? '/loop' : `http://localhost:${target.port}/`;
      res.writeHead(302, { location: to }).end();
    });
  });
  afterAll(async () => {
    await Promise.all([target, redirector].map((t) => new Promise((r) => t?.server.close(r))));
  });

  const blockedTargets = ['http://127.0.0.1/', 'http://localhost/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://10.0.0.5/',
    'http://169.254.169.254/latest/meta-data/', 'http://0.0.0.0/', 'http://100.64.1.1/', 'http://224.0.0.1/', 'http://[fe80::1]/', 'http://[fd00::1]/'];
  it.each(blockedTargets)('refuses %s before connecting', async (url) => {
    const before = connections;
    const r = await codeOf(createOutbound({ lookup: noDns }).request({ url }));
    expect(r.code).toBe('OUTBOUND_BLOCKED');
    expect(connections).toBe(before);
  });

  it('refuses a hostname when any address it resolves to is private', async () => {
    const lookup: LookupAll = async () => [{ address: '93.184.216.34', family: 4 }, { address: '192.168.1.20', family: 4 }];
    const r = await codeOf(createOutbound({ lookup }).request({ url: 'https://internal.example.com/' }));
    expect(r).toMatchObject({ code: 'OUTBOUND_BLOCKED' });
    expect(r.message).toContain('192.168.1.20');
  });

  it('refuses non-http schemes', async () => {
    expect((await codeOf(createOutbound().request({ url: 'file:///etc/passwd' }))).code).toBe('OUTBOUND_BLOCKED');
    expect((await codeOf(createOutbound().request({ url: 'ftp://example.com/' }))).code).toBe('OUTBOUND_BLOCKED');
  });

  it('lets an allow-listed host:port through and sends the headers and body', async () => {
    received = [];
    const out = createOutbound({ allow: [`127.0.0.1:${target.port}`], lookup: noDns });
    const res = await out.request({
      url: `http://127.0.0.1:${target.port}/hook?x=1`, method: 'POST',
      headers: { 'Idempotency-Key': 'abc-123', 'content-type': 'application/json' }, body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ method: 'POST', url: '/hook?x=1', body: '{"a":1}' });
    expect(received[0]?.['idempotency-key']).toBe('abc-123');
  });

  it('pins the connection to the checked address (an allow-listed name connects where it resolved)', async () => {
    const lookup: LookupAll = async () => [{ address: '127.0.0.1', family: 4 }];
    const res = await createOutbound({ allow: ['hooks.test'], lookup }).request({ url: `http://hooks.test:${target.port}/pinned` });
    expect(JSON.parse(res.body)).toMatchObject({ url: '/pinned' });
  });

  it('refuses a redirect from an allow-listed server to a loopback address that is not', async () => {
    const before = connections;
    const out = createOutbound({ allow: [`127.0.0.1:${redirector.port}`], lookup: noDns });
    const r = await codeOf(out.request({ url: `http://127.0.0.1:${redirector.port}/to-target` }));
    expect(r.code).toBe('OUTBOUND_BLOCKED');
    expect(connections).toBe(before);
  });

  it('re-checks redirects by name too (localhost)', async () => {
    const out = createOutbound({ allow: [`127.0.0.1:${redirector.port}`], lookup: noDns });
    expect((await codeOf(out.request({ url: `http://127.0.0.1:${redirector.port}/to-localhost` }))).code).toBe('OUTBOUND_BLOCKED');
  });

  it('follows an allowed redirect and stops after maxRedirects', async () => {
    const out = createOutbound({ allow: [`127.0.0.1:${redirector.port}`, `127.0.0.1:${target.port}`], lookup: noDns });
    const res = await out.request({ url: `http://127.0.0.1:${redirector.port}/to-target` });
    expect(res.url).toBe(`http://127.0.0.1:${target.port}/landed`);
    expect((await codeOf(out.request({ url: `http://127.0.0.1:${redirector.port}/loop`, maxRedirects: 2 }))).code).toBe('OUTBOUND_FAILED');
  });

  it('caps the body at 1 MiB', async () => {
    const res = await createOutbound({ allow: ['127.0.0.0/8'], lookup: noDns }).request({ url: `http://127.0.0.1:${target.port}/big` });
    expect(res.body.length).toBe(1024 * 1024);
    expect(res.truncated).toBe(true);
  });

  it('reports network errors and timeouts as OUTBOUND_FAILED', async () => {
    const closed = await listen(() => undefined);
    await new Promise((r) => closed.server.close(r));
    const out = createOutbound({ allow: ['127.0.0.1'], lookup: noDns });
    expect((await codeOf(out.request({ url: `http://127.0.0.1:${closed.port}/` }))).code).toBe('OUTBOUND_FAILED');
    const silent = await listen(() => undefined);
    try {
      const r = await codeOf(out.request({ url: `http://127.0.0.1:${silent.port}/`, timeoutMs: 200 }));
      expect(r).toMatchObject({ code: 'OUTBOUND_FAILED' });
      expect(r.message).toMatch(/timed out/i);
    } finally {
      silent.server.closeAllConnections();
      await new Promise((r) => silent.server.close(r));
    }
  });

  it('rejects malformed allow-list entries at construction', () => {
    expect(() => createOutbound({ allow: ['not a host!'] })).toThrow(/allow-list/);
    expect(() => createOutbound({ allow: ['10.0.0.0/99'] })).toThrow(/allow-list/);
  });
});
