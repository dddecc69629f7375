import { afterAll, describe, expect, it } from 'vitest';
import { backendsUnderTest, client, freshStorage, spawnRuntime } from './host-support';
import { RESEARCH_TOOLS, WRITER_TOOLS, planDoc, seedCast, startPlanModel, startPlansServer, waitForPlan } from './issue-11-support';

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Issue 11: the analysis from a model (an OpenAI-compatible test server), and a plan surviving SIGKILL. */
describe.each(backendsUnderTest())('plans with a model, and after a crash (%s)', (backend) => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("the seed's day 14 with the model: its analysis (zod-validated) becomes the plan, the email is built from the research", async () => {
    const model = await startPlanModel();
    cleanup.push(() => model.stop());
    const s = await startPlansServer(backend, { env: model.env });
    cleanup.push(async () => {
      await s.stop();
      await s.storage.drop();
    });
    const cast = await seedCast(s.api);
    const proposal = await s.api.plans.fromTask.mutate({ description: 'Research John Doe and draft a personalized email', context: { source: 'test' } });
    expect(proposal.source).toBe('model');
    expect(proposal.analysis).toEqual({ requiredSkills: ['research-contact', 'draft-email'], sequencing: 'sequential', estimatedDurationMinutes: 3 });
    expect(model.requests.filter((r) => r.schema === 'task_analysis')).toHaveLength(1);
    expect(model.requests[0]!.text).toContain('Research John Doe and draft a personalized email');
    const [research, email] = proposal.document.nodes;
    // The model named no contact for the research: the params come from the offline analyser's guess.
    expect(research!.params).toMatchObject({ agent: cast.researcher.id, params: { contactId: cast.john.id } });
    expect(email!.params).toMatchObject({ agent: cast.writer.id, params: { instructions: 'MODEL PLAN: mention {{ steps.research.output.insights }}' } });

    const run = await s.api.plans.run.mutate({ document: proposal.document, wait: true });
    expect(run.status).toBe('success');
    const out = run.outcome!.results.email as { to: string[]; subject: string; body: string };
    expect(out.to).toEqual(['john.doe@acme.test']);
    expect(out.body).toMatch(/^MODEL DRAFT\. MODEL PLAN: mention .*CTO at Acme/);
    expect(run.outcome!.summary).toBe('MODEL SUMMARY: the plan went fine.');

    // The model down: the offline analyser's plan, and a notice saying so.
    const fallback = await s.api.plans.fromTask.mutate({ description: 'Research John Doe and draft a personalized email MODELDOWN' });
    expect(fallback.source).toBe('offline');
    expect(fallback.notice).toMatch(/^The model could not analyse the task/);
    expect(fallback.document.nodes.map((n) => n.params.skill)).toEqual(['research-contact', 'draft-email']);
  });

  it('SIGKILL mid-plan: after the restart finished steps are not run again and the plan completes', async () => {
    const model = await startPlanModel();
    cleanup.push(() => model.stop());
    const storage = await freshStorage(backend);
    cleanup.push(() => storage.drop());
    const env = { ...storage.env, ...model.env, SWITCHYARD_INSTANCE_ID: 'plans-crash-test' };
    let rt = await spawnRuntime(env);
    let api = client(rt.url);
    const researcher = await api.agents.create.mutate({ name: 'Research Agent', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    const writer = await api.agents.create.mutate({ name: 'Writer Agent', skills: ['draft-email'], tools: [...WRITER_TOOLS] });
    const john = await api.crm.contacts.create.mutate({ name: 'John Doe', email: 'john.doe@acme.test', company: 'Acme', title: 'CTO' });
    const doc = planDoc('crash-plan', [
      { id: 'research', skill: 'research-contact', agent: researcher.id, params: { contactId: john.id } },
      { id: 'email', skill: 'draft-email', agent: writer.id, params: { to: '{{ steps.research.output.profile.email }}', instructions: 'First note' } },
      { id: 'followUp', skill: 'draft-email', agent: writer.id, params: { to: '{{ steps.research.output.profile.email }}', instructions: 'SLOWDRAFT second note' } },
    ], [['research', 'email'], ['email', 'followUp']]);
    const started = await api.plans.run.mutate({ document: doc });
    const drafts = (marker: string) => model.requests.filter((r) => r.schema === 'email_draft' && r.text.includes(marker)).length;
    // Killed while the last step's request is at the model.
    await until('the follow-up to reach the model', () => drafts('SLOWDRAFT') === 1);
    expect(await rt.kill('SIGKILL')).toBe(-1);
    expect(drafts('First note')).toBe(1);

    rt = await spawnRuntime(env);
    cleanup.push(() => rt.kill('SIGTERM'));
    api = client(rt.url);
    const run = await waitForPlan(api, started.id);
    expect(run.status).toBe('success');
    expect(run.steps.map((x) => [x.name, x.status])).toEqual([['research', 'done'], ['email', 'done'], ['followUp', 'done']]);
    // The finished steps ran once: one model call for the first email, one research in the researcher's history.
    expect(drafts('First note')).toBe(1);
    const researcherMemory = await api.agents.memory.query({ id: researcher.id });
    expect(researcherMemory.interactions.filter((i) => (i.data as { type?: string }).type === 'skill')).toHaveLength(1);
    // The step in flight when the process died: asked once more (its first call never got an answer), one draft each.
    expect(drafts('SLOWDRAFT')).toBe(2);
    expect((await api.crm.drafts.list.query({} as never)).items).toHaveLength(2);
    expect(run.journal.map((j) => j.event)).toContain('plan.resumed');
    expect(run.journal.filter((j) => j.event === 'step.started' && j.step === 'research')).toHaveLength(1);
  });
});
