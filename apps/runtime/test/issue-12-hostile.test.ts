import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { rejection } from './support/test-db';
import { startAgentsServer, waitForRun, type AgentsServer } from './support/agents-support';

const NOW = Date.UTC(2026, 0, 7, 15, 0);

const flow = (id: string, nodes: unknown[], edges: unknown[] = []) => ({ schemaVersion: 1, id, kind: 'workflow', name: id, nodes, edges });
const manualTask = (id: string, title: string) => flow(id, [
  { id: 'start', type: 'trigger.manual', params: {} },
  { id: 'task', type: 'action.createTask', params: { title } },
], [{ id: 'e1', source: 'start', target: 'task' }]);
const bundle = (id: string, extra: Record<string, unknown> = {}) => ({
  id, name: `Template ${id}`, description: 'A hostile-client test template', category: 'productivity', author: 'Tests', version: '1.0.0',
  requiredPermissions: ['tasks.write'], documents: [manualTask(`${id}-flow`, 'Do it')], ...extra,
});
const webhookFlow = (id: string, params: Record<string, unknown>) => flow(id, [
  { id: 'start', type: 'trigger.manual', params: {} },
  { id: 'post', type: 'action.webhook', params: { url: 'https://hooks.example.com/in', ...params } },
], [{ id: 'e', source: 'start', target: 'post' }]);
const sendEmailNode = { id: 'mail', type: 'action.sendEmail', typeVersion: 1, position: { x: 500, y: 0 }, params: { to: 'someone@example.com', subject: 'Hi', body: 'Hello' } };

/**
 * Issue 12 against a hostile client: other users' installs and templates, out-of-range ratings,
 * huge reviews, secrets hidden deep in a bundle, installer values that inject expressions, and the
 * ways around an install's grant (a draft run, an upgrade that keeps an ungranted edit).
 */
