import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardError } from '@switchyard/schema';
import { createOutbound, embeddedIPv4, nonPublicReason, type LookupAll } from '../src/outbound/outbound';

/**
 * Issue 9, outbound guard: `http://[::127.0.0.1]:PORT/` (IPv4-compatible IPv6) was judged public and
 * the runtime tried to connect; `http://localhost.:PORT/` was refused only because DNS failed. Every
 * IPv6 form that embeds an IPv4 address is judged by that address, and trailing dots are normalised.
 */

const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (e instanceof SwitchyardError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the request to fail');
};

const noDns: LookupAll = async (h) => {
  throw new Error(`unexpected DNS lookup of ${h}`);
};

/** The Teredo address of `client` behind `server` (the client is stored as its bitwise NOT). */
const teredo = (server: string, client: string) => {
  const s = ipaddr.IPv4.parse(server).octets;
  const c = ipaddr.IPv4.parse(client).octets.map((o) => ~o & 0xff);
  const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
  return `2001:0:${hex(s[0]!, s[1]!)}:${hex(s[2]!, s[3]!)}:8000:63bf:${hex(c[0]!, c[1]!)}:${hex(c[2]!, c[3]!)}`;
};

describe('issue 9: outbound guard refuses IPv6 transition forms by their embedded IPv4 address', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('reached'));
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const embedsLoopbackOrPrivate = () => [
    `http://[::127.0.0.1]:${port}/`, // IPv4-compatible, the reported case
    `http://[::7f00:1]:${port}/`,
    `http://[::10.0.0.1]:${port}/`,
    `http://[::ffff:7f00:1]:${port}/`, // IPv4-mapped, hex spelling
    `http://[::ffff:0:127.0.0.1]:${port}/`, // IPv4-translated (RFC 6145)
    `http://[64:ff9b::127.0.0.1]:${port}/`, // NAT64
    `http://[64:ff9b::a9fe:a9fe]:${port}/`, // NAT64 to cloud metadata
    `http://[2002:7f00:1::1]:${port}/`, // 6to4 of 127.0.0.1
    `http://[2002:c0a8:101::]:${port}/`, // 6to4 of 192.168.1.1
    `http://[${teredo('65.54.227.120', '127.0.0.1')}]:${port}/`, // Teredo, loopback client
    `http://[${teredo('10.0.0.1', '8.8.8.8')}]:${port}/`, // Teredo, private server
  ];

  it('refuses every embedded loopback/private form before connecting', async () => {
    for (const url of embedsLoopbackOrPrivate()) {
      const before = connections;
      const r = await failure(createOutbound({ lookup: noDns }).request({ url, timeoutMs: 2000 }));
      expect(r.code, url).toBe('OUTBOUND_BLOCKED');
      // IPv4-mapped forms are parsed as the IPv4 address itself; the others name what they embed.
      expect(r.message, url).toMatch(/embeds \d+\.\d+\.\d+\.\d+, a \w+ address|is a (loopback|private) address/);
      expect(connections, url).toBe(before);
    }
  });

  it('extracts the embedded address of each form', () => {
    const of = (s: string) => embeddedIPv4(ipaddr.IPv6.parse(s)).map(String);
    expect(of('::127.0.0.1')).toEqual(['127.0.0.1']);
    expect(of('::ffff:0:a00:1')).toEqual(['10.0.0.1']);
    expect(of('64:ff9b::808:808')).toEqual(['8.8.8.8']);
    expect(of('2002:a9fe:a9fe::1')).toEqual(['169.254.169.254']);
    expect(of(teredo('65.54.227.120', '192.168.0.7'))).toEqual(['65.54.227.120', '192.168.0.7']);
    expect(of('2606:4700::1111')).toEqual([]);
  });

  it('judges a transition form that embeds a public address as public (NAT64 on IPv6-only hosts keeps working)', () => {
    expect(nonPublicReason(ipaddr.parse('64:ff9b::8.8.8.8'))).toBeNull();
    expect(nonPublicReason(ipaddr.parse('2002:808:808::1'))).toBeNull();
    expect(nonPublicReason(ipaddr.parse('::1'))).toMatch(/loopback/);
    expect(nonPublicReason(ipaddr.parse('::'))).toMatch(/unspecified/);
    // An allow-listed IPv4 address is allowed in its embedded forms too.
    const loop = ipaddr.parse('127.0.0.1');
    expect(nonPublicReason(ipaddr.parse('::127.0.0.1'), (a) => a.kind() === 'ipv4' && a.toString() === loop.toString())).toBeNull();
  });

  it('refuses a resolved name whose address embeds loopback', async () => {
    const lookup: LookupAll = async () => [{ address: '64:ff9b::7f00:1', family: 6 }];
    const r = await failure(createOutbound({ lookup }).request({ url: `http://nat64.example.com:${port}/` }));
    expect(r.code).toBe('OUTBOUND_BLOCKED');
    expect(r.message).toContain('127.0.0.1');
  });

  it('refuses localhost with trailing dots by name, without DNS', async () => {
    for (const url of [`http://localhost.:${port}/`, `http://LOCALHOST..:${port}/`, `http://api.localhost.:${port}/`]) {
      const r = await failure(createOutbound({ lookup: noDns }).request({ url }));
      expect(r, url).toMatchObject({ code: 'OUTBOUND_BLOCKED' });
      expect(r.message, url).toMatch(/loopback name/);
    }
  });

  it('matches allow-listed names with a trailing dot and resolves the normalised name', async () => {
    const asked: string[] = [];
    const lookup: LookupAll = async (h) => {
      asked.push(h);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const res = await createOutbound({ allow: [`hooks.test:${port}`], lookup }).request({ url: `http://hooks.test.:${port}/` });
    expect(res.body).toBe('reached');
    expect(asked).toEqual(['hooks.test']);
  });
});
