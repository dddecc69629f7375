import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { rejection } from './support/test-db';
import { startAgentsServer, type AgentsServer } from './support/agents-support';
import { BUILTIN_TEMPLATES_DIR, templatesOf } from '../src/templates/wiring';

/**
 * Issue 12, the catalog's edges: built-ins from a folder of their own (a version that rises is
 * added, a broken or under-declared file is skipped), a bundle too large for the API, and a
 * catalog entry whose flows need more than it declares refused at install.
 */
describe.each(backendsUnderTest())('issue 12: the catalog (%s)', (backend) => {
  let s: AgentsServer;
  let dir: string;
  const count = async (table: string, where = 'true') => Number((await s.query<{ n: string }>(`select count(*) as n from ${table} where ${where}`))[0]!.n);
  const file = (name: string) => join(dir, name);
  const readJson = (name: string) => JSON.parse(readFileSync(file(name), 'utf8')) as Record<string, unknown>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-builtins-'));
    for (const f of ['notify-important-email.json', 'welcome-new-contact.json']) copyFileSync(join(BUILTIN_TEMPLATES_DIR, f), file(f));
    // Read by the templates service when the server makes it (this test file runs in its own process).
    process.env.SWITCHYARD_TEMPLATES_DIR = dir;
    s = await startAgentsServer(backend);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
    delete process.env.SWITCHYARD_TEMPLATES_DIR;
    rmSync(dir, { recursive: true, force: true });
  });

  it('built-ins: a version that rises is added on the next load, a broken, under-declared or non-rising file changes nothing', async () => {
    expect((await s.api.templates.search.query({ limit: 100 })).items.map((t) => t.id).sort()).toEqual(['notify-important-email', 'welcome-new-contact']);
    const notify = await s.api.templates.get.query({ id: 'notify-important-email' });
    const { install } = await s.api.templates.install.mutate({ id: 'notify-important-email', acceptPermissions: notify.permissions });
    const welcomeBefore = await s.api.templates.get.query({ id: 'welcome-new-contact' });

    const next = readJson('notify-important-email.json');
    writeFileSync(file('notify-important-email.json'), JSON.stringify({
      ...next, version: '1.1.0', description: 'Now with a clearer title.',
      changelog: [{ version: '1.1.0', notes: 'A clearer title.' }, ...(next.changelog as unknown[])],
    }));
    // Same version, other content: not a new version.
    writeFileSync(file('welcome-new-contact.json'), JSON.stringify({ ...readJson('welcome-new-contact.json'), description: 'Changed without a new version' }));
    writeFileSync(file('broken.json'), '{ "id": "broken", ');
    writeFileSync(file('under-declared.json'), JSON.stringify({
      id: 'under-declared', name: 'Under-declared', description: 'Sends email but declares only contacts.read', category: 'email', author: 'Tests', version: '1.0.0',
      requiredPermissions: ['contacts.read'],
      documents: [{ schemaVersion: 1, id: 'sends', kind: 'workflow', name: 'Sends', nodes: [
        { id: 'c', type: 'trigger.contactCreated', params: {} },
        { id: 'm', type: 'action.sendEmail', params: { to: '{{ trigger.email }}', subject: 'Hi', body: 'Hello' } },
      ], edges: [{ id: 'e', source: 'c', target: 'm' }] }],
    }));
    const before = { templates: await count('templates'), versions: await count('template_versions') };
    expect(await templatesOf(s.server.services).loadBuiltins()).toEqual({ added: [], upgraded: ['notify-important-email'], skipped: ['broken.json', 'under-declared.json'] });
    expect({ templates: await count('templates'), versions: await count('template_versions') }).toEqual({ templates: before.templates, versions: before.versions + 1 });

    const after = await s.api.templates.get.query({ id: 'notify-important-email' });
    expect(after).toMatchObject({ version: '1.1.0', description: 'Now with a clearer title.' });
    expect(after.versions.map((v) => [v.version, v.notes])).toEqual([['1.1.0', 'A clearer title.'], ['1.0.0', expect.any(String)]]);
    expect((await s.api.templates.get.query({ id: 'welcome-new-contact' })).description).toBe(welcomeBefore.description);
    expect(switchyardCode(await rejection(s.api.templates.get.query({ id: 'under-declared' })))).toBe('NOT_FOUND');
    // The install made from 1.0.0 is offered the update, and stays on 1.0.0 until it takes it.
    expect((await s.api.templates.installed.query({ templateId: 'notify-important-email' })).items[0]).toMatchObject({ id: install.id, version: '1.0.0', updateAvailable: true, latestVersion: '1.1.0' });
    // Loading again (another process starting) adds nothing.
    expect(await templatesOf(s.server.services).loadBuiltins()).toEqual({ added: [], upgraded: [], skipped: ['broken.json', 'under-declared.json'] });
    expect(await count('template_versions')).toBe(before.versions + 1);
  });

  it('a 10 MB document sent to the API is a typed BAD_INPUT and changes nothing', async () => {
    const before = { templates: await count('templates'), versions: await count('template_versions') };
    const huge = {
      id: 'huge', name: 'Huge', description: '', category: 'productivity', author: 'Tests', version: '1.0.0', requiredPermissions: ['tasks.write'],
      documents: [{ schemaVersion: 1, id: 'huge-flow', kind: 'workflow', name: 'Huge', nodes: [
        { id: 'start', type: 'trigger.manual', params: {} },
        { id: 'task', type: 'action.createTask', params: { title: 'x', description: 'y'.repeat(10 * 1024 * 1024) } },
      ], edges: [{ id: 'e', source: 'start', target: 'task' }] }],
    };
    const refused = await rejection(s.api.templates.publish.mutate({ bundle: huge }));
    expect(switchyardCode(refused)).toBe('BAD_INPUT');
    expect({ templates: await count('templates'), versions: await count('template_versions') }).toEqual(before);
    // The server still answers afterwards.
    expect((await s.api.templates.search.query({ limit: 1 })).items).toHaveLength(1);
  });

  it('a catalog entry whose flows need more than it declares is refused at install, and nothing is created', async () => {
    // A catalog row written before a permission rule existed (the checks on entry refuse such a bundle today).
    const bundle = {
      id: 'stale-perms', name: 'Stale permissions', description: 'Declares contacts.read, sends email', category: 'email', tags: [], author: 'Tests', version: '1.0.0',
      changelog: [], variables: [], agents: [], docs: '', requiredPermissions: ['contacts.read'],
      documents: [{ schemaVersion: 1, id: 'stale-sends', kind: 'workflow', name: 'Sends', description: '', version: 1, settings: {}, nodes: [
        { id: 'c', type: 'trigger.contactCreated', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
        { id: 'm', type: 'action.sendEmail', typeVersion: 1, position: { x: 250, y: 0 }, params: { to: '{{ trigger.email }}', subject: 'Hi', body: 'Hello' } },
      ], edges: [{ id: 'e', source: 'c', sourceHandle: 'out', target: 'm', targetHandle: 'in' }] }],
    };
    const at = new Date().toISOString();
    await s.query(`insert into templates (id, source, owner_id, name, description, category, tags, author, latest_version, permissions, published, created_at, updated_at)
                   values ('stale-perms', 'builtin', null, ?, ?, 'email', '[]'::jsonb, 'Tests', '1.0.0', '["contacts.read"]'::jsonb, true, ?, ?)`, [bundle.name, bundle.description, at, at]);
    await s.query(`insert into template_versions (template_id, version, major, minor, patch, bundle, permissions, created_at)
                   values ('stale-perms', '1.0.0', 1, 0, 0, ?::jsonb, '["contacts.read"]'::jsonb, ?)`, [JSON.stringify(bundle), at]);
    const before = { flows: await count('flows'), agents: await count('agents'), installs: await count('template_installs') };
    const refused = await rejection(s.api.templates.install.mutate({ id: 'stale-perms', acceptPermissions: ['contacts.read'] }));
    expect(switchyardCode(refused)).toBe('FORBIDDEN');
    expect(refused.message).toContain('email.send');
    // Accepting more than the entry declares does not help: what it declares must cover what it does.
    expect(switchyardCode(await rejection(s.api.templates.install.mutate({ id: 'stale-perms', acceptPermissions: ['contacts.read', 'email.send'] })))).toBe('FORBIDDEN');
    expect({ flows: await count('flows'), agents: await count('agents'), installs: await count('template_installs') }).toEqual(before);
    expect((await s.api.templates.get.query({ id: 'stale-perms' })).installs).toBe(0);
  });
});
