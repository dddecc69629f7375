import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyTRPCProcedure } from '@trpc/server';
import { authenticate, hashToken, upsertUsers } from '../src/auth/auth';
import { loadConfig } from '../src/config';
import type { Database } from '../src/db/database';
import { describeError } from '../src/errors';
import { appRouter } from '../src/router';
import { createCallerFactory } from '../src/trpc';
import { backends, openTestDatabase, startTestServer, type TestServer } from './support/test-db';

/** Every procedure but `health`, read from the router itself so new ones are covered automatically. */
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>)
  .filter(([path]) => path !== 'health')
  .map(([path, proc]) => ({ path, type: proc._def.type }));

/** Calls a procedure over HTTP the way httpLink does (no batching) and returns the status + error. */
async function call(url: string, path: string, type: string, headers: Record<string, string> = {}) {
  const res = type === 'query'
    ? await fetch(`${url}/trpc/${path}?input=${encodeURIComponent('{}')}`, { headers })
    : await fetch(`${url}/trpc/${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
  const body = (await res.json()) as { error?: { data?: { code?: string; switchyard?: { code?: string } } } };
  return { status: res.status, code: body.error?.data?.code, switchyard: body.error?.data?.switchyard?.code };
}

describe.each(backends())('authentication (%s)', (kind) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(kind);
  });
  afterAll(async () => {
    await ts?.stop();
  });

  it('covers the whole router, crm included', () => {
    expect(procedures.map((p) => p.path)).toEqual(expect.arrayContaining(['crm.contacts.list', 'crm.notifications.act', 'crm.drafts.update']));
  });

  it.each(procedures.filter((p) => p.type !== 'subscription'))('$path needs a token', async ({ path, type }) => {
    expect(await call(ts.url, path, type)).toEqual({ status: 401, code: 'UNAUTHORIZED', switchyard: 'UNAUTHORIZED' });
  });

  it('subscriptions need a token too', async () => {
    const caller = createCallerFactory(appRouter)({ user: null, em: ts.server.services.db.orm.em.fork(), services: ts.server.services });
    for (const { path } of procedures.filter((p) => p.type === 'subscription')) {
      const fn = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], caller) as (input: unknown) => Promise<unknown>;
      const error = await fn({}).then(() => null, (e: unknown) => e);
      expect(error && describeError(error as never).code, path).toBe('UNAUTHORIZED');
    }
  });

  it('rejects a wrong token, a malformed header and a ?token= query parameter', async () => {
    expect((await call(ts.url, 'crm.contacts.list', 'query', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await call(ts.url, 'crm.contacts.list', 'query', { authorization: ts.token })).status).toBe(401);
    const res = await fetch(`${ts.url}/trpc/crm.contacts.list?token=${ts.token}`);
    expect(res.status).toBe(401);
  });

  it('accepts the owner and other configured users', async () => {
    expect((await call(ts.url, 'crm.contacts.list', 'query', { authorization: `Bearer ${ts.token}` })).status).toBe(200);
    expect((await call(ts.url, 'crm.contacts.list', 'query', { authorization: `bearer ${ts.otherToken}` })).status).toBe(200);
  });

  it('answers health without a token', async () => {
    const res = await fetch(`${ts.url}/trpc/health`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { data: unknown } }).result.data).toMatchObject({ ok: true, db: kind });
  });
});

describe.each(backends())('users from the configuration (%s)', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('stores only token hashes, keeps ids across restarts, re-keys and revokes', async () => {
    const em = () => db.orm.em.fork();
    const first = await upsertUsers(em(), [{ name: 'owner', token: 'owner-token-aaaaaaaaaaaa' }, { name: 'bob', token: 'bob-token-bbbbbbbbbbbbbb' }]);
    const rows = (await em().execute('select name, token_hash from users order by name')) as { name: string; token_hash: string }[];
    expect(rows).toEqual([{ name: 'bob', token_hash: hashToken('bob-token-bbbbbbbbbbbbbb') }, { name: 'owner', token_hash: hashToken('owner-token-aaaaaaaaaaaa') }]);
    expect(await authenticate(em(), 'bob-token-bbbbbbbbbbbbbb')).toEqual(first[1]);

    // Restart: the owner's token changed, bob is no longer configured.
    const second = await upsertUsers(em(), [{ name: 'owner', token: 'owner-token-cccccccccccc' }]);
    expect(second[0]?.id).toBe(first[0]?.id);
    expect(await authenticate(em(), 'owner-token-aaaaaaaaaaaa')).toBeNull();
    expect(await authenticate(em(), 'owner-token-cccccccccccc')).toEqual(first[0]);
    expect(await authenticate(em(), 'bob-token-bbbbbbbbbbbbbb')).toBeNull();
    expect(await authenticate(em(), '')).toBeNull();
  });
});

describe('loadConfig', () => {
  it('applies defaults and generates a token when none is given', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ databaseUrl: undefined, dataDir: './.switchyard/data', port: 4310, host: '127.0.0.1', tokenGenerated: true, testHooks: false, outboundAllow: [] });
    expect(c.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(loadConfig({}).token).not.toBe(c.token);
  });

  it('parses users, allow list, port 0 and treats empty strings as unset', () => {
    const c = loadConfig({ PORT: '0', DATABASE_URL: '', SWITCHYARD_TOKEN: 'x'.repeat(20), SWITCHYARD_USERS: 'amy:aaaaaaaaaaaaaaaaaaaa, ben:bbbbbbbbbbbbbbbbbbbb', SWITCHYARD_OUTBOUND_ALLOW: 'api.example.com, 10.0.0.0/8', SWITCHYARD_TEST_HOOKS: '1' });
    expect(c).toMatchObject({ port: 0, databaseUrl: undefined, tokenGenerated: false, testHooks: true, outboundAllow: ['api.example.com', '10.0.0.0/8'] });
    expect(c.users.map((u) => u.name)).toEqual(['owner', 'amy', 'ben']);
  });

  it('names every bad variable', () => {
    let message = '';
    try {
      loadConfig({ PORT: '70000', DATABASE_URL: 'mysql://x', SWITCHYARD_USERS: 'nocolon', SWITCHYARD_TEST_HOOKS: 'yes' });
    } catch (e) {
      message = (e as Error).message;
    }
    for (const v of ['PORT', 'DATABASE_URL', 'SWITCHYARD_USERS', 'SWITCHYARD_TEST_HOOKS']) expect(message).toContain(v);
  });

  it("takes the embedded database's buffer pool as a size from 1MB to 1GB (default 32MB)", () => {
    expect(loadConfig({}).pgliteSharedBuffers).toBe('32MB');
    for (const ok of ['1MB', '1024kB', '256MB', '1GB']) expect(loadConfig({ SWITCHYARD_PGLITE_SHARED_BUFFERS: ok }).pgliteSharedBuffers).toBe(ok);
    for (const bad of ['32', '0MB', '512kB', '2GB', '32mb', '1.5GB', '-1MB', "32MB'; drop table runs; --", '9'.repeat(40) + 'MB']) {
      expect(() => loadConfig({ SWITCHYARD_PGLITE_SHARED_BUFFERS: bad }), bad).toThrow(/SWITCHYARD_PGLITE_SHARED_BUFFERS: must be a size between 1MB and 1GB/);
    }
  });
});
