import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { SwitchyardError } from '@switchyard/schema';

export interface OutboundRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** For the whole exchange, redirects and DNS included. Default 10 s. */
  timeoutMs?: number;
  maxRedirects?: number;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  /** UTF-8 text, at most `maxBodyBytes` (1 MiB) of it. */
  body: string;
  truncated: boolean;
  /** The URL that answered, after redirects. */
  url: string;
}

export interface Outbound {
  request(r: OutboundRequest): Promise<OutboundResponse>;
}

export type ResolvedAddress = { address: string; family: number };
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export interface OutboundOptions {
  /** Hostnames (`api.example.com`, `*.example.com`), IPs, CIDRs, each optionally with `:port` (IPv6 as `[::1]:8080`). */
  allow?: string[];
  /** DNS resolution; tests inject one. Defaults to `dns.lookup` with all addresses. */
  lookup?: LookupAll;
  maxBodyBytes?: number;
}

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
type Rule =
  | { kind: 'host'; host: string; wildcard: boolean; port?: number }
  | { kind: 'ip'; range: [Addr, number]; port?: number };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Credentials must not follow a redirect to another origin. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

const blocked = (message: string) => new SwitchyardError('OUTBOUND_BLOCKED', message);
const failed = (message: string, cause?: unknown) => new SwitchyardError('OUTBOUND_FAILED', message, cause === undefined ? {} : { cause });

/** IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it carries. */
const parseIp = (s: string): Addr => ipaddr.process(s.replace(/^\[|\]$/g, ''));

function parseRule(entry: string): Rule {
  const e = entry.trim().toLowerCase();
  let host = e;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(e);
  const hostPort = /^([^:/]+):(\d+)$/.exec(e);
  if (bracketed) [host, port] = [bracketed[1]!, bracketed[2] ? Number(bracketed[2]) : undefined];
  else if (hostPort) [host, port] = [hostPort[1]!, Number(hostPort[2])];
  if (port !== undefined && !(port > 0 && port < 65536)) throw new Error(`Bad outbound allow-list entry "${entry}": port`);
  const withPort = port === undefined ? {} : { port };
  if (host.includes('/')) {
    try {
      const [addr, bits] = ipaddr.parseCIDR(host);
      return { kind: 'ip', range: [addr, bits], ...withPort };
    } catch (cause) {
      throw new Error(`Bad outbound allow-list entry "${entry}": not a CIDR`, { cause });
    }
  }
  if (ipaddr.isValid(host)) {
    const addr = parseIp(host);
    return { kind: 'ip', range: [addr, addr.kind() === 'ipv4' ? 32 : 128], ...withPort };
  }
  const wildcard = host.startsWith('*.');
  const name = wildcard ? host.slice(2) : host;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) throw new Error(`Bad outbound allow-list entry "${entry}"`);
  return { kind: 'host', host: name, wildcard, ...withPort };
}

const portOk = (rule: Rule, port: number) => rule.port === undefined || rule.port === port;

function inRange(addr: Addr, [net, bits]: [Addr, number]) {
  return addr.kind() === net.kind() && addr.match(net as never, bits);
}

const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

/**
 * The IPv4 addresses an IPv6 transition form carries, which is where its packets end up:
 * IPv4-compatible (::/96), IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96),
 * NAT64 (64:ff9b::/96), 6to4 (2002::/16, bits 16-47) and Teredo (2001::/32: the server in bits
 * 32-63, the client as the bitwise NOT of the last 32 bits). Empty for any other address.
 */
export function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = addr.parts;
  const zero = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && (p[5] === 0 || p[5] === 0xffff)) return [v4(p[6]!, p[7]!)];
  if (zero(0, 4) && p[4] === 0xffff && p[5] === 0) return [v4(p[6]!, p[7]!)];
  if (p[0] === 0x64 && p[1] === 0xff9b && zero(2, 6)) return [v4(p[6]!, p[7]!)];
  if (p[0] === 0x2002) return [v4(p[1]!, p[2]!)];
  if (p[0] === 0x2001 && p[1] === 0) return [v4(p[2]!, p[3]!), v4(~p[6]! & 0xffff, ~p[7]! & 0xffff)];
  return [];
}

/**
 * Why `addr` is not a public unicast target, or null. IPv6 transition forms are judged by the IPv4
 * addresses they embed (`[::127.0.0.1]` is loopback, `[64:ff9b::8.8.8.8]` is public).
 */
export function nonPublicReason(addr: Addr, allowed: (a: Addr) => boolean = () => false): string | null {
  if (allowed(addr)) return null;
  const range = addr.range();
  if (addr.kind() === 'ipv6' && range !== 'loopback' && range !== 'unspecified') {
    const embedded = embeddedIPv4(addr as ipaddr.IPv6);
    if (embedded.length > 0) {
      const bad = embedded.find((e) => e.range() !== 'unicast' && !allowed(e));
      return bad ? `embeds ${bad.toString()}, a ${bad.range()} address` : null;
    }
  }
  return range === 'unicast' ? null : `is a ${range} address`;
}

