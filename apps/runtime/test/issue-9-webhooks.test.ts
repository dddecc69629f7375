import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import { BUSINESS_HOURS, backendsUnderTest, setClock, switchyardCode, useRuntime, waitForRun } from './host-support';

/**
 * Issue 9, webhooks: every deploy issued a new URL and secret (404ing the old URL) and returned a
 * relative path; the signature covered neither a timestamp nor anything unique, so a captured request
 * could be replayed forever; a signed body nested 6,000 deep answered 500 "Maximum call stack size
 * exceeded".
 */
const hookFlow = (title: string) => ({
  schemaVersion: 1, id: 'issue9-hook', kind: 'workflow', name: 'Issue 9 hook',
  nodes: [
    { id: 'hook', type: 'trigger.webhook', position: { x: 0, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', position: { x: 200, y: 0 }, params: { title } },
  ],
  edges: [{ id: 'e1', source: 'hook', target: 'task' }],
});

const NOW_S = Math.floor(BUSINESS_HOURS / 1000);

const sign = (secret: string, ts: number | string, body: string) => `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;

type ErrorBody = { error: { code: string; message: string; issues: { path: (string | number)[]; code?: string; message: string }[] } };

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as ErrorBody & { runId?: string; duplicate?: boolean } };
}

const deliver = (url: string, secret: string, body: string, ts: number = NOW_S, extra: Record<string, string> = {}) =>
  post(url, body, { 'x-switchyard-timestamp': String(ts), 'x-switchyard-signature': sign(secret, ts, body), ...extra });

describe.each(backendsUnderTest())('issue 9: webhooks (%s)', (backend) => {
  const t = useRuntime(backend);

  it('deploy keeps the webhook URL and secret (redeploys, new versions, undeploy/redeploy) and returns an absolute URL', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    await t.api.flows.save.mutate({ document: hookFlow('First') as never });
    const first = (await t.api.flows.deploy.mutate({ docId: 'issue9-hook' })).webhooks[0]!;
    expect(first.url).toMatch(new RegExp(`^${t.rt.url}/hooks/[0-9a-f-]{36}$`));
    expect(first.secret).toEqual(expect.any(String));
    const secret = first.secret!;

    // The same version again, then a new version: same URL, and the secret is not shown again.
    const same = (await t.api.flows.deploy.mutate({ docId: 'issue9-hook' })).webhooks[0]!;
    await t.api.flows.save.mutate({ document: hookFlow('Second') as never });
    const next = (await t.api.flows.deploy.mutate({ docId: 'issue9-hook' })).webhooks[0]!;
    expect([same.url, same.secret, next.url, next.secret]).toEqual([first.url, null, first.url, null]);
    expect((await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks).toEqual([{ nodeId: 'hook', url: first.url }]);

    // The original URL and secret still start runs, of the newly deployed version.
    const ok = await deliver(first.url, secret, '{"n":1}');
    expect(ok.status).toBe(202);
    const run = await waitForRun(t.api, ok.json.runId!, (r) => r.status === 'completed');
    expect(run.nodes.task?.output).toMatchObject({ title: 'Second' });

    // Undeployed: nothing answers there; redeployed: the same URL and secret work again.
    await t.api.flows.undeploy.mutate({ docId: 'issue9-hook' });
    expect((await deliver(first.url, secret, '{"n":2}')).status).toBe(404);
    const back = (await t.api.flows.deploy.mutate({ docId: 'issue9-hook', version: 1 })).webhooks[0]!;
    expect(back.url).toBe(first.url);
    expect((await deliver(first.url, secret, '{"n":3}')).status).toBe(202);
  });

  it('flows.rotateWebhookSecret issues a new secret for the same URL; the old one is refused', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const { url } = (await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks[0]!;
    const rotated = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'hook' });
    expect(rotated).toMatchObject({ nodeId: 'hook', url, active: true });
    const old = await deliver(url, 'not-the-secret', '{"n":4}');
    expect(old.status).toBe(401);
    expect((await deliver(url, rotated.secret, '{"n":4}')).status).toBe(202);
    // A second rotation invalidates the first rotated secret.
    const again = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'hook' });
    expect(again.secret).not.toBe(rotated.secret);
    expect((await deliver(url, rotated.secret, '{"n":5}')).status).toBe(401);
    expect((await deliver(url, again.secret, '{"n":5}')).status).toBe(202);

    const notAHook = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'task' }).catch((e: unknown) => e);
    expect(notAHook).toBeInstanceOf(TRPCClientError);
    expect(switchyardCode(notAHook)).toBe('NOT_FOUND');
    const badInput = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: '' }).catch((e: unknown) => e);
    expect(switchyardCode(badInput)).toBe('BAD_INPUT');
    const otherFlow = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'no-such-flow', nodeId: 'hook' }).catch((e: unknown) => e);
    expect(switchyardCode(otherFlow)).toBe('NOT_FOUND');
  });

  it('a replayed request, a stale or future timestamp, a tampered timestamp and the old body-only signature are refused with typed errors', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const { url } = (await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks[0]!;
    const { secret } = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'hook' });
    const body = '{"order":"R-1"}';
    const headers = { 'x-switchyard-timestamp': String(NOW_S + 10), 'x-switchyard-signature': sign(secret, NOW_S + 10, body) };

    // The captured request works once; the identical bytes again are a replay, even with another Idempotency-Key.
    const first = await post(url, body, headers);
    expect(first.status).toBe(202);
    for (const extra of [{}, { 'idempotency-key': 'fresh-key' }] as Record<string, string>[]) {
      const replay = await post(url, body, { ...headers, ...extra });
      expect(replay.status).toBe(409);
      expect(replay.json.error).toMatchObject({ code: 'CONFLICT', issues: [{ code: 'replayed' }] });
    }

    // Stale (and future) beyond five minutes of the runtime's clock, even when correctly signed.
    for (const ts of [NOW_S - 400, NOW_S + 400]) {
      const stale = await deliver(url, secret, body, ts);
      expect(stale.status).toBe(401);
      expect(stale.json.error).toMatchObject({ code: 'UNAUTHORIZED', issues: [{ path: ['headers', 'x-switchyard-timestamp'], code: 'stale_timestamp' }] });
    }
    // Within the window it is fine; once the clock moves on, the same request is stale.
    const later = await deliver(url, secret, body, NOW_S + 200);
    expect(later.status).toBe(202);
    await setClock(t.rt.url, BUSINESS_HOURS + 10 * 60_000);
    const afterwards = await post(url, body, { 'x-switchyard-timestamp': String(NOW_S + 200), 'x-switchyard-signature': sign(secret, NOW_S + 200, body) });
    expect(afterwards.json.error.issues[0]!.code).toBe('stale_timestamp');
    await setClock(t.rt.url, BUSINESS_HOURS);

    // Moving the timestamp without the secret breaks the signature.
    const tampered = await post(url, body, { ...headers, 'x-switchyard-timestamp': String(NOW_S + 20) });
    expect(tampered.status).toBe(401);
    expect(tampered.json.error.issues[0]!.code).toBe('bad_signature');
    // The old scheme (HMAC of the body alone) and a missing or malformed timestamp are refused.
    const bodyOnly = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    expect((await post(url, body, { 'x-switchyard-timestamp': String(NOW_S + 30), 'x-switchyard-signature': bodyOnly })).json.error.issues[0]!.code).toBe('bad_signature');
    const missing = await post(url, body, { 'x-switchyard-signature': sign(secret, NOW_S, body) });
    expect(missing.status).toBe(401);
    expect(missing.json.error.issues[0]).toMatchObject({ path: ['headers', 'x-switchyard-timestamp'], code: 'missing_header' });
    const malformed = await post(url, body, { 'x-switchyard-timestamp': '2026-01-07T15:00:00Z', 'x-switchyard-signature': sign(secret, '2026-01-07T15:00:00Z', body) });
    expect(malformed.json.error.issues[0]!.code).toBe('bad_timestamp');

    // A sender's genuine retry is signed again: with the same Idempotency-Key it gets the same run.
    const a = await deliver(url, secret, body, NOW_S + 40, { 'idempotency-key': 'order-R-1' });
    const b = await deliver(url, secret, body, NOW_S + 41, { 'idempotency-key': 'order-R-1' });
    expect([a.status, b.status, a.json.duplicate, b.json.duplicate, b.json.runId]).toEqual([202, 202, false, true, a.json.runId]);
  });

  it('a correctly signed body nested 6,000 deep is a typed 400 without internal messages; 60 deep is accepted', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const { url } = (await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks[0]!;
    const { secret } = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'hook' });
    const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
    for (const body of [deepArray(6000), `{"a":${'{"a":'.repeat(6000)}1${'}'.repeat(6001)}`, deepArray(100_000)]) {
      const deep = await deliver(url, secret, body);
      expect(deep.status).toBe(400);
      expect(deep.json.error).toMatchObject({ code: 'BAD_INPUT', issues: [{ code: 'too_deep' }] });
      // The path names where the limit was crossed, under the body, as for any tRPC input.
      expect(deep.json.error.issues[0]!.path[0]).toBe('body');
      expect(deep.json.error.issues[0]!.path).toHaveLength(65);
      expect(deep.text).not.toMatch(/stack|Maximum call/i);
    }
    // Brackets inside strings are not nesting; a body that is not JSON is its text.
    const stringy = await deliver(url, secret, JSON.stringify({ note: '['.repeat(5000) }));
    expect(stringy.status).toBe(202);
    expect((await deliver(url, secret, '['.repeat(5000))).status).toBe(202);
    const fine = await deliver(url, secret, '['.repeat(60) + '1' + ']'.repeat(60));
    expect(fine.status).toBe(202);
    await waitForRun(t.api, fine.json.runId!, (r) => r.status === 'completed');
  });

  it('a signed body with a NUL character, a lone surrogate or a prototype key is a typed 400, not a 500 from the database', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const { url } = (await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks[0]!;
    const { secret } = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'hook' });
    const cases: [string, (string | number)[], string][] = [
      ['{"order":{"note":"a\\u0000b"}}', ['body', 'order', 'note'], 'invalid_text'],
      ['{"list":["ok","\\ud800"]}', ['body', 'list', 1], 'invalid_text'],
      ['{"\\udc00key":1}', ['body', '\udc00key'], 'invalid_text'],
      ['plain text with a NUL \u0000 byte', ['body'], 'invalid_text'],
      ['{"a":{"__proto__":{"admin":true}}}', ['body', 'a', '__proto__'], 'forbidden_key'],
      ['{"constructor":{"prototype":{"x":1}}}', ['body', 'constructor'], 'forbidden_key'],
    ];
    for (const [body, path, code] of cases) {
      const res = await deliver(url, secret, body);
      expect(res.status, body).toBe(400);
      expect(res.json.error, body).toMatchObject({ code: 'BAD_INPUT', issues: [{ path, code }] });
    }
  });

  it('the webhook body and a tRPC input break the same rule with the same typed issue (one JSON rule, assertJsonLimits)', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const { url } = (await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks[0]!;
    const { secret } = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'hook' });
    let deep: unknown = 'x';
    for (let i = 0; i < 70; i++) deep = { d: deep };
    const hook = await deliver(url, secret, JSON.stringify(deep));
    const viaTrpc = await t.api.flows.validate.mutate({ document: deep }).catch((e: unknown) => e);
    expect(switchyardCode(viaTrpc)).toBe('BAD_INPUT');
    const trpcIssue = (viaTrpc as { data?: { switchyard?: { issues: { path: (string | number)[]; code?: string; message: string }[] } } }).data!.switchyard!.issues[0]!;
    const hookIssue = hook.json.error.issues[0]!;
    expect(hookIssue.code).toBe(trpcIssue.code);
    expect(hookIssue.message).toBe(trpcIssue.message);
    // The limit counts from the root of what crossed the wire: the webhook's body is that root, a
    // procedure's input object is one level above `document`, so its path stops one level earlier.
    expect([hookIssue.path[0], trpcIssue.path[0]]).toEqual(['body', 'document']);
    expect(hookIssue.path.slice(1)).toEqual(Array(64).fill('d'));
    expect(trpcIssue.path.slice(1)).toEqual(Array(63).fill('d'));
  });

  it('every webhook answer has the documented error shape, including a body over the limit', async () => {
    const unknown = await post(`${t.rt.url}/hooks/00000000-0000-4000-8000-000000000000`, '{}', {});
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ code: 'NOT_FOUND', issues: [] });
    const { url } = (await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks[0]!;
    const big = await post(url, JSON.stringify({ blob: 'x'.repeat(1024 * 1024 + 10) }), { 'x-switchyard-timestamp': String(NOW_S), 'x-switchyard-signature': 'sha256=00' });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ code: 'BAD_INPUT', issues: [] });
  });

  it('every webhook error also carries error.data.switchyard, as every other error of the server does', async () => {
    await setClock(t.rt.url, BUSINESS_HOURS);
    const { url } = (await t.api.flows.get.query({ docId: 'issue9-hook' })).webhooks[0]!;
    const { secret } = await t.api.flows.rotateWebhookSecret.mutate({ docId: 'issue9-hook', nodeId: 'hook' });
    const once = await deliver(url, secret, '{"n":"once"}', NOW_S + 50);
    expect(once.status).toBe(202);
    const answers = [
      await post(`${t.rt.url}/hooks/00000000-0000-4000-8000-000000000000`, '{}', {}),
      await post(`${t.rt.url}/hooks/not-a-uuid`, '{}', {}),
      await post(url, '{}', {}),
      await deliver(url, 'wrong-secret', '{}'),
      await deliver(url, secret, '['.repeat(100) + ']'.repeat(100)),
      await post(url, '{"n":"once"}', { 'x-switchyard-timestamp': String(NOW_S + 50), 'x-switchyard-signature': sign(secret, NOW_S + 50, '{"n":"once"}') }),
      await post(url, JSON.stringify({ blob: 'x'.repeat(1024 * 1024 + 10) }), { 'x-switchyard-timestamp': String(NOW_S), 'x-switchyard-signature': 'sha256=00' }),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 404, 401, 401, 400, 409, 413]);
    for (const a of answers) {
      const { error } = a.json as unknown as { error: { code: string; issues: unknown[]; data: { httpStatus: number; switchyard: { code: string; issues: unknown[] } } } };
      expect(error.data.switchyard).toEqual({ code: error.code, issues: error.issues });
      expect(error.data.httpStatus).toBe(a.status);
    }
  });
});
