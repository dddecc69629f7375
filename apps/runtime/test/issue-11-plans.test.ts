import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, switchyardCode } from './host-support';
import { RESEARCH_TOOLS, planDoc, seedCast, startBarrierSearch, startPlansServer, waitForPlan, type PlansServer } from './issue-11-support';

/**
 * Issue 11, multi-agent plans through the API: the seed's day-14 coordination test, steps that run
 * at the same time, critical and non-critical failures, bad input that changes nothing.
 */
describe.each(backendsUnderTest())('multi-agent plans (%s)', (backend) => {
  let s: PlansServer;
  let cast: Awaited<ReturnType<typeof seedCast>>;
  beforeAll(async () => {
    s = await startPlansServer(backend);
    cast = await seedCast(s.api);
  });
  afterAll(async () => {
    await s?.stop();
    await s?.storage.drop();
  });

  it("the seed's day 14: research John Doe, then an email built from the research (offline analyser)", async () => {
    const proposal = await s.api.plans.fromTask.mutate({ description: 'Research John Doe and draft a personalized email' });
    expect(proposal.source).toBe('offline');
    expect(proposal.diagnostics).toEqual([]);
    expect(proposal.analysis).toMatchObject({ requiredSkills: ['research-contact', 'draft-email'], sequencing: 'sequential' });
    const doc = proposal.document;
    expect(doc.kind).toBe('plan');
    expect(doc.nodes.map((n) => [n.id, n.params.skill, n.params.agent])).toEqual([
      ['research', 'research-contact', cast.researcher.id], ['email', 'draft-email', cast.writer.id],
    ]);
    expect(doc.edges).toEqual([expect.objectContaining({ source: 'research', target: 'email' })]);
    expect(doc.nodes[0]!.params.params).toMatchObject({ contactId: cast.john.id });
    // The plan is a flow document: saved like any other, run by its id.
    const saved = await s.api.flows.save.mutate({ document: doc });
    // Checked as a plan (no "add a trigger"); validated against the agents; run, not deployed.
    expect(saved.diagnostics).toEqual([]);
    expect((await s.api.flows.validate.mutate({ document: doc })).diagnostics).toEqual([]);
    expect(await s.api.flows.deploy.mutate({ docId: saved.flow.docId }).catch((e: unknown) => switchyardCode(e))).toBe('INVALID_STATE');
    const run = await s.api.plans.run.mutate({ docId: saved.flow.docId, wait: true });
    expect(run.status).toBe('success');
    const outcome = run.outcome!;
    expect(outcome.status).toBe('success');
    expect(Object.keys(outcome.results).sort()).toEqual(['email', 'research']);
    const research = outcome.results.research as { profile: { email: string }; insights: string[] };
    const email = outcome.results.email as { to: string[]; subject: string; body: string; draftId: string };
    expect(research.profile.email).toBe('john.doe@acme.test');
    // Built from the research output: its address, name and insights.
    expect(email.to).toEqual(['john.doe@acme.test']);
    expect(email.subject).toBe('A note for John Doe');
    // Offline, a readable email: greeted by first name, the research's insights as a list (not JSON), no instruction pasted.
    expect(email.body).toBe([
      'Dear John,', 'I wanted to reach out to you personally.',
      'From what I have gathered: CTO at Acme.', 'Kind regards,',
    ].join('\n\n'));
    // The CRM's own figures (relationship score, web mention count) stay notes for the user.
    expect(research.insights).toEqual(expect.arrayContaining(['Strong relationship (0.80)']));
    expect(email.body).not.toMatch(/draft a personali[sz]ed email|Personali[sz]e it with|found:|\["/i);
    expect(outcome.errors).toEqual([]);
    expect(outcome.duration).toBeGreaterThanOrEqual(0);
    expect(outcome.summary).toContain('finished');
    expect(run.steps.map((x) => [x.name, x.status, x.agentName])).toEqual([['research', 'done', 'Research Agent'], ['email', 'done', 'Writer Agent']]);
    // The writer received the research result in its memory, as an interaction.
    const memory = await s.api.agents.memory.query({ id: cast.writer.id });
    expect(memory.interactions.some((i) => (i.data as { type?: string; step?: string }).type === 'plan-result' && (i.data as { step?: string }).step === 'research')).toBe(true);
    // Listed, and the draft exists in the CRM.
    const list = await s.api.plans.list.query({ docId: saved.flow.docId });
    expect(list.items.map((i) => i.id)).toEqual([run.id]);
    expect((await s.query('select id from drafts where id = ?', [email.draftId])).length).toBe(1);
  });

  it('two independent research steps run at the same time (journal), each by its own agent', async () => {
    const second = await s.api.agents.create.mutate({ name: 'Second Researcher', skills: ['research-contact'], tools: ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'] });
    const proposal = await s.api.plans.fromTask.mutate({ description: 'Research John Doe and Jane Roe' });
    expect(proposal.analysis.sequencing).toBe('parallel');
    const agentsOf = proposal.document.nodes.map((n) => n.params.agent);
    expect(new Set(agentsOf)).toEqual(new Set([cast.researcher.id, second.id]));
    const run = await s.api.plans.run.mutate({ document: proposal.document, wait: true });
    expect(run.status).toBe('success');
    const events = run.journal.filter((j) => j.step).map((j) => `${j.event} ${j.step}`);
    // Both started before either finished.
    expect(events.slice(0, 2).sort()).toEqual(['step.started research', 'step.started research2']);
    const startedAt = run.journal.filter((j) => j.event === 'step.started').map((j) => Date.parse(j.at));
    const doneAt = run.journal.filter((j) => j.event === 'step.done').map((j) => Date.parse(j.at));
    expect(Math.max(...startedAt)).toBeLessThanOrEqual(Math.min(...doneAt));
    await s.api.agents.update.mutate({ id: second.id, active: false });
  });

  it('a critical failure stops its dependents and fails the plan with partial results', async () => {
    // first -> bad -> badEmail: what finished before the failure stays in the results.
    const doc = planDoc('critical-fail', [
      { id: 'first', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: cast.jane.id } },
      { id: 'bad', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: randomUUID() } },
      { id: 'badEmail', skill: 'draft-email', agent: cast.writer.id, params: { to: '{{ steps.bad.output.profile.email }}' } },
    ], [['first', 'bad'], ['bad', 'badEmail']]);
    const run = await s.api.plans.run.mutate({ document: doc, wait: true });
    expect(run.status).toBe('failed');
    expect(run.outcome!.errors).toEqual([{ step: 'bad', message: 'Contact not found', critical: true }]);
    expect(run.steps.map((x) => [x.name, x.status])).toEqual([['first', 'done'], ['bad', 'failed'], ['badEmail', 'skipped']]);
    expect(Object.keys(run.outcome!.results)).toEqual(['first']);
    expect((run.outcome!.results.first as { profile: { email: string } }).profile.email).toBe('jane.roe@globex.test');
    expect(run.outcome!.summary).toContain('bad failed (critical)');
    // The draft was never asked for.
    expect((await s.query(`select 1 from agent_requests where payload->'meta'->>'runId' = ? and payload->'meta'->>'nodeId' = 'badEmail'`, [run.id])).length).toBe(0);
  });

  it('a non-critical failure skips only its branch; the other branch finishes', async () => {
    const doc = planDoc('soft-fail', [
      { id: 'bad', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: randomUUID() }, critical: false },
      { id: 'badEmail', skill: 'draft-email', agent: cast.writer.id, params: { to: '{{ steps.bad.output.profile.email }}' }, critical: false },
      { id: 'good', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: cast.jane.id } },
      { id: 'goodEmail', skill: 'draft-email', agent: cast.writer.id, params: { to: '{{ steps.good.output.profile.email }}', instructions: 'Mention {{ steps.good.output.profile.company }}' } },
    ], [['bad', 'badEmail'], ['good', 'goodEmail']]);
    const run = await s.api.plans.run.mutate({ document: doc, wait: true });
    expect(run.steps.map((x) => [x.name, x.status])).toEqual([['bad', 'failed'], ['good', 'done'], ['badEmail', 'skipped'], ['goodEmail', 'done']]);
    expect(run.status).toBe('success');
    expect(run.outcome!.errors).toEqual([{ step: 'bad', message: 'Contact not found', critical: false }]);
    expect(Object.keys(run.outcome!.results).sort()).toEqual(['good', 'goodEmail']);
    expect((run.outcome!.results.goodEmail as { body: string }).body).toContain('I wanted to mention Globex.');
  });

  it('bad input: diagnostics or typed errors, and nothing stored changes', async () => {
    const count = async () => (await s.query<{ runs: string; steps: string; requests: string; flows: string }>(
      'select (select count(*) from plan_runs) as runs, (select count(*) from plan_steps) as steps, (select count(*) from agent_requests) as requests, (select count(*) from flows) as flows'))[0];
    const before = await count();
    const fails = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return { code: switchyardCode(e), message: (e as Error).message, issues: ((e as { data?: { switchyard?: { issues?: { code?: string; message: string }[] } } }).data?.switchyard?.issues ?? []) };
      }
      throw new Error('expected a failure');
    };
    const research = { skill: 'research-contact', params: { contactId: cast.john.id } };
    // A cycle.
    const cyclic = await fails(s.api.plans.run.mutate({ document: planDoc('cyclic', [{ id: 'a', ...research }, { id: 'b', ...research }], [['a', 'b'], ['b', 'a']]) }));
    expect(cyclic).toMatchObject({ code: 'INVALID_DOCUMENT', issues: [expect.objectContaining({ code: 'cycle' }), expect.objectContaining({ code: 'cycle' })] });
    // An unknown skill.
    expect(await fails(s.api.plans.run.mutate({ document: planDoc('unknown-skill', [{ id: 'a', skill: 'read-minds' }]) })))
      .toMatchObject({ code: 'INVALID_DOCUMENT', message: 'Unknown skill "read-minds"' });
    // An agent without the skill.
    expect(await fails(s.api.plans.run.mutate({ document: planDoc('wrong-agent', [{ id: 'a', ...research, agent: cast.writer.id }]) })))
      .toMatchObject({ code: 'INVALID_DOCUMENT', message: 'Agent "Writer Agent" does not have the skill "Research Contact"' });
    // A reference to a downstream step.
    const downstream = planDoc('downstream', [{ id: 'a', skill: 'research-contact', params: { contactId: '{{ steps.b.output.profile.contactId }}' } }, { id: 'b', ...research }], [['a', 'b']]);
    expect(await fails(s.api.plans.run.mutate({ document: downstream }))).toMatchObject({ code: 'INVALID_DOCUMENT', message: expect.stringContaining('"b" is not upstream of this step') });
    const { diagnostics } = await s.api.plans.validate.mutate({ document: downstream });
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'invalid-expression', nodeId: 'a', path: ['nodes', 0, 'params', 'params', 'contactId'] })]);
    // An empty task, a task no skill matches, a skill no agent can run.
    expect(await fails(s.api.plans.fromTask.mutate({ description: '   ' }))).toMatchObject({ code: 'BAD_INPUT', message: 'Describe the task' });
    expect(await fails(s.api.plans.fromTask.mutate({ description: 'xyzzy plugh' }))).toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('No skill matches') });
    expect(await fails(s.api.plans.fromTask.mutate({ description: 'Summarize the thread with John Doe' })))
      .toMatchObject({ code: 'NOT_FOUND', message: 'No capable agent for skill summarize-thread' });
    // Another user's run is NOT_FOUND; so is a run that does not exist.
    const [mine] = (await s.api.plans.list.query({})).items;
    expect((await fails(s.other.plans.get.query({ id: mine!.id }))).code).toBe('NOT_FOUND');
    expect((await fails(s.other.plans.cancel.mutate({ id: mine!.id }))).code).toBe('NOT_FOUND');
    expect((await fails(s.api.plans.get.query({ id: 'nope' }))).code).toBe('NOT_FOUND');
    expect(await count()).toEqual(before);
  });

  it('cancel stops a running plan; a finished one cannot be cancelled', async () => {
    const doc = planDoc('to-cancel', [{ id: 'a', skill: 'research-contact', agent: cast.researcher.id, params: { contactId: cast.john.id } }]);
    const started = await s.api.plans.run.mutate({ document: doc });
    const after = await s.api.plans.cancel.mutate({ id: started.id }).catch((e: unknown) => ({ code: switchyardCode(e) }));
    const final = await waitForPlan(s.api, started.id);
    // The step may have finished before the cancel arrived: then the plan succeeded and cancel is INVALID_STATE.
    if ('code' in after) expect([after.code, final.status]).toEqual(['INVALID_STATE', 'success']);
    else expect(final.status).toBe('cancelled');
  });
});

