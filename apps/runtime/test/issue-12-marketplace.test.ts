import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { rejection } from './support/test-db';
import { startAgentsServer, waitForRun, type AgentsServer } from './support/agents-support';
import { templatesOf } from '../src/templates/wiring';

const NOW = Date.UTC(2026, 0, 7, 15, 0);

const flow = (id: string, nodes: unknown[], edges: unknown[] = []) => ({ schemaVersion: 1, id, kind: 'workflow', name: id, nodes, edges });
const manualTask = (id: string, title: string) => flow(id, [
  { id: 'start', type: 'trigger.manual', params: {} },
  { id: 'task', type: 'action.createTask', params: { title } },
], [{ id: 'e1', source: 'start', target: 'task' }]);

/** A minimal valid bundle; `extra` overrides fields. */
const bundle = (id: string, extra: Record<string, unknown> = {}) => ({
  id, name: `Template ${id}`, description: 'A generated template', category: 'productivity', author: 'Tests', version: '1.0.0',
  requiredPermissions: ['tasks.write'], documents: [manualTask(`${id}-flow`, 'Do it')], ...extra,
});

describe.each(backendsUnderTest())('issue 12: the template marketplace (%s)', (backend) => {
  let s: AgentsServer;
  const count = async (table: string) => Number((await s.query<{ n: string }>(`select count(*) as n from ${table}`))[0]!.n);

  beforeAll(async () => {
    s = await startAgentsServer(backend);
    s.clock.set(NOW);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('loads the built-in templates on start, each compiles, and search ranks an exact name before a description match', async () => {
    const all = await s.api.templates.search.query({ limit: 100 });
    expect(all.items.length).toBeGreaterThanOrEqual(10);
    expect(all.items.map((t) => t.id)).toEqual(expect.arrayContaining(['sales-assistant', 'meeting-scheduler', 'auto-respond-important', 'daily-pipeline-review', 'welcome-new-contact']));
    expect(all.items.every((t) => t.source === 'builtin' && t.previews.length + t.agents.length > 0)).toBe(true);
    const sales = await s.api.templates.search.query({ query: 'sales' });
    expect(sales.items.map((t) => t.id)).toEqual(['sales-assistant']);
    // "Pipeline" is in one built-in's name and only in the other's tags: the name match comes first.
    const pipeline = await s.api.templates.search.query({ query: 'pipeline' });
    expect(pipeline.items.map((t) => t.id)).toEqual(['daily-pipeline-review', 'sales-assistant']);
    expect(pipeline.items[0]!.relevance).toBeGreaterThan(pipeline.items[1]!.relevance);
    const exact = await s.api.templates.search.query({ query: 'meeting scheduler' });
    expect(exact.items[0]!.id).toBe('meeting-scheduler');
    expect((await s.api.templates.search.query({ category: 'scheduling' })).items.map((t) => t.id)).toEqual(['meeting-scheduler']);
    // Only what needs no more than reading email and notifying.
    const narrow = await s.api.templates.search.query({ permissions: ['email.read', 'notifications.write'] });
    expect(narrow.items.map((t) => t.id)).toEqual(['notify-important-email']);
    const detail = await s.api.templates.get.query({ id: 'sales-assistant' });
    expect(detail).toMatchObject({ name: 'Sales Assistant', version: '1.0.1', versions: [{ version: '1.0.1' }], agents: [{ name: 'Sales Assistant' }] });
    expect(detail.docs).toContain('# Sales Assistant');
    expect(detail.variables.map((v) => v.key)).toEqual(['product', 'tone', 'personality']);
    // Loading again changes nothing (same versions).
    expect(await templatesOf(s.server.services).loadBuiltins()).toEqual({ added: [], upgraded: [], skipped: [] });
  });

  it('installs Sales Assistant with a custom name and personality: agent and flows in one go, count and origin kept', async () => {
    const before = await s.api.templates.get.query({ id: 'sales-assistant' });
    const refused = await rejection(s.api.templates.install.mutate({ id: 'sales-assistant', variables: { product: 'Widgets' }, acceptPermissions: ['contacts.read'] }));
    expect(switchyardCode(refused)).toBe('FORBIDDEN');
    expect(switchyardCode(await rejection(s.api.templates.install.mutate({ id: 'sales-assistant', variables: {}, acceptPermissions: before.permissions })))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.api.templates.install.mutate({ id: 'sales-assistant', variables: { product: 'W', tone: 'rude' }, acceptPermissions: before.permissions })))).toBe('BAD_INPUT');
    expect((await s.api.agents.list.query()).items).toEqual([]);

    const { install } = await s.api.templates.install.mutate({
      id: 'sales-assistant', name: 'Ada’s Closer', acceptPermissions: before.permissions, deploy: true,
      variables: { product: 'Switchyard Pro', personality: { formality: 0.2, enthusiasm: 0.9, brevity: 0.5, proactivity: 0.5, creativity: 0.5, empathy: 0.5 } },
    });
    expect(install).toMatchObject({ installedFrom: 'sales-assistant@1.0.1', name: 'Ada’s Closer', updateAvailable: false });
    expect(install.agents).toHaveLength(1);
    expect(install.flows.map((f) => f.status)).toEqual(['deployed', 'deployed']);
    const agent = await s.api.agents.get.query({ id: install.agents[0]!.id });
    expect(agent).toMatchObject({ name: 'Ada’s Closer', personality: { formality: 0.2, enthusiasm: 0.9 } });
    expect(agent.systemPrompt).toContain('Switchyard Pro');
    const replies = await s.api.flows.get.query({ docId: install.flows.find((f) => f.ref === 'sales-replies')!.docId });
    expect(replies.document.nodes.find((n) => n.id === 'reply')!.params).toMatchObject({ agentId: agent.id, params: { tone: 'friendly' } });
    expect((await s.api.flows.versions.query({ docId: replies.flow.docId })).items[0]!.note).toBe('Installed from sales-assistant@1.0.1');
    expect((await s.api.templates.get.query({ id: 'sales-assistant' })).installs).toBe(before.installs + 1);

    // It runs on an email: the agent drafts a reply, then the review task.
    const contact = await s.api.crm.contacts.create.mutate({ name: 'Grace Hopper', email: 'grace@navy.test' } as never);
    expect(contact).toBeTruthy();
    await s.api.events.emit.mutate({ type: 'email.received', payload: { from: 'grace@navy.test', to: ['me@x.test'], subject: 'Pricing?', body: 'What does Pro cost?', isUnread: true } } as never);
    const runs = async () => (await s.api.runs.list.query({ docId: replies.flow.docId } as never)).items as { id: string }[];
    for (let i = 0; i < 100 && (await runs()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const run = await waitForRun(s.api as never, (await runs())[0]!.id, (r) => ['completed', 'failed', 'waiting'].includes(r.status));
    expect(run.status).toBe('completed');

    // Installs are per user.
    expect((await s.other.templates.installed.query()).items).toEqual([]);
    expect(switchyardCode(await rejection(s.other.templates.uninstall.mutate({ installId: install.id })))).toBe('NOT_FOUND');
    expect((await s.api.templates.installed.query()).items.map((i) => i.id)).toContain(install.id);
  });

  it('ratings: 1-5 per user, changeable, with text; average and count', async () => {
    await s.api.templates.rate.mutate({ id: 'meeting-scheduler', stars: 5, review: 'Great' });
    await s.api.templates.rate.mutate({ id: 'meeting-scheduler', stars: 4, review: 'Good, not perfect' });
    await s.other.templates.rate.mutate({ id: 'meeting-scheduler', stars: 1 });
    const t = await s.api.templates.get.query({ id: 'meeting-scheduler' });
    expect(t.rating).toEqual({ average: 2.5, count: 2 });
    expect(t.myRating).toEqual({ stars: 4, review: 'Good, not perfect' });
    expect(t.reviews.map((r) => r.stars).sort()).toEqual([1, 4]);
    expect(switchyardCode(await rejection(s.api.templates.rate.mutate({ id: 'meeting-scheduler', stars: 6 })))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.api.templates.rate.mutate({ id: 'no-such-template', stars: 3 })))).toBe('NOT_FOUND');
  });

  it('bad bundles get typed errors and leave the catalog unchanged', async () => {
    const catalog = await count('templates');
    const versions = await count('template_versions');
    const code = async (b: unknown) => switchyardCode(await rejection(s.api.templates.publish.mutate({ bundle: b })));
    const { name: _n, ...noName } = bundle('bad-missing');
    expect(await code(noName)).toBe('BAD_INPUT');
    expect(await code(bundle('bad-unknown', { documents: [flow('x', [{ id: 'a', type: 'trigger.manual' }, { id: 'b', type: 'action.launchRocket' }], [{ id: 'e', source: 'a', target: 'b' }])] }))).toBe('INVALID_DOCUMENT');
    expect(await code(bundle('bad-script', { docs: '# Hi\n\n<script>alert(1)</script>' }))).toBe('BAD_INPUT');
    expect(await code(bundle('bad-link', { docs: '[click](javascript:alert(1))' }))).toBe('BAD_INPUT');
    const hook = (headers: Record<string, string>, url = 'https://hooks.example.com/x') => flow('hook', [
      { id: 'start', type: 'trigger.manual' }, { id: 'post', type: 'action.webhook', params: { url, headers } },
    ], [{ id: 'e', source: 'start', target: 'post' }]);
    expect(await code(bundle('bad-secret', { requiredPermissions: ['webhooks.call'], documents: [hook({ Authorization: 'Bearer abcdefghijklmnop1234' })] }))).toBe('BAD_INPUT');
    expect(await code(bundle('bad-key', { requiredPermissions: ['webhooks.call'], documents: [hook({}, 'https://api.example.com/?key=sk-abcdefghijklmnopqrstuvwx')] }))).toBe('BAD_INPUT');
    // Declares only contacts.read, but its flow sends email.
    const sends = flow('sends', [{ id: 'c', type: 'trigger.contactCreated' }, { id: 'm', type: 'action.sendEmail', params: { to: '{{ trigger.email }}', subject: 'Hi', body: 'Hello' } }], [{ id: 'e', source: 'c', target: 'm' }]);
    const under = await rejection(s.api.templates.publish.mutate({ bundle: bundle('bad-perms', { requiredPermissions: ['contacts.read'], documents: [sends] }) }));
    expect(switchyardCode(under)).toBe('BAD_INPUT');
    expect(under.message).toContain('email.send');
    // A 3 MB document passes the API's JSON limit but not the bundle's; 10 MB is refused before the service.
    const big = manualTask('big', 'x');
    (big.nodes[1] as { params: unknown }).params = { title: 'x', note: 'y'.repeat(3 * 1024 * 1024) };
    expect(await code(bundle('bad-big', { documents: [big] }))).toBe('BAD_INPUT');
    const owner = (await s.query<{ id: string }>('select id from users order by created_at limit 1'))[0]!.id;
    await expect(templatesOf(s.server.services).publish(owner, { bundle: bundle('bad-10mb', { docs: 'x'.repeat(10 * 1024 * 1024) }) })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    // A version that does not rise.
    await s.api.templates.publish.mutate({ bundle: bundle('mine-1') });
    expect(await code(bundle('mine-1'))).toBe('CONFLICT');
    expect(await code(bundle('mine-1', { version: '0.9.0' }))).toBe('CONFLICT');
    // Another user may not take the id; a built-in's id is taken too.
    expect(switchyardCode(await rejection(s.other.templates.publish.mutate({ bundle: bundle('mine-1', { version: '2.0.0' }) })))).toBe('CONFLICT');
    expect(await code(bundle('sales-assistant', { version: '9.0.0' }))).toBe('CONFLICT');
    expect(await count('templates')).toBe(catalog + 1);
    expect(await count('template_versions')).toBe(versions + 1);
    // Unpublished: gone for others, still visible to its author.
    await s.api.templates.unpublish.mutate({ id: 'mine-1' });
    expect(switchyardCode(await rejection(s.other.templates.get.query({ id: 'mine-1' })))).toBe('NOT_FOUND');
    expect((await s.api.templates.get.query({ id: 'mine-1' })).published).toBe(false);
    expect(switchyardCode(await rejection(s.other.templates.unpublish.mutate({ id: 'sales-assistant' })))).toBe('NOT_FOUND');
  });

  it('publishes from the caller\'s own flows and agents: agent refs, secrets stripped, permissions computed, new versions must rise', async () => {
    const helper = await s.api.agents.create.mutate({ name: 'Drafter', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    await s.api.flows.save.mutate({ document: {
      schemaVersion: 1, id: 'own-flow', kind: 'workflow', name: 'Own flow', settings: {},
      nodes: [
        { id: 'email', type: 'trigger.emailReceived', position: { x: 0, y: 0 }, params: {} },
        { id: 'draft', type: 'agent.runSkill', position: { x: 250, y: 0 }, params: { agentId: helper.id, skill: 'draft-email', params: {} } },
        { id: 'hook', type: 'action.webhook', position: { x: 500, y: 0 }, params: { url: 'https://crm.example.com/in', headers: { Authorization: 'Bearer abcdefghijklmnopqrstuvwxyz', 'X-Trace': 'on' } } },
      ],
      edges: [{ id: 'e1', source: 'email', target: 'draft' }, { id: 'e2', source: 'draft', target: 'hook' }],
    } as never });
    // The flow's agent must be part of the template.
    expect(switchyardCode(await rejection(s.api.templates.publish.mutate({ id: 'own', name: 'Own', category: 'email', version: '1.0.0', flows: ['own-flow'], agents: [] })))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.other.templates.publish.mutate({ id: 'own', name: 'Own', category: 'email', version: '1.0.0', flows: ['own-flow'], agents: [helper.id] })))).toBe('NOT_FOUND');
    const published = await s.api.templates.publish.mutate({ id: 'own', name: 'Own', category: 'email', version: '1.0.0', changelog: 'First', flows: ['own-flow'], agents: [helper.id], docs: '# Own' });
    expect(published.stripped).toEqual(['Own flow › hook › header Authorization']);
    expect([...published.permissions].sort()).toEqual(['agents.run', 'contacts.read', 'email.draft', 'email.read', 'webhook:crm.example.com']);
    const seen = await s.other.templates.get.query({ id: 'own' });
    expect(seen.agents.map((a) => a.name)).toEqual(['Drafter']);
    const bundle = (await s.query<{ bundle: { documents: { nodes: { id: string; params: Record<string, unknown> }[] }[] } }>(`select bundle from template_versions where template_id = 'own'`))[0]!.bundle;
    const nodes = bundle.documents[0]!.nodes;
    expect(nodes.find((n) => n.id === 'draft')!.params.agentId).toMatch(/^@\{agent\.drafter-1\}$/);
    expect(nodes.find((n) => n.id === 'hook')!.params.headers).toEqual({ 'X-Trace': 'on' });
    // Another user installs it: their own agent, the flow bound to it.
    const { install } = await s.other.templates.install.mutate({ id: 'own', acceptPermissions: seen.permissions });
    const theirs = await s.other.flows.get.query({ docId: install.flows[0]!.docId });
    expect(theirs.document.nodes.find((n) => n.id === 'draft')!.params.agentId).toBe(install.agents[0]!.id);
    expect(switchyardCode(await rejection(s.api.templates.publish.mutate({ id: 'own', name: 'Own', category: 'email', version: '1.0.0', flows: ['own-flow'], agents: [helper.id] })))).toBe('CONFLICT');
    const v2 = await s.api.templates.publish.mutate({ id: 'own', name: 'Own', category: 'email', version: '1.1.0', changelog: 'Second', flows: ['own-flow'], agents: [helper.id] });
    expect(v2.version).toBe('1.1.0');
    expect(switchyardCode(await rejection(s.api.templates.rate.mutate({ id: 'own', stars: 5 })))).toBe('FORBIDDEN');
    await s.other.templates.rate.mutate({ id: 'own', stars: 3 });
    expect((await s.other.templates.get.query({ id: 'own' })).versions.map((v) => [v.version, v.notes])).toEqual([['1.1.0', 'Second'], ['1.0.0', 'First']]);
    expect((await s.other.templates.installed.query({ templateId: 'own' })).items[0]).toMatchObject({ updateAvailable: true });
  });

  it('a plan template: its steps name the bundle\'s agent, installing binds it and does not deploy the plan', async () => {
    const planBundle = bundle('plan-pitch', {
      category: 'sales', requiredPermissions: ['agents.run', 'contacts.read', 'email.read', 'memory.write', 'email.draft'],
      agents: [{ ref: 'rep', name: 'Rep', skills: ['research-contact', 'draft-sales-email'], tools: ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory', 'createDraft'] }],
      documents: [{
        schemaVersion: 1, id: 'research-then-pitch', kind: 'plan', name: 'Research, then pitch',
        nodes: [
          { id: 'research', type: 'plan.step', params: { name: 'research', skill: 'research-contact', agent: '@{agent.rep}', params: { contactId: '{{ context.contactId }}' } } },
          { id: 'pitch', type: 'plan.step', position: { x: 300, y: 0 }, params: { name: 'pitch', skill: 'draft-sales-email', agent: '@{agent.rep}', params: { contactId: '{{ context.contactId }}', product: 'Pro' } } },
        ],
        edges: [{ id: 'e1', source: 'research', target: 'pitch' }],
      }],
    });
    // "any" cannot be counted for permissions: a plan step must name the template's agent.
    const anyAgent = structuredClone(planBundle) as typeof planBundle & { documents: { nodes: { params: Record<string, unknown> }[] }[] };
    anyAgent.documents[0]!.nodes[0]!.params.agent = 'any';
    expect(switchyardCode(await rejection(s.api.templates.publish.mutate({ bundle: anyAgent })))).toBe('BAD_INPUT');
    const published = await s.api.templates.publish.mutate({ bundle: planBundle });
    expect(published.permissions).toContain('agents.run');
    const { install, deployed, failed } = await s.api.templates.install.mutate({ id: 'plan-pitch', acceptPermissions: published.permissions, deploy: true });
    expect({ deployed, failed }).toEqual({ deployed: [], failed: [] });
    const plan = await s.api.flows.get.query({ docId: install.flows[0]!.docId });
    expect(plan.document.kind).toBe('plan');
    expect(plan.document.nodes.map((n) => n.params.agent)).toEqual([install.agents[0]!.id, install.agents[0]!.id]);
    expect(plan.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('the dormant-contact behavior runs end to end with the installer\'s number of days: one suggestion for the quiet contact', async () => {
    const t = await s.api.templates.get.query({ id: 'dormant-contact-reactivation' });
    await s.api.crm.contacts.create.mutate({ name: 'Quiet Quinn', email: 'quinn@old.test', relationshipStrength: 0.9, lastInteractionAt: new Date(NOW - 12 * 86_400_000).toISOString() } as never);
    const { install, deployed } = await s.api.templates.install.mutate({ id: 'dormant-contact-reactivation', variables: { days: 10, timezone: 'Europe/Paris' }, acceptPermissions: t.permissions, deploy: true });
    expect(deployed).toHaveLength(1);
    const docId = install.flows[0]!.docId;
    const { document } = await s.api.flows.get.query({ docId });
    expect(document.nodes.find((n) => n.id === 'find')!.params.dormantDays).toBe(10);
    expect(document.nodes.find((n) => n.id === 'morning')!.params.timezone).toBe('Europe/Paris');
    expect(document.kind).toBe('behavior');
    // Activated by hand (as a Monday tick or a sign-in would): one suggestion per quiet contact, then idle again.
    const { runId } = await s.api.runs.start.mutate({ docId });
    const run = await waitForRun(s.api as never, runId, (r) => r.status === 'failed' || r.nodes.suggest?.state === 'succeeded' || r.nodes.suggest?.state === 'failed');
    expect(run.status).toBe('waiting');
    expect((run.nodes.find!.output as { contacts: { name: string }[] }).contacts.map((c) => c.name)).toEqual(['Quiet Quinn']);
    const suggested = run.nodes.suggest!.output as { count: number; results: { output: { title: string; notificationId: string } }[] };
    expect(suggested.count).toBe(1);
    expect(suggested.results[0]!.output).toMatchObject({ title: 'Reconnect with Quiet Quinn', notificationId: expect.any(String) });
  });

  it('an upgrade keeps the user\'s edits where the new version did not touch them, and lists the conflicts', async () => {
    const two = (a: string, b: string) => flow('merge-flow', [
      { id: 'start', type: 'trigger.manual', params: {} },
      { id: 'a', type: 'action.createTask', params: { title: a } },
      { id: 'b', type: 'action.createTask', params: { title: b } },
      { id: 'c', type: 'action.createTask', params: { title: 'C' } },
    ], [{ id: 'e1', source: 'start', target: 'a' }, { id: 'e2', source: 'a', target: 'b' }, { id: 'e3', source: 'b', target: 'c' }]);
    await s.api.templates.publish.mutate({ bundle: bundle('merge-me', { documents: [two('A', 'B')] }) });
    const { install } = await s.api.templates.install.mutate({ id: 'merge-me', acceptPermissions: ['tasks.write'] });
    const docId = install.flows[0]!.docId;
    const mine = (await s.api.flows.get.query({ docId })).document;
    const edit = (id: string, title: string) => mine.nodes.map((n) => (n.id === id ? { ...n, params: { ...n.params, title } } : n));
    await s.api.flows.save.mutate({ document: { ...mine, nodes: edit('a', 'A (mine)').map((n) => (n.id === 'c' ? { ...n, params: { ...n.params, title: 'C (mine)' } } : n)) } });
    await s.api.templates.publish.mutate({ bundle: bundle('merge-me', { version: '1.1.0', documents: [two('A (theirs)', 'B (theirs)')] }) });
    const preview = await s.api.templates.upgrade.mutate({ installId: install.id, dryRun: true });
    expect(preview.conflicts).toEqual([expect.objectContaining({ nodeId: 'a', flow: expect.any(String) })]);
    await s.api.templates.upgrade.mutate({ installId: install.id });
    const after = await s.api.flows.get.query({ docId });
    expect(after.flow.version).toBe(3);
    expect(Object.fromEntries(after.document.nodes.map((n) => [n.id, n.params.title]))).toEqual({ start: undefined, a: 'A (mine)', b: 'B (theirs)', c: 'C (mine)' });
  });

  it('install is atomic: a failure while creating the third of four flows leaves nothing behind', async () => {
    const docs = [1, 2, 3, 4].map((i) => manualTask(`atomic-${i}`, `Step ${i}`));
    await s.api.templates.publish.mutate({ bundle: bundle('atomic', { documents: docs, agents: [{ ref: 'helper', name: 'Helper', skills: ['draft-email'], tools: ['getContact', 'createDraft'] }], requiredPermissions: ['tasks.write', 'contacts.read', 'email.draft'] }) });
    await s.query(`create function test_fail_third() returns trigger language plpgsql as $$ begin if new.doc_id = 'atomic-3' then raise exception 'injected failure on the third flow'; end if; return new; end $$`);
    await s.query('create trigger test_fail_third before insert on flows for each row execute function test_fail_third()');
    const before = { flows: await count('flows'), agents: await count('agents'), installs: await count('template_installs'), items: await count('template_install_items') };
    try {
      await rejection(s.api.templates.install.mutate({ id: 'atomic', acceptPermissions: ['tasks.write', 'contacts.read', 'email.draft'] }));
      expect({ flows: await count('flows'), agents: await count('agents'), installs: await count('template_installs'), items: await count('template_install_items') }).toEqual(before);
      expect((await s.api.templates.get.query({ id: 'atomic' })).installs).toBe(0);
    } finally {
      await s.query('drop trigger test_fail_third on flows');
      await s.query('drop function test_fail_third()');
    }
    const ok = await s.api.templates.install.mutate({ id: 'atomic', acceptPermissions: ['tasks.write', 'contacts.read', 'email.draft'] });
    expect(ok.install.flows).toHaveLength(4);
    expect((await s.api.templates.get.query({ id: 'atomic' })).installs).toBe(1);
    const gone = await s.api.templates.uninstall.mutate({ installId: ok.install.id });
    expect(gone).toMatchObject({ flows: 4, agents: 1 });
    expect((await s.api.templates.installed.query({ templateId: 'atomic' })).items).toEqual([]);
  });

  it('ranks and sorts 50 generated templates (popular, rating, newest, relevance) across cursor pages', async () => {
    for (let i = 0; i < 50; i++) {
      const n = String(i).padStart(2, '0');
      await s.api.templates.publish.mutate({ bundle: bundle(`gen-${n}`, { name: i === 7 ? 'Zebra' : `Gen ${n} widget`, description: i % 5 === 0 ? 'Feeds the zebra' : 'Generated', tags: i % 10 === 1 ? ['zebra'] : ['generated'] }) });
    }
    // Distinct figures per template, set directly (installing 50 x N times would only make the test slow).
    await s.query(`update templates set install_count = (substring(id from 5)::int * 37) % 50,
      rating_count = 1 + substring(id from 5)::int % 3, rating_sum = (1 + substring(id from 5)::int % 3) * (1 + substring(id from 5)::int % 5),
      created_at = timestamptz '2026-01-01' + (substring(id from 5)::int * interval '1 hour') where id like 'gen-%'`);
    const pages = async (input: Record<string, unknown>) => {
      const out: Awaited<ReturnType<typeof s.api.templates.search.query>>['items'] = [];
      let cursor: string | undefined;
      do {
        const page = await s.api.templates.search.query({ ...input, limit: 7, ...(cursor ? { cursor } : {}) } as never);
        out.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out.filter((t) => t.id.startsWith('gen-'));
    };
    const popular = await pages({ sort: 'popular', query: 'gen' });
    expect(popular).toHaveLength(50);
    // Each template once across the pages (a cursor that skipped or repeated one would show here).
    expect(new Set(popular.map((t) => t.id)).size).toBe(50);
    for (let i = 1; i < popular.length; i++) expect(popular[i - 1]!.installs).toBeGreaterThanOrEqual(popular[i]!.installs);
    const rated = await pages({ sort: 'rating' });
    expect(rated).toHaveLength(50);
    expect(new Set(rated.map((t) => t.id)).size).toBe(50);
    for (let i = 1; i < rated.length; i++) expect(rated[i - 1]!.rating.average).toBeGreaterThanOrEqual(rated[i]!.rating.average);
    const newest = await pages({ sort: 'newest' });
    expect(newest.map((t) => t.id)).toEqual(Array.from({ length: 50 }, (_, i) => `gen-${String(49 - i).padStart(2, '0')}`));
    const minRated = await pages({ minRating: 4 });
    expect(minRated.length).toBeGreaterThan(0);
    expect(minRated.every((t) => t.rating.average >= 4)).toBe(true);
    // Relevance: the exact name, then tags, then descriptions.
    const zebra = await pages({ query: 'zebra' });
    expect(zebra[0]!.id).toBe('gen-07');
    const tagged = zebra.filter((t) => t.tags.includes('zebra')).map((t) => t.id);
    const described = zebra.filter((t) => t.description.includes('zebra')).map((t) => t.id);
    expect(zebra.map((t) => t.id)).toEqual(['gen-07', ...zebra.slice(1, 1 + tagged.length).map((t) => t.id)].concat(zebra.slice(1 + tagged.length).map((t) => t.id)));
    expect(zebra.slice(1, 1 + tagged.length).every((t) => t.tags.includes('zebra'))).toBe(true);
    expect(zebra.slice(1 + tagged.length).map((t) => t.id).sort()).toEqual(described.sort());
    expect(switchyardCode(await rejection(s.api.templates.search.query({ cursor: 'forged' })))).toBe('BAD_INPUT');
  });

  it('permissions are enforced: an edited flow that needs more gets a diagnostic and a deploy refusal; an agent tool outside the grant is refused', async () => {
    const t = await s.api.templates.get.query({ id: 'notify-important-email' });
    const { install } = await s.api.templates.install.mutate({ id: 'notify-important-email', acceptPermissions: t.permissions });
    const docId = install.flows[0]!.docId;
    const { document } = await s.api.flows.get.query({ docId });
    const edited = {
      ...document,
      nodes: [...document.nodes, { id: 'mail', type: 'action.sendEmail', typeVersion: 1, position: { x: 500, y: 0 }, params: { to: '{{ trigger.from }}', subject: 'Got it', body: 'Thanks' } }],
      edges: [...document.edges, { id: 'e9', source: 'notify', sourceHandle: 'out', target: 'mail', targetHandle: 'in' }],
    };
    await s.api.flows.save.mutate({ document: edited });
    const { diagnostics } = await s.api.flows.validate.mutate({ document: edited });
    expect(diagnostics).toEqual(expect.arrayContaining([expect.objectContaining({ nodeId: 'mail', severity: 'error', message: expect.stringContaining('email.send') })]));
    const refused = await rejection(s.api.flows.deploy.mutate({ docId }));
    expect(switchyardCode(refused)).toBe('INVALID_DOCUMENT');
    await s.api.templates.grant.mutate({ installId: install.id, permissions: ['email.send'] });
    expect((await s.api.flows.deploy.mutate({ docId })).flow.status).toBe('deployed');

    // The Sales Assistant was granted no calendar access: given the tool on its page, it is still refused.
    const sales = (await s.api.templates.installed.query({ templateId: 'sales-assistant' })).items[0]!;
    const agentId = sales.agents[0]!.id;
    const current = await s.api.agents.get.query({ id: agentId });
    await s.api.agents.update.mutate({ id: agentId, skills: [...current.skills, 'check-calendar'], tools: [...current.tools, 'readCalendar'] });
    // The Installed tab names what the added tool needs.
    expect((await s.api.templates.installed.query({ templateId: 'sales-assistant' })).items[0]!.missing).toEqual(['calendar.read']);
    const outcome = await s.api.agents.runSkill.mutate({ id: agentId, skill: 'check-calendar', params: {} }).then((r) => r, (e: unknown) => e);
    const text = JSON.stringify(outcome instanceof Error ? { code: switchyardCode(outcome), message: outcome.message } : outcome);
    expect(text).toContain('calendar.read');
    expect(text).toMatch(/FORBIDDEN|not granted/);
  });

  it('upgrades 1.0.0 -> 1.1.0: diff, variables kept, a run started before finishes on 1.0.0 while a new run uses 1.1.0', async () => {
    const v1 = bundle('upgradable', {
      variables: [{ key: 'who', label: 'Who', type: 'string', required: true }],
      documents: [flow('up-flow', [
        { id: 'start', type: 'trigger.manual', params: {} },
        { id: 'wait', type: 'flow.delay', params: { duration: '1 hour' } },
        { id: 'task', type: 'action.createTask', params: { title: 'v1 task for @{var.who}' } },
      ], [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }])],
    });
    await s.api.templates.publish.mutate({ bundle: v1 });
    const { install } = await s.api.templates.install.mutate({ id: 'upgradable', variables: { who: 'Ada' }, acceptPermissions: ['tasks.write'], deploy: true });
    const docId = install.flows[0]!.docId;
    const before = await s.api.runs.start.mutate({ docId });
    await waitForRun(s.api as never, before.runId, (r) => r.status === 'waiting');

    const v2 = {
      ...v1, version: '1.1.0', changelog: [{ version: '1.1.0', notes: 'Task title says v2; adds a notification.' }],
      requiredPermissions: ['tasks.write', 'notifications.write'],
      documents: [flow('up-flow', [
        { id: 'start', type: 'trigger.manual', params: {} },
        { id: 'wait', type: 'flow.delay', params: { duration: '1 hour' } },
        { id: 'task', type: 'action.createTask', params: { title: 'v2 task for @{var.who}' } },
        { id: 'ping', type: 'action.sendNotification', params: { title: 'Done for @{var.who}' } },
      ], [{ id: 'e1', source: 'start', target: 'wait' }, { id: 'e2', source: 'wait', target: 'task' }, { id: 'e3', source: 'task', target: 'ping' }])],
    };
    await s.api.templates.publish.mutate({ bundle: v2 });
    expect((await s.api.templates.installed.query({ templateId: 'upgradable' })).items[0]).toMatchObject({ updateAvailable: true, latestVersion: '1.1.0' });
    const preview = await s.api.templates.upgrade.mutate({ installId: install.id, dryRun: true });
    expect(preview).toMatchObject({
      from: '1.0.0', to: '1.1.0', upgraded: false, needAcceptance: ['notifications.write'], variables: { who: 'Ada' },
      notes: [{ version: '1.1.0', notes: 'Task title says v2; adds a notification.' }],
      diff: { nodes: { added: [expect.objectContaining({ nodeId: 'ping' })], changed: [expect.objectContaining({ nodeId: 'task' })], removed: [] }, permissions: { added: ['notifications.write'], removed: [] } },
    });
    // A rise in permissions must be accepted first.
    expect(switchyardCode(await rejection(s.api.templates.upgrade.mutate({ installId: install.id })))).toBe('FORBIDDEN');
    const up = await s.api.templates.upgrade.mutate({ installId: install.id, acceptPermissions: ['notifications.write'] });
    expect(up).toMatchObject({ upgraded: true, install: { version: '1.1.0', installedFrom: 'upgradable@1.1.0', variables: { who: 'Ada' } }, deployed: [docId] });
    const after = await s.api.runs.start.mutate({ docId });
    await waitForRun(s.api as never, after.runId, (r) => r.status === 'waiting');
    s.clock.set(s.clock.now() + 2 * 3_600_000);
    const oldRun = await waitForRun(s.api as never, before.runId, (r) => r.status === 'completed' || r.status === 'failed');
    const newRun = await waitForRun(s.api as never, after.runId, (r) => r.status === 'completed' || r.status === 'failed');
    expect(oldRun).toMatchObject({ status: 'completed', flowVersion: 1 });
    expect(newRun).toMatchObject({ status: 'completed', flowVersion: 2 });
    const tasks = (await s.api.crm.tasks.list.query({} as never)) as unknown as { items: { title: string }[] };
    expect(tasks.items.map((x) => x.title)).toEqual(expect.arrayContaining(['v1 task for Ada', 'v2 task for Ada']));
    expect(switchyardCode(await rejection(s.api.templates.upgrade.mutate({ installId: install.id })))).toBe('INVALID_STATE');
  });
});
