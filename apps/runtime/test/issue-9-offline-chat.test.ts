import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest } from './host-support';
import { startAgentsServer, type AgentsServer } from './support/agents-support';

/**
 * Issue 9, Agents: with no model configured, chat only echoed templates ("You said: ...") and no
 * skill ran. The offline provider now acts: a request goes to the agent's skill whose manifest
 * matches it, so a new user without an API key sees research and drafts happen.
 */
describe.each(backendsUnderTest())('offline chat acts through skills (%s)', (backend) => {
  let s: AgentsServer;
  let agentId: string;
  let adaId: string;

  beforeAll(async () => {
    s = await startAgentsServer(backend);
    adaId = ((await s.api.crm.contacts.create.mutate({ name: 'Ada Lovelace', email: 'ada@analytical.test', company: 'Analytical Engines', title: 'CEO' } as never)) as { id: string }).id;
    const agent = await s.api.agents.create.mutate({
      name: 'Sales Assistant', skills: ['research-contact', 'draft-email', 'draft-sales-email'],
      tools: ['getContact', 'memory', 'searchWeb', 'enrichContact', 'searchEmails', 'createDraft'],
    });
    agentId = agent.id;
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it('"Research Ada Lovelace" runs research-contact and remembers it', async () => {
    const r = await s.api.agents.chat.mutate({ id: agentId, message: 'Research Ada Lovelace' });
    expect(r.offline).toBe(true);
    expect(r.action).toMatchObject({ skill: 'research-contact', params: { contactId: adaId }, success: true });
    expect(r.reply).toMatch(/^I researched Ada Lovelace: CEO at Analytical Engines/);
    expect(r.reply).not.toContain('You said');
    expect((await s.api.agents.recall.query({ id: agentId, key: `research:${adaId}` })).value).toMatchObject({ contactId: adaId });
  });

  it('"Draft an email to <address>" writes a draft', async () => {
    const r = await s.api.agents.chat.mutate({ id: agentId, message: 'Draft an email to ada@analytical.test about the Q3 renewal' });
    expect(r.action).toMatchObject({ skill: 'draft-email', success: true });
    const drafts = await s.query<{ to_addrs: string[]; body: string }>('select to_addrs, body from drafts');
    expect(drafts).toHaveLength(1);
    expect(drafts[0]!.to_addrs).toEqual(['ada@analytical.test']);
    expect(r.reply).toContain('It is in Drafts');
  });

  it('a pitch uses the research: draft-sales-email with the product named in the request', async () => {
    const r = await s.api.agents.chat.mutate({ id: agentId, message: 'Write a sales email to Ada to pitch Switchyard Pro' });
    expect(r.action).toMatchObject({ skill: 'draft-sales-email', params: { contactId: adaId, product: 'Switchyard Pro' }, success: true });
    expect(await s.query('select id from drafts')).toHaveLength(2);
  });

  it('a request that names no contact asks for one; small talk lists what the agent can do', async () => {
    const who = await s.api.agents.chat.mutate({ id: agentId, message: 'Research someone interesting' });
    expect(who.action).toBeUndefined();
    expect(who.reply).toContain('I need a contact');
    const hello = await s.api.agents.chat.mutate({ id: agentId, message: 'Hello!' });
    expect(hello.action).toBeUndefined();
    expect(hello.reply).toContain('research contact');
    expect(await s.query('select id from drafts')).toHaveLength(2);
  });
});