/**
 * The one way the runtime talks to the network. Refuses loopback, private, link-local (cloud
 * metadata), CGNAT, multicast and other non-public targets unless allow-listed, judging every
 * address the hostname resolves to; then connects to exactly the address it judged (so DNS
 * rebinding between check and connect is impossible) and re-checks every redirect hop.
 */
export function createOutbound(options: OutboundOptions = {}): Outbound {
  const rules = (options.allow ?? []).map(parseRule);
  const lookup: LookupAll = options.lookup ?? ((h) => dnsLookup(h, { all: true, verbatim: true }));
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  const hostAllowed = (host: string, port: number) =>
    rules.some((r) => r.kind === 'host' && portOk(r, port) && (host === r.host || (r.wildcard && host.endsWith(`.${r.host}`))));
  const ipAllowed = (addr: Addr, port: number) => rules.some((r) => r.kind === 'ip' && portOk(r, port) && inRange(addr, r.range));

  /** Decides whether `url` may be fetched and returns the address to connect to. */
  async function resolveTarget(url: URL, deadline: number): Promise<ResolvedAddress> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw blocked(`Only http and https are allowed, not ${url.protocol}`);
    if (url.username || url.password) throw blocked('Credentials in the URL are not allowed; send a header instead');
    // `localhost.` is `localhost`: a trailing dot only makes a name fully qualified.
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
    if (!host) throw blocked(`${url.hostname} is not a host name`);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const byName = !ipaddr.isValid(host) && hostAllowed(host, port);
    let addresses: ResolvedAddress[];
    if (ipaddr.isValid(host)) {
      addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
    } else if (!byName && (host === 'localhost' || host.endsWith('.localhost'))) {
      throw blocked(`${host} is a loopback name`);
    } else {
      addresses = await withDeadline(lookup(host), deadline, `resolving ${host}`).catch((e: unknown) => {
        throw e instanceof SwitchyardError ? e : failed(`Could not resolve ${host}`, e);
      });
      if (!addresses.length) throw failed(`Could not resolve ${host}`);
    }
    if (!byName) {
      for (const { address } of addresses) {
        const reason = nonPublicReason(parseIp(address), (a) => ipAllowed(a, port));
        if (reason) throw blocked(`${host}${host === address ? '' : ` resolves to ${address}, which`} ${reason}; add it to SWITCHYARD_OUTBOUND_ALLOW to allow it`);
      }
    }
    return addresses[0]!;
  }

  async function request(r: OutboundRequest): Promise<OutboundResponse> {
    const deadline = Date.now() + (r.timeoutMs ?? 10_000);
    let url: URL;
    try {
      url = new URL(r.url);
    } catch (cause) {
      throw new SwitchyardError('BAD_INPUT', `Not a URL: ${r.url}`, { cause });
    }
    let method = (r.method ?? 'GET').toUpperCase();
    let body = r.body;
    let headers = { ...(r.headers ?? {}) };
    for (let hop = 0; ; hop++) {
      const target = await resolveTarget(url, deadline);
      const res = await send(url, target, method, headers, body, deadline, maxBody);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || !location) return { ...res, url: url.toString() };
      if (hop >= (r.maxRedirects ?? 3)) throw failed(`Too many redirects (more than ${r.maxRedirects ?? 3})`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
      // Browsers' rules: 303 always becomes GET, 301/302 turn a POST into GET; 307/308 keep both.
      if ((res.status === 303 && method !== 'HEAD') || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
      }
      url = next;
    }
  }

  return { request };
}

async function withDeadline<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(failed(`Timed out ${what}`)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One HTTP exchange with the connection pinned to `target` (the checked address). */
function send(url: URL, target: ResolvedAddress, method: string, headers: Record<string, string>, body: string | undefined, deadline: number, maxBody: number) {
  const pinned: LookupFunction = (_host, opts, cb) => {
    if (opts.all) (cb as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(failed(`Timed out calling ${url.origin}`));
  return new Promise<Omit<OutboundResponse, 'url'>>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method,
      headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: pinned,
      // A fresh socket per request: a pooled keep-alive socket could point at an unchecked address.
      agent: false,
      signal: AbortSignal.timeout(remaining),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString('utf8'), truncated });
      };
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = maxBody - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          truncated = true;
          res.destroy();
          finish();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => !truncated && finish());
      res.on('error', (e) => !truncated && reject(failed(`Reading the response of ${url.origin} failed`, e)));
    });
    req.on('error', (e) => {
      const timedOut = e.name === 'AbortError' || e.name === 'TimeoutError';
      reject(failed(timedOut ? `Timed out calling ${url.origin}` : `Calling ${url.origin} failed: ${e.message}`, e));
    });
    req.end(body);
  });
}
