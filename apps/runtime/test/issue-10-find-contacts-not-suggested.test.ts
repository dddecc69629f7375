import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUSINESS_HOURS, OTHER_TOKEN, TOKEN, backendsUnderTest, client, freshStorage, setClock, spawnRuntime, switchyardCode, waitForRun,
  type Backend, type Client, type RuntimeProcess,
} from './host-support';

const DAY = 24 * 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const NOW = BUSINESS_HOURS;

/** Raises one suggestion about the payload's contact with the payload's key (as a behavior's notify step does). */
const suggestFlow = {
  schemaVersion: 1, id: 'suggest', kind: 'workflow', name: 'Suggest',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    {
      id: 'notify', type: 'action.sendNotification', position: { x: 200, y: 0 },
      params: { title: 'Reach out', contactId: '{{ trigger.contactId }}', suggestionKey: '{{ trigger.key }}', dedupeWindow: '7 days' },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'notify' }],
};

const findFlow = (id: string, params: Record<string, unknown>) => ({
  schemaVersion: 1, id, kind: 'workflow', name: id,
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    { id: 'q', type: 'crm.findContacts', position: { x: 200, y: 0 }, params },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'q' }],
});

interface FindOutput { contacts: { email: string }[]; count: number; checkedAt: string; notSuggestedSince?: string }

async function run(api: Client, docId: string, payload: Record<string, unknown> = {}) {
  const { runId } = await api.runs.start.mutate({ docId, payload });
  const r = await waitForRun(api, runId, (x) => ['completed', 'failed', 'skipped'].includes(x.status));
  expect(r.status).toBe('completed');
  return r;
}

async function deploy(api: Client, doc: { id: string }) {
  await api.flows.save.mutate({ document: doc as never });
  await api.flows.deploy.mutate({ docId: doc.id });
}

const suggest = async (api: Client, contactId: string, key: string) => {
  const r = await run(api, 'suggest', { contactId, key });
  expect(r.nodes.notify?.output).toMatchObject({ deduped: false });
};
const emails = async (api: Client, docId: string) => {
  const r = await run(api, docId);
  return (r.nodes.q?.output as FindOutput).contacts.map((c) => c.email.split('@')[0]);
};