describe.each(backendsUnderTest())('two independent research steps, each at a slow web search (%s)', (backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('overlap in time (journal) and the plan takes about the longer of the two, not their sum', async () => {
    // The search answers only once both steps' searches are in flight (then 1 s later): steps run one
    // after the other would each wait 4 s for a partner that never comes, and never overlap.
    const search = await startBarrierSearch(2, 1000);
    cleanup.push(() => search.stop());
    const s = await startPlansServer(backend, { env: search.env });
    cleanup.push(async () => {
      await s.stop();
      await s.storage.drop();
    });
    const { researcher, john, jane } = await seedCast(s.api);
    const second = await s.api.agents.create.mutate({ name: 'Second Researcher', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    const doc = planDoc('two-researches', [
      { id: 'research', skill: 'research-contact', agent: researcher.id, params: { contactId: john.id } },
      { id: 'research2', skill: 'research-contact', agent: second.id, params: { contactId: jane.id } },
    ]);
    const run = await s.api.plans.run.mutate({ document: doc, wait: true });
    expect(run.status).toBe('success');
    expect(search.overlapped()).toBe(true);
    // From the journal: each step's time, and both started before either finished.
    const at = (event: string, step: string) => Date.parse(run.journal.find((j) => j.event === event && j.step === step)!.at);
    const own = ['research', 'research2'].map((n) => at('step.done', n) - at('step.started', n));
    expect(Math.max(at('step.started', 'research'), at('step.started', 'research2'))).toBeLessThan(Math.min(at('step.done', 'research'), at('step.done', 'research2')));
    for (const ms of own) expect(ms).toBeGreaterThanOrEqual(1000);
    // The plan's duration (start to end, summary included) is the longer step's and its overhead, below the sum of both.
    const longer = Math.max(...own);
    const sum = own[0]! + own[1]!;
    expect(run.outcome!.duration).toBeGreaterThanOrEqual(longer);
    expect(run.outcome!.duration).toBeLessThan(sum);
  });
});
