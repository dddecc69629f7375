import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUSINESS_HOURS, TOKEN, loadTemplate, setClock, useRuntime, waitForRun } from './host-support';

/**
 * Issue 9, first run: the README's example sender was not a known contact, so a new user's first
 * event was skipped by the auto-respond flow's contact check. The example is read from the README
 * itself and sent as the README sends it (plain HTTP, the curl's path and body), against the demo
 * data a fresh runtime seeds. Demo data is seeded into the embedded database only (what `npm start`
 * uses without DATABASE_URL, i.e. a new user's first run), so this runs on PGlite.
 */
async function readmeEvent(): Promise<{ path: string; body: string }> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const m = /-d '(\{"type":"email\.received"[^']*)'\s*\\\s*\n\s*localhost:\d+(\/trpc\/events\.emit)/.exec(readme);
  if (!m) throw new Error('README.md has no events.emit curl example with an email.received body');
  return { body: m[1]!, path: m[2]! };
}

describe("issue 9: the README's example event reaches a deployed auto-respond flow (pglite, demo data)", () => {
  const t = useRuntime('pglite');
  beforeAll(async () => {
    const tpl = await loadTemplate('auto-respond-important');
    await t.api.flows.save.mutate({ document: tpl.documents[0] as never });
    await t.api.flows.deploy.mutate({ docId: 'auto-respond-important' });
  });

  it('its sender is one of the demo contacts, and the flow runs to the end instead of being skipped', async () => {
    const { path, body } = await readmeEvent();
    const from = (JSON.parse(body) as { payload: { from: string } }).payload.from;
    const contacts = await t.api.crm.contacts.list.query({ search: from } as never);
    expect((contacts as { items: { email: string }[] }).items.map((c) => c.email)).toContain(from);

    await setClock(t.rt.url, BUSINESS_HOURS);
    const res = await fetch(`${t.rt.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    const { result } = (await res.json()) as { result: { data: { runs: { runId: string; docId: string }[] } } };
    const mine = result.data.runs.find((r) => r.docId === 'auto-respond-important');
    expect(mine).toBeDefined();
    const run = await waitForRun(t.api, mine!.runId, (r) => r.status !== 'running');
    expect(run.status).toBe('completed');

    // The README's next sentence: the same emailId again is a duplicate and starts nothing new.
    const again = await fetch(`${t.rt.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
    const dup = ((await again.json()) as { result: { data: { duplicate: boolean; runs: { runId: string }[] } } }).result.data;
    expect(dup.duplicate).toBe(true);
    expect(dup.runs.map((r) => r.runId)).toEqual([mine!.runId]);
  });
});
