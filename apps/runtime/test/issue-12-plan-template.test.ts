import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { startPlansServer, type PlansServer } from './issue-11-support';
import { rejection } from './support/test-db';

/**
 * Issue 12: the built-in plan template ("Research and reach out") installs its two agents and its
 * plan with the installer's values bound, and the plan runs end to end on what it installed.
 */
describe.each(backendsUnderTest())('issue 12: the built-in plan template (%s)', (backend) => {
  let s: PlansServer;
  beforeAll(async () => {
    s = await startPlansServer(backend);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('is in the catalog as a plan with two agents; search by its name finds it first', async () => {
    const found = await s.api.templates.search.query({ query: 'research and reach out' });
    expect(found.items[0]).toMatchObject({ id: 'research-and-reach-out', source: 'builtin', category: 'sales', agents: ['Researcher', 'Writer'] });
    expect(found.items[0]!.previews.map((p) => [p.kind, p.nodes.map((n) => n.type)])).toEqual([['plan', ['plan.step', 'plan.step']]]);
    const t = await s.api.templates.get.query({ id: 'research-and-reach-out' });
    expect(t.permissions).toEqual(['email.read', 'email.draft', 'contacts.read', 'memory.write', 'agents.run']);
    expect(t.variables.map((v) => v.key)).toEqual(['goal', 'tone', 'depth', 'maxWords']);
    expect(t.agents.map((a) => [a.ref, a.skills])).toEqual([['researcher', ['research-contact']], ['writer', ['draft-email']]]);
  });

  it('installs agents and plan with the values bound, and the plan researches a contact then drafts the email from the research', async () => {
    const t = await s.api.templates.get.query({ id: 'research-and-reach-out' });
    // Values are checked against the variables' schema before anything is created.
    expect(switchyardCode(await rejection(s.api.templates.install.mutate({ id: t.id, variables: { maxWords: 5000 }, acceptPermissions: t.permissions })))).toBe('BAD_INPUT');
    expect(switchyardCode(await rejection(s.api.templates.install.mutate({ id: t.id, acceptPermissions: ['agents.run'] })))).toBe('FORBIDDEN');
    expect((await s.api.agents.list.query()).items).toEqual([]);

    const { install, deployed, failed } = await s.api.templates.install.mutate({
      id: t.id, name: 'Outreach', acceptPermissions: t.permissions, deploy: true,
      variables: { goal: 'Offer a Switchyard Pro demo next Tuesday', tone: 'concise', depth: 'basic', maxWords: 120 },
    });
    // Plans are run, not deployed.
    expect({ deployed, failed }).toEqual({ deployed: [], failed: [] });
    expect(install).toMatchObject({ installedFrom: 'research-and-reach-out@1.0.2', granted: t.permissions });
    expect(install.agents.map((a) => [a.ref, a.name])).toEqual([['researcher', 'Outreach · Researcher'], ['writer', 'Outreach · Writer']]);
    const agentId = (ref: string) => install.agents.find((a) => a.ref === ref)!.id;
    const [flow] = install.flows;
    expect(install.flows).toHaveLength(1);
    const saved = await s.api.flows.get.query({ docId: flow!.docId });
    expect(saved.document.kind).toBe('plan');
    // Checked against the user's agents: the installed agents hold the skills and tools their steps need.
    expect(saved.diagnostics).toEqual([]);
    const step = (id: string) => saved.document.nodes.find((n) => n.id === id)!.params;
    expect(step('research')).toMatchObject({ agent: agentId('researcher'), params: { contactId: '{{ context.contactId }}', depth: 'basic' } });
    expect(step('email')).toMatchObject({ agent: agentId('writer'), params: { tone: 'concise', maxWords: 120 } });
    expect((await s.api.agents.get.query({ id: agentId('writer') })).systemPrompt).toContain('a concise tone');

    const john = await s.api.crm.contacts.create.mutate({ name: 'John Doe', email: 'john.doe@acme.test', company: 'Acme', title: 'CTO', relationshipStrength: 0.8 });
    const run = await s.api.plans.run.mutate({ docId: flow!.docId, context: { contactId: john.id }, wait: true });
    expect(run.status).toBe('success');
    expect(run.steps.map((x) => [x.name, x.status, x.agentName])).toEqual([['research', 'done', 'Outreach · Researcher'], ['email', 'done', 'Outreach · Writer']]);
    const outcome = run.outcome!;
    expect(outcome.errors).toEqual([]);
    const research = outcome.results.research as { profile: { email: string; name: string }; insights: string[] };
    const email = outcome.results.email as { to: string[]; subject: string; body: string; draftId: string };
    expect(research.profile).toMatchObject({ email: 'john.doe@acme.test', name: 'John Doe' });
    // The draft is built from the research and the installer's goal.
    expect(email.to).toEqual(['john.doe@acme.test']);
    expect(email.subject).toBe('A note for John Doe');
    // Offline, the goal becomes a question and the insights a list; the instructions are not pasted.
    expect(email.body).toContain('Would you be open to a Switchyard Pro demo next Tuesday?');
    expect(email.body).toContain('From what I have gathered: CTO at Acme.');
    expect(email.body).not.toMatch(/relationship|web mention/i);
    expect(email.body).not.toMatch(/Offer a|Personali[sz]e it|found:|\["/);
    expect(email.body.split(/\s+/).length).toBeLessThanOrEqual(120);
    const drafts = await s.query<{ to_addrs: string[]; contact_id: string }>('select to_addrs, contact_id from drafts where id = ?', [email.draftId]);
    expect(drafts).toEqual([expect.objectContaining({ to_addrs: ['john.doe@acme.test'], contact_id: john.id })]);
    // The research reached the writer's memory as a plan result.
    const memory = await s.api.agents.memory.query({ id: agentId('writer') });
    expect(memory.interactions.some((i) => (i.data as { type?: string; step?: string }).type === 'plan-result' && (i.data as { step?: string }).step === 'research')).toBe(true);
    expect((await s.api.plans.list.query({ docId: flow!.docId })).items.map((i) => i.id)).toEqual([run.id]);

    // Without a contact in the context the research (critical) fails and nothing is drafted.
    const draftsBefore = (await s.query('select id from drafts')).length;
    const bare = await s.api.plans.run.mutate({ docId: flow!.docId, wait: true });
    expect(bare.status).toBe('failed');
    expect(bare.steps.map((x) => [x.name, x.status])).toEqual([['research', 'failed'], ['email', 'skipped']]);
    expect((await s.query('select id from drafts')).length).toBe(draftsBefore);

    // The installed agents may use only what was granted: the Researcher given calendar access on its page is still refused it.
    const researcher = await s.api.agents.get.query({ id: agentId('researcher') });
    await s.api.agents.update.mutate({ id: researcher.id, skills: [...researcher.skills, 'check-calendar'], tools: [...researcher.tools, 'readCalendar'] });
    const refused = await s.api.agents.runSkill.mutate({ id: researcher.id, skill: 'check-calendar', params: {} });
    // A skill's failure is data: the dispatcher's FORBIDDEN reaches the result as its message and a refused tool call.
    expect(refused).toMatchObject({ success: false, toolCalls: [{ tool: 'readCalendar', status: 'refused', reason: 'not granted: calendar.read' }] });
    expect(refused.error).toContain('installed from research-and-reach-out@1.0.2 without the permission "calendar.read"');
    await s.api.templates.grant.mutate({ installId: install.id, permissions: ['calendar.read'] });
    const granted = await s.api.agents.runSkill.mutate({ id: researcher.id, skill: 'check-calendar', params: {} });
    expect(granted).toMatchObject({ success: true, toolCalls: [] });

    // Uninstalling removes both agents and the plan.
    expect(await s.api.templates.uninstall.mutate({ installId: install.id })).toMatchObject({ flows: 1, agents: 2 });
    expect((await s.api.agents.list.query()).items).toEqual([]);
    expect(switchyardCode(await rejection(s.api.flows.get.query({ docId: flow!.docId })))).toBe('NOT_FOUND');
  });

  it('an installed plan edited past its grant gets a diagnostic naming the permission, and plans.run refuses it (FORBIDDEN) until it is granted', async () => {
    const t = await s.api.templates.get.query({ id: 'research-and-reach-out' });
    const { install } = await s.api.templates.install.mutate({ id: t.id, name: 'Gated', acceptPermissions: t.permissions });
    const docId = install.flows[0]!.docId;
    // The user's own agent that may send email, chosen for the drafting step.
    const mailer = await s.api.agents.create.mutate({ name: 'Mailer', skills: ['draft-email'], tools: ['getContact', 'createDraft', 'sendEmail'] });
    const { document } = await s.api.flows.get.query({ docId });
    const withAgent = (agent: string) => ({ ...document, nodes: document.nodes.map((n) => (n.id === 'email' ? { ...n, params: { ...n.params, agent } } : n)) });
    const edited = withAgent(mailer.id);
    const needsSend = (diagnostics: { nodeId?: string | undefined; severity: string; message: string }[]) =>
      diagnostics.filter((d) => d.severity === 'error').map((d) => [d.nodeId, d.message]);
    const expected = [['email', expect.stringContaining('without "email.send" (Send emails in your name): grant it on the Installed tab before running it')]];
    expect(needsSend((await s.api.flows.validate.mutate({ document: edited })).diagnostics)).toEqual(expected);
    expect(needsSend((await s.api.plans.validate.mutate({ document: edited })).diagnostics)).toEqual(expected);
    // A step for any capable agent may be given the Mailer: it needs what the Mailer may use.
    expect(needsSend((await s.api.flows.validate.mutate({ document: withAgent('any') })).diagnostics)).toEqual(expected);
    await s.api.flows.save.mutate({ document: edited as never });

    const john = await s.api.crm.contacts.create.mutate({ name: 'John Gate', email: 'john.gate@acme.test', company: 'Acme', relationshipStrength: 0.8 });
    const runsBefore = (await s.query('select id from plan_runs')).length;
    for (const input of [{ docId }, { docId, version: 2 }, { document: edited }]) {
      const refused = await rejection(s.api.plans.run.mutate({ ...input, context: { contactId: john.id } }));
      expect(switchyardCode(refused), JSON.stringify(Object.keys(input))).toBe('FORBIDDEN');
      expect(refused.message).toContain('"email.send"');
    }
    // The version the install wrote (within the grant) still runs; nothing of the refused runs was stored.
    expect((await s.query('select id from plan_runs')).length).toBe(runsBefore);
    expect((await s.api.plans.run.mutate({ docId, version: 1, context: { contactId: john.id }, wait: true })).status).toBe('success');

    await s.api.templates.grant.mutate({ installId: install.id, permissions: ['email.send'] });
    expect(needsSend((await s.api.flows.validate.mutate({ document: edited })).diagnostics)).toEqual([]);
    const run = await s.api.plans.run.mutate({ docId, context: { contactId: john.id }, wait: true });
    expect(run.steps.map((x) => [x.name, x.status, x.agentName])).toEqual([['research', 'done', 'Gated · Researcher'], ['email', 'done', 'Mailer']]);
  });
});