describe.each(backendsUnderTest())('issue 12: a hostile client (%s)', (backend) => {
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

  it('another user\'s install ids are NOT_FOUND for upgrade, grant and uninstall, and leave the install as it was', async () => {
    await s.api.templates.publish.mutate({ bundle: bundle('theirs') });
    const { install } = await s.api.templates.install.mutate({ id: 'theirs', acceptPermissions: ['tasks.write'] });
    await s.api.templates.publish.mutate({ bundle: bundle('theirs', { version: '1.1.0' }) });
    expect(switchyardCode(await rejection(s.other.templates.upgrade.mutate({ installId: install.id, dryRun: true })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.other.templates.upgrade.mutate({ installId: install.id })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.other.templates.grant.mutate({ installId: install.id, permissions: ['email.send'] })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.other.templates.uninstall.mutate({ installId: install.id })))).toBe('NOT_FOUND');
    expect(switchyardCode(await rejection(s.api.templates.uninstall.mutate({ installId: 'not-a-uuid' })))).toBe('BAD_INPUT');
    expect((await s.api.templates.installed.query({ templateId: 'theirs' })).items[0]).toMatchObject({ id: install.id, version: '1.0.0', granted: ['tasks.write'] });
    // Nor can they see the install's flow.
    expect(switchyardCode(await rejection(s.other.flows.get.query({ docId: install.flows[0]!.docId })))).toBe('NOT_FOUND');
  });

  it('install/uninstall loops of one user do not inflate the install count: it counts installers', async () => {
    await s.api.templates.publish.mutate({ bundle: bundle('loop') });
    const installs = async () => (await s.api.templates.get.query({ id: 'loop' })).installs;
    for (let i = 0; i < 3; i++) {
      const { install } = await s.api.templates.install.mutate({ id: 'loop', acceptPermissions: ['tasks.write'] });
      await s.api.templates.uninstall.mutate({ installId: install.id });
    }
    // Two installs side by side are one installer too.
    await s.api.templates.install.mutate({ id: 'loop', acceptPermissions: ['tasks.write'] });
    await s.api.templates.install.mutate({ id: 'loop', acceptPermissions: ['tasks.write'] });
    expect(await installs()).toBe(1);
    await s.other.templates.install.mutate({ id: 'loop', acceptPermissions: ['tasks.write'] });
    expect(await installs()).toBe(2);
    expect((await s.api.templates.search.query({ query: 'Template loop' })).items.find((t) => t.id === 'loop')?.installs).toBe(2);
  });

  it('ratings outside 1-5 or not whole, and reviews over 5000 characters, are BAD_INPUT and change nothing', async () => {
    const before = await s.api.templates.get.query({ id: 'meeting-scheduler' });
    for (const stars of [0, 6, 2.5, -1, Number.NaN]) {
      expect(switchyardCode(await rejection(s.other.templates.rate.mutate({ id: 'meeting-scheduler', stars })))).toBe('BAD_INPUT');
    }
    expect(switchyardCode(await rejection(s.other.templates.rate.mutate({ id: 'meeting-scheduler', stars: 3, review: 'x'.repeat(5001) })))).toBe('BAD_INPUT');
    expect((await s.api.templates.get.query({ id: 'meeting-scheduler' })).rating).toEqual(before.rating);
    // 5000 characters is the limit, kept whole.
    await s.other.templates.rate.mutate({ id: 'meeting-scheduler', stars: 3, review: 'y'.repeat(5000) });
    expect((await s.other.templates.get.query({ id: 'meeting-scheduler' })).myRating).toEqual({ stars: 3, review: 'y'.repeat(5000) });
  });

  it('unpublishing another user\'s template is NOT_FOUND and it stays listed', async () => {
    await s.api.templates.publish.mutate({ bundle: bundle('keep-me') });
    expect(switchyardCode(await rejection(s.other.templates.unpublish.mutate({ id: 'keep-me' })))).toBe('NOT_FOUND');
    expect((await s.other.templates.get.query({ id: 'keep-me' })).published).toBe(true);
    expect((await s.other.templates.search.query({ query: 'keep-me' })).items.map((t) => t.id)).toContain('keep-me');
  });

  it('secrets anywhere in a bundle are refused with their paths: nested headers, a for-each\'s headers, keys in URLs, incoming-webhook URLs', async () => {
    const before = { templates: await count('templates'), versions: await count('template_versions') };
    const refused = async (b: unknown) => {
      const e = await rejection(s.api.templates.publish.mutate({ bundle: b }));
      expect(switchyardCode(e), JSON.stringify(b).slice(0, 200)).toBe('BAD_INPUT');
      return (e as { data?: { switchyard?: { issues?: { path: (string | number)[] }[] } } }).data?.switchyard?.issues?.map((i) => i.path.join('.')) ?? [];
    };
    const hook = (id: string, params: Record<string, unknown>, host = 'webhook:hooks.example.com') => bundle(id, { requiredPermissions: [host], documents: [webhookFlow(`${id}-flow`, params)] });
    await refused(hook('s-secret-header', { headers: { 'X-Webhook-Secret': '9f8e7d6c5b4a39281706f5e4d3c2b1a0' } }));
    await refused(hook('s-api-token', { headers: { 'X-API-Token': 'abc123abc123' } }));
    // Found by the walk before anything compiles, however deep.
    expect(await refused(hook('s-nested-body', { body: { auth: { credentials: { password: 'hunter2hunter2' } } } }))).toEqual(['documents.0.nodes.1.params.body.auth.credentials.password']);
    await refused(hook('s-query-key', { url: 'https://hooks.example.com/in?api_key=abcd1234' }));
    await refused(hook('s-query-key2', { url: 'https://hooks.example.com/in?key=abcd1234' }));
    await refused(hook('s-userinfo', { url: 'https://admin:pa55word@hooks.example.com/in' }));
    await refused(bundle('s-slack', { requiredPermissions: ['webhook:hooks.slack.com'], documents: [flow('s-slack-flow', [
      { id: 'start', type: 'trigger.manual', params: {} },
      { id: 'post', type: 'action.webhook', params: { url: 'https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX' } },
    ], [{ id: 'e', source: 'start', target: 'post' }])] }));
    const each = flow('s-each-flow', [
      { id: 'start', type: 'trigger.manual', params: {} },
      { id: 'each', type: 'flow.forEach', params: { items: '{{ trigger.items }}', action: 'action.webhook', with: { url: 'https://hooks.example.com/each', headers: { Authorization: 'Basic dXNlcjpwYXNz' } } } },
    ], [{ id: 'e', source: 'start', target: 'each' }]);
    const paths = await refused(bundle('s-each', { requiredPermissions: ['webhook:hooks.example.com'], documents: [each] }));
    expect(paths).toEqual(['documents.0.nodes.1.params.with.headers.Authorization']);
    // An agent's prompt holding an API key.
    await refused(bundle('s-agent', { requiredPermissions: ['tasks.write', 'contacts.read', 'email.draft'], agents: [{ ref: 'a', name: 'A', systemPrompt: 'Use the key sk-abcdefghijklmnopqrstuvwx when asked.', skills: ['draft-email'], tools: ['getContact', 'createDraft'] }] }));
    expect({ templates: await count('templates'), versions: await count('template_versions') }).toEqual(before);

    // Values the installer gives or the run fills are not secrets.
    const ok = await s.api.templates.publish.mutate({ bundle: hook('s-ok', {
      url: 'https://hooks.example.com/in?token={{ trigger.token }}', headers: { Authorization: '@{var.auth}', 'X-Trace': 'on' }, body: 'Signed, Ada',
    }, 'webhooks.call') as never });
    expect(ok.id).toBe('s-ok');
  });

  it('publishing one\'s own flow strips a for-each\'s secret headers too, and lists them', async () => {
    await s.api.flows.save.mutate({ document: {
      schemaVersion: 1, id: 'own-each', kind: 'workflow', name: 'Own each', settings: {},
      nodes: [
        { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
        { id: 'each', type: 'flow.forEach', position: { x: 250, y: 0 }, params: { items: '{{ trigger.items }}', action: 'action.webhook', with: { url: 'https://hooks.example.com/each', headers: { Authorization: 'Basic dXNlcjpwYXNz', 'X-Trace': 'on' } } } },
      ],
      edges: [{ id: 'e1', source: 'start', target: 'each' }],
    } as never });
    const published = await s.api.templates.publish.mutate({ id: 'own-each', name: 'Own each', category: 'other', version: '1.0.0', flows: ['own-each'], agents: [] });
    expect(published.stripped).toEqual(['Own each › each › header Authorization']);
    const stored = (await s.query<{ bundle: { documents: { nodes: { id: string; params: { with?: { headers?: unknown } } }[] }[] } }>(`select bundle from template_versions where template_id = 'own-each'`))[0]!.bundle;
    expect(stored.documents[0]!.nodes.find((n) => n.id === 'each')!.params.with!.headers).toEqual({ 'X-Trace': 'on' });
  });

  it('installer values that carry {{ }} or @{ } are BAD_INPUT: they would be evaluated or bound, not kept as text', async () => {
    await s.api.templates.publish.mutate({ bundle: bundle('inject', {
      variables: [{ key: 'who', label: 'Who', type: 'string', required: true }, { key: 'note', label: 'Note', type: 'text', required: false }],
      documents: [manualTask('inject-flow', 'Call @{var.who}')],
    }) });
    const flowsBefore = await count('flows');
    for (const who of ['{{ trigger.secret }}', 'Ada }} {{ 1', '@{var.note}', '@{agent.x}']) {
      const e = await rejection(s.api.templates.install.mutate({ id: 'inject', variables: { who }, acceptPermissions: ['tasks.write'] }));
      expect(switchyardCode(e), who).toBe('BAD_INPUT');
      expect(e.message).toContain('Who');
    }
    expect(switchyardCode(await rejection(s.api.templates.install.mutate({ id: 'inject', variables: { who: 'Ada', note: 'see {{ memory.x }}' }, acceptPermissions: ['tasks.write'] })))).toBe('BAD_INPUT');
    expect(await count('flows')).toBe(flowsBefore);
    // Braces alone are text.
    const { install } = await s.api.templates.install.mutate({ id: 'inject', variables: { who: 'Ada {the boss}' }, acceptPermissions: ['tasks.write'] });
    const { document } = await s.api.flows.get.query({ docId: install.flows[0]!.docId });
    expect(document.nodes.find((n) => n.id === 'task')!.params.title).toBe('Call Ada {the boss}');
  });

  it('a variable may not choose the agent a step asks (its tools would not be counted)', async () => {
    const runSkill = flow('choose-flow', [
      { id: 'start', type: 'trigger.manual', params: {} },
      { id: 'ask', type: 'agent.runSkill', params: { agentId: '@{agent.helper}', skill: 'draft-email', params: {} } },
    ], [{ id: 'e', source: 'start', target: 'ask' }]);
    const agents = [{ ref: 'helper', name: 'Helper', skills: ['draft-email'], tools: ['getContact', 'createDraft'] }];
    const perms = ['agents.run', 'contacts.read', 'email.draft'];
    expect(switchyardCode(await rejection(s.api.templates.publish.mutate({ bundle: bundle('choose', {
      requiredPermissions: perms, agents, documents: [runSkill],
      variables: [{ key: 'agent', label: 'Agent', type: 'string', targets: [{ document: 'choose-flow', node: 'ask', param: 'agentId' }] }],
    }) })))).toBe('BAD_INPUT');
    // A for-each that runs a skill per item must name the template's agent too.
    const each = (agentId: string) => flow('choose-each', [
      { id: 'start', type: 'trigger.manual', params: {} },
      { id: 'each', type: 'flow.forEach', params: { items: '{{ trigger.items }}', action: 'agent.runSkill', with: { agentId, skill: 'draft-email', params: {} } } },
    ], [{ id: 'e', source: 'start', target: 'each' }]);
    expect(switchyardCode(await rejection(s.api.templates.publish.mutate({ bundle: bundle('choose-each', { requiredPermissions: perms, agents, documents: [each('{{ item.agentId }}')] }) })))).toBe('BAD_INPUT');
    const ok = await s.api.templates.publish.mutate({ bundle: bundle('choose-each', { requiredPermissions: perms, agents, documents: [each('@{agent.helper}')] }) });
    const { install } = await s.api.templates.install.mutate({ id: ok.id, acceptPermissions: ok.permissions });
    const { document } = await s.api.flows.get.query({ docId: install.flows[0]!.docId });
    expect((document.nodes.find((n) => n.id === 'each')!.params.with as { agentId: string }).agentId).toBe(install.agents[0]!.id);
  });

  it('an installed flow edited past its grant cannot be run as a draft either: FORBIDDEN until granted', async () => {
    await s.api.templates.publish.mutate({ bundle: bundle('drafty') });
    const { install } = await s.api.templates.install.mutate({ id: 'drafty', acceptPermissions: ['tasks.write'], deploy: true });
    const docId = install.flows[0]!.docId;
    const { document } = await s.api.flows.get.query({ docId });
    await s.api.flows.save.mutate({ document: { ...document, nodes: [...document.nodes, sendEmailNode], edges: [...document.edges, { id: 'e9', source: 'task', sourceHandle: 'out', target: 'mail', targetHandle: 'in' }] } });
    const refused = await rejection(s.api.runs.start.mutate({ docId, draft: true }));
    expect(switchyardCode(refused)).toBe('FORBIDDEN');
    expect(refused.message).toContain('email.send');
    expect(switchyardCode(await rejection(s.api.runs.start.mutate({ docId, version: 2 })))).toBe('FORBIDDEN');
    // The deployed version (what the grant covers) still runs.
    expect((await s.api.runs.start.mutate({ docId })).runId).toEqual(expect.any(String));
    // The Installed tab says what is missing.
    expect((await s.api.templates.installed.query({ templateId: 'drafty' })).items[0]!.missing).toEqual(['email.send']);
    await s.api.templates.grant.mutate({ installId: install.id, permissions: ['email.send'] });
    expect((await s.api.templates.installed.query({ templateId: 'drafty' })).items[0]!.missing).toEqual([]);
    expect((await s.api.runs.start.mutate({ docId, draft: true })).runId).toEqual(expect.any(String));
  });

  it('an upgrade that keeps the user\'s ungranted edit asks for that permission too, instead of deploying past the grant', async () => {
    await s.api.templates.publish.mutate({ bundle: bundle('keeps-edit') });
    const { install } = await s.api.templates.install.mutate({ id: 'keeps-edit', acceptPermissions: ['tasks.write'], deploy: true });
    const docId = install.flows[0]!.docId;
    const { document } = await s.api.flows.get.query({ docId });
    await s.api.flows.save.mutate({ document: { ...document, nodes: [...document.nodes, sendEmailNode], edges: [...document.edges, { id: 'e9', source: 'task', sourceHandle: 'out', target: 'mail', targetHandle: 'in' }] } });
    expect(switchyardCode(await rejection(s.api.flows.deploy.mutate({ docId })))).toBe('INVALID_DOCUMENT');
    await s.api.templates.publish.mutate({ bundle: bundle('keeps-edit', { version: '1.1.0', documents: [manualTask('keeps-edit-flow', 'Do it better')] }) });
    const preview = await s.api.templates.upgrade.mutate({ installId: install.id, dryRun: true });
    // The template itself needs nothing new; the kept edit does.
    expect(preview.diff.permissions.added).toEqual([]);
    expect(preview.needAcceptance).toEqual(['email.send']);
    expect(switchyardCode(await rejection(s.api.templates.upgrade.mutate({ installId: install.id })))).toBe('FORBIDDEN');
    expect((await s.api.flows.get.query({ docId })).flow).toMatchObject({ version: 2, deployedVersion: 1 });
    const up = await s.api.templates.upgrade.mutate({ installId: install.id, acceptPermissions: ['email.send'] });
    expect(up).toMatchObject({ upgraded: true, deployed: [docId], install: { granted: ['email.send', 'tasks.write'] } });
    const after = await s.api.flows.get.query({ docId });
    expect(after.document.nodes.map((n) => n.id).sort()).toEqual(['mail', 'start', 'task']);
    expect(after.document.nodes.find((n) => n.id === 'task')!.params.title).toBe('Do it better');
  });

  it('a condition trigger counts unread emails and contacts: publishing needs email.read and contacts.read, and an installed flow edited to start on one does not deploy until they are granted', async () => {
    const onCondition = (id: string) => flow(id, [
      { id: 'start', type: 'trigger.condition', params: { everyMinutes: 15, condition: 'trigger.unreadEmails > 10' } },
      { id: 'task', type: 'action.createTask', params: { title: 'Inbox is filling up' } },
    ], [{ id: 'e1', source: 'start', target: 'task' }]);
    const underDeclared = await rejection(s.api.templates.publish.mutate({ bundle: bundle('cond', { documents: [onCondition('cond-flow')] }) }));
    expect(switchyardCode(underDeclared)).toBe('BAD_INPUT');
    expect(underDeclared.message).toContain('email.read, contacts.read');
    const published = await s.api.templates.publish.mutate({ bundle: bundle('cond', { requiredPermissions: ['tasks.write', 'email.read', 'contacts.read'], documents: [onCondition('cond-flow')] }) });
    expect(published.permissions).toEqual(['email.read', 'tasks.write', 'contacts.read']);
    expect(switchyardCode(await rejection(s.api.templates.install.mutate({ id: 'cond', acceptPermissions: ['tasks.write'] })))).toBe('FORBIDDEN');

    await s.api.templates.publish.mutate({ bundle: bundle('cond-edit') });
    const { install } = await s.api.templates.install.mutate({ id: 'cond-edit', acceptPermissions: ['tasks.write'] });
    const docId = install.flows[0]!.docId;
    const { document } = await s.api.flows.get.query({ docId });
    const edited = { ...document, nodes: document.nodes.map((n) => (n.id === 'start' ? { ...n, type: 'trigger.condition', params: { everyMinutes: 15, condition: '' } } : n)) };
    const { diagnostics } = await s.api.flows.validate.mutate({ document: edited });
    expect(diagnostics.filter((d) => d.nodeId === 'start').map((d) => d.message)).toEqual([expect.stringMatching(/without "email\.read" \(Read your emails\), "contacts\.read" \(Read your contacts\)/)]);
    await s.api.flows.save.mutate({ document: edited as never });
    expect(switchyardCode(await rejection(s.api.flows.deploy.mutate({ docId })))).toBe('INVALID_DOCUMENT');
    await s.api.templates.grant.mutate({ installId: install.id, permissions: ['email.read', 'contacts.read'] });
    expect(await s.api.flows.deploy.mutate({ docId })).toMatchObject({ version: 2 });
  });

  it('an installed agent asked from another flow to use a tool outside its grant fails that step at run time, naming the permission', async () => {
    const helper = { ref: 'helper', name: 'Helper', skills: ['draft-email'], tools: ['getContact', 'createDraft'] };
    const published = await s.api.templates.publish.mutate({ bundle: bundle('grant-run', { requiredPermissions: ['tasks.write', 'contacts.read', 'email.draft'], agents: [helper] }) });
    const { install } = await s.api.templates.install.mutate({ id: 'grant-run', acceptPermissions: published.permissions });
    const agentId = install.agents[0]!.id;
    const agent = await s.api.agents.get.query({ id: agentId });
    await s.api.agents.update.mutate({ id: agentId, skills: [...agent.skills, 'check-calendar'], tools: [...agent.tools, 'readCalendar'] });
    // The user's own flow (not from a template, so no deploy gate) asks that agent for its calendar.
    await s.api.flows.save.mutate({ document: {
      schemaVersion: 1, id: 'asks-calendar', kind: 'workflow', name: 'Asks the calendar', settings: {},
      nodes: [
        { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
        { id: 'ask', type: 'agent.runSkill', position: { x: 250, y: 0 }, params: { agentId, skill: 'check-calendar', params: {} } },
      ],
      edges: [{ id: 'e1', source: 'start', target: 'ask' }],
    } as never });
    await s.api.flows.deploy.mutate({ docId: 'asks-calendar' });
    const { runId } = await s.api.runs.start.mutate({ docId: 'asks-calendar' });
    const run = await waitForRun(s.api as never, runId, (r) => ['completed', 'failed'].includes(r.status));
    expect(run.status).toBe('failed');
    const error = (run.nodes as Record<string, { state: string; error?: { code?: string; message?: string } }>).ask!;
    expect(error.state).toBe('failed');
    // The dispatcher's FORBIDDEN reaches the step as the skill's failure: its message and its code, non-retryable.
    expect(error.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('installed from grant-run@1.0.0 without the permission "calendar.read"') });
  });
});