describe.each(backendsUnderTest())('issue 10: find contacts not suggested within N days (%s)', (backend: Backend) => {
  let rt: RuntimeProcess;
  let storage: Awaited<ReturnType<typeof freshStorage>>;
  // The user under test has no demo data: these five contacts are all there is.
  let api: Client;
  let owner: Client;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    storage = await freshStorage(backend);
    rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(NOW - 10 * DAY) });
    api = client(rt.url, OTHER_TOKEN);
    owner = client(rt.url, TOKEN);
    // a..e, strongest first, so "top 3 by strength" is a, b, c unless some are left out.
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      const c = await api.crm.contacts.create.mutate({ name: name.toUpperCase(), email: `${name}@crm.test`, relationshipStrength: 0.9 - i * 0.1 } as never);
      ids[name] = c.id;
    }
    await deploy(api, suggestFlow);
    await deploy(owner, suggestFlow);
    const ownersA = await owner.crm.contacts.create.mutate({ name: 'A', email: 'a@crm.test', relationshipStrength: 0.9 } as never);
    ids.ownersA = ownersA.id;
    await deploy(api, findFlow('top3', { limit: 3 }));
    await deploy(api, findFlow('fresh7', { limit: 3, notSuggestedDays: 7 }));
    await deploy(api, findFlow('fresh7-reactivate', { limit: 3, notSuggestedDays: 7, notSuggestedKey: 'reactivate' }));
    await deploy(api, findFlow('fresh14', { limit: 3, notSuggestedDays: 14 }));
  });
  afterAll(async () => {
    await rt?.kill('SIGTERM');
    await storage?.drop();
  });

  it('leaves out contacts suggested within the window (any key, or only the given key); older suggestions and other users\' do not count; the clock moves them back in, across a restart', async () => {
    // 10 days ago: b was suggested (older than 7 days by now).
    await suggest(api, ids.b!, 'reactivate');
    // 3 days ago: a ("reactivate") and c (another kind of suggestion).
    await setClock(rt.url, NOW - 3 * DAY);
    await suggest(api, ids.a!, 'reactivate');
    await suggest(api, ids.c!, 'follow-up');
    // Another user's suggestions: about their own contact with a's address, and naming this user's d
    // (not theirs, so stored without a contact). Neither may leave anyone out here.
    await suggest(owner, ids.ownersA!, 'reactivate');
    await suggest(owner, ids.d!, 'reactivate');

    await setClock(rt.url, NOW);
    // Without the filter: the top three, unchanged, and no new output field.
    const plain = await run(api, 'top3');
    expect((plain.nodes.q?.output as FindOutput).contacts.map((c) => c.email)).toEqual(['a@crm.test', 'b@crm.test', 'c@crm.test']);
    expect(plain.nodes.q?.output).not.toHaveProperty('notSuggestedSince');

    // Any suggestion within 7 days: a and c are out; b's is 10 days old, so b is back; d is untouched by the owner's.
    const fresh = await run(api, 'fresh7');
    expect((fresh.nodes.q?.output as FindOutput).contacts.map((c) => c.email)).toEqual(['b@crm.test', 'd@crm.test', 'e@crm.test']);
    // The cut-off is the run clock's reading (which moves on with real time from the set instant) minus 7 days.
    const out = fresh.nodes.q?.output as FindOutput;
    expect(out.count).toBe(3);
    expect(Date.parse(out.checkedAt)).toBeGreaterThanOrEqual(NOW);
    expect(Date.parse(out.checkedAt)).toBeLessThan(NOW + DAY);
    expect(out.notSuggestedSince).toBe(iso(Date.parse(out.checkedAt) - 7 * DAY));
    // Only "reactivate" suggestions count: c (a follow-up suggestion) stays in.
    expect(await emails(api, 'fresh7-reactivate')).toEqual(['b', 'c', 'd']);
    // 14 days: b's suggestion counts again.
    expect(await emails(api, 'fresh14')).toEqual(['d', 'e']);

    // The owner's own query: their a was suggested 3 days ago, so they have nobody left.
    await deploy(owner, findFlow('mine', { notSuggestedDays: 7, notSuggestedKey: 'reactivate' }));
    const ownerContacts = (await run(owner, 'mine')).nodes.q?.output as FindOutput;
    expect(ownerContacts.contacts.map((c) => c.email)).not.toContain('a@crm.test');

    // Restart five days later: a's suggestion is 8 days old now, so a is back; c's (3 + 5 = 8) too.
    await rt.kill('SIGTERM');
    rt = await spawnRuntime({ ...storage.env, SWITCHYARD_TEST_NOW: String(NOW + 5 * DAY) });
    api = client(rt.url, OTHER_TOKEN);
    expect(await emails(api, 'fresh7')).toEqual(['a', 'b', 'c']);
    // A new suggestion for a at the moved clock leaves it out again.
    await suggest(api, ids.a!, 'reactivate');
    expect(await emails(api, 'fresh7')).toEqual(['b', 'c', 'd']);
    expect(await emails(api, 'fresh7-reactivate')).toEqual(['b', 'c', 'd']);
  });

  it('bad "not suggested" params are compile diagnostics on the node, and deploy refuses them', async () => {
    for (const bad of [0, -1, 366, 7.5, '7', null]) {
      const v = (await api.flows.validate.mutate({ document: findFlow('bad', { notSuggestedDays: bad }) as never } as never)) as unknown as {
        diagnostics: { code: string; nodeId?: string; path: (string | number)[] }[];
      };
      expect(v.diagnostics, `notSuggestedDays: ${JSON.stringify(bad)}`).toEqual([
        expect.objectContaining({ code: 'invalid-params', nodeId: 'q', path: ['nodes', 1, 'params', 'notSuggestedDays'] }),
      ]);
    }
    const longKey = (await api.flows.validate.mutate({ document: findFlow('bad', { notSuggestedDays: 7, notSuggestedKey: 'k'.repeat(301) }) as never } as never)) as unknown as {
      diagnostics: { code: string; nodeId?: string; path: (string | number)[] }[];
    };
    expect(longKey.diagnostics).toEqual([expect.objectContaining({ code: 'invalid-params', nodeId: 'q', path: ['nodes', 1, 'params', 'notSuggestedKey'] })]);
    // The bounds themselves are fine.
    for (const ok of [1, 365]) {
      const v = await api.flows.validate.mutate({ document: findFlow('ok', { notSuggestedDays: ok }) as never } as never) as unknown as { diagnostics: unknown[] };
      expect(v.diagnostics).toEqual([]);
    }
    // Off by default: a document without the params compiles with no trace of them (its compiled JSON is as before).
    const compiled = await api.flows.compile.mutate({ document: findFlow('plain', { dormantDays: 30, limit: 5 }) as never } as never);
    expect(compiled.machine).not.toBeNull();
    expect(JSON.stringify(compiled.machine)).not.toContain('notSuggested');
    await api.flows.save.mutate({ document: findFlow('bad', { notSuggestedDays: 0 }) as never });
    expect(switchyardCode(await api.flows.deploy.mutate({ docId: 'bad' }).catch((e: unknown) => e))).toBe('INVALID_DOCUMENT');
  });
});
