import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeById } from './canvas';
import { apiClient, launchBrowser, newPage, PINNED_CLOCK_ENV, screenshot, startRuntime, type Runtime } from './support';

const SHOTS = '/tmp/shots-marketplace';

/** e2e/artifacts/<name>.png, copied to /tmp/shots-marketplace for review. */
async function shot(page: Page, name: string) {
  const path = await screenshot(page, `marketplace-${name}`);
  await mkdir(SHOTS, { recursive: true });
  await copyFile(path, join(SHOTS, `${name}.png`));
}

describe('template marketplace', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'marketplace-runtime', env: PINNED_CLOCK_ENV });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('search "sales", read Sales Assistant, install it with a name and personality, run it on an email, rate it 4 stars', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    // An empty studio points at the gallery.
    await page.getByTestId('empty-state').waitFor();
    await shot(page, 'flows-empty');
    await page.getByTestId('browse-templates').click();
    await page.waitForURL(/\/marketplace$/);
    await page.getByTestId('template-grid').waitFor();
    expect(await page.getByTestId('template-card').count()).toBeGreaterThanOrEqual(10);
    await shot(page, 'gallery');
    // Filters: templates that send email or change contacts are hidden by "Nothing leaves the studio".
    await page.getByTestId('template-inside-only').check();
    await page.waitForFunction(() => !document.querySelector('[data-template-id="welcome-new-contact"]') && !!document.querySelector('[data-template-id="notify-important-email"]'));
    await shot(page, 'filtered');
    await page.getByTestId('template-inside-only').uncheck();
    await page.getByTestId('template-category').selectOption('scheduling');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="template-card"]').length === 1);
    expect(await page.getByTestId('template-card').getAttribute('data-template-id')).toBe('meeting-scheduler');
    await page.getByTestId('template-category').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="template-card"]').length >= 10);

    await page.getByTestId('template-search').fill('sales');
    const sales = page.locator('[data-testid="template-card"][data-template-id="sales-assistant"]');
    await sales.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="template-card"]')?.getAttribute('data-template-id') === 'sales-assistant');
    await shot(page, 'search-sales');
    await sales.click();

    await page.getByTestId('template-page').waitFor();
    expect(await page.getByTestId('template-title').textContent()).toBe('Sales Assistant');
    expect(await page.getByTestId('template-docs').locator('h1').textContent()).toBe('Sales Assistant');
    expect(await page.getByTestId('permission-list').textContent()).toContain('Write email drafts for you to review');
    expect(await page.getByTestId('flow-preview').count()).toBe(2);
    await shot(page, 'detail');

    await page.getByTestId('install-button').click();
    const wizard = page.getByTestId('install-wizard');
    await wizard.waitFor();
    await page.getByTestId('install-name').fill('Pipeline Pal');
    await page.getByTestId('var-product').fill('Switchyard Pro');
    await page.getByTestId('var-personality-formality').fill('0.2');
    expect(await page.getByTestId('install-confirm').isDisabled()).toBe(true);
    await shot(page, 'wizard');
    for (const box of await wizard.locator('[data-testid^="accept-"][type="checkbox"]').all()) await box.check();
    await shot(page, 'wizard-accepted');
    await page.getByTestId('install-confirm').click();
    await page.getByTestId('install-result').waitFor();
    expect(await page.getByTestId('created-agent').textContent()).toBe('Pipeline Pal');
    expect(await page.getByTestId('created-flow').count()).toBe(2);
    await shot(page, 'installed-result');

    const api = apiClient(runtime);
    const agent = (await api.agents.list.query()).items.find((a) => a.name === 'Pipeline Pal');
    expect(agent?.personality.formality).toBeCloseTo(0.2, 5);

    await api.crm.contacts.create.mutate({ name: 'Grace Hopper', email: 'grace@navy.test' } as never);
    const installed = (await api.templates.installed.query({ templateId: 'sales-assistant' })).items[0]!;
    const replies = installed.flows.find((f) => f.ref === 'sales-replies')!;

    await page.getByTestId('created-agent').click();
    await page.waitForURL(/\/agents\//);
    await page.getByTestId('chat-empty').waitFor();
    expect(Number(await page.getByTestId('trait-formality').getAttribute('aria-valuenow'))).toBeCloseTo(0.2, 5);
    await shot(page, 'agent-created');
    await page.goBack();
    await page.getByTestId('template-page').waitFor();

    await page.getByTestId('rate-4').click();
    await page.getByTestId('review-text').fill('Drafts are good; I still edit the pricing bits.');
    await page.getByTestId('rate-submit').click();
    await page.getByText('Thanks, your rating is saved.').waitFor();
    await page.getByTestId('reviews').locator('.mp-review', { hasText: 'Drafts are good' }).waitFor();
    await page.getByTestId('rate-submit').filter({ hasText: 'Update my rating' }).waitFor();
    expect(await page.getByTestId('detail-installs').textContent()).toBe('1 install');
    await shot(page, 'rated');

    await page.getByTestId('nav-marketplace').click();
    await page.getByTestId('template-search').fill('sales');
    await sales.waitFor();
    await page.getByTestId('template-sort').locator('option', { hasText: 'Best match' }).waitFor({ state: 'attached' });
    await page.waitForFunction(() => document.querySelector('[data-template-id="sales-assistant"] [data-testid="install-count"]')?.textContent === '1 install');
    expect(await sales.getByTestId('stars').getAttribute('aria-label')).toBe('Rated 4.0 out of 5 by 1');
    await shot(page, 'card-after');
    // Sorted by rating without a query, the only rated template leads; a minimum of 4 stars keeps only it.
    await page.getByTestId('template-search').fill('');
    await page.getByTestId('template-sort').selectOption('rating');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="template-card"]').length >= 10 && document.querySelector('[data-testid="template-card"]')?.getAttribute('data-template-id') === 'sales-assistant');
    await page.getByTestId('template-min-rating').selectOption('4');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="template-card"]').length === 1);
    expect(await page.getByTestId('template-card').getAttribute('data-template-id')).toBe('sales-assistant');
    await page.getByTestId('template-min-rating').selectOption('0');

    await page.getByTestId('tab-installed').click();
    await page.getByTestId('installed-item').first().waitFor();
    await shot(page, 'installed-tab');

    // Run it on an email: open its flow from the Installed tab and send Grace's test email; the agent drafts a reply.
    await page.locator('[data-testid="installed-item"][data-template-id="sales-assistant"] a.chip', { hasText: 'Reply to sales emails' }).click();
    await page.waitForURL(/\/flows\//);
    await page.getByTestId('editor').waitFor();
    await page.getByTestId('run').click();
    await page.getByTestId('run-dialog').waitFor();
    await page.locator('[data-testid="run-contact"] option[value="grace@navy.test"]').waitFor({ state: 'attached' });
    await page.getByTestId('run-contact').selectOption('grace@navy.test');
    await page.getByTestId('run-subject').fill('Pricing for Pro?');
    await page.getByTestId('run-body').fill('What does it cost?');
    await page.getByTestId('run-submit').click();
    const panel = page.locator('[data-testid="run-panel"][data-run-status="completed"], [data-testid="run-panel"][data-run-status="failed"]');
    await panel.waitFor({ timeout: 30_000 });
    expect(await panel.getAttribute('data-run-status')).toBe('completed');
    expect(await nodeById(page, 'reply').getAttribute('data-run-state')).toBe('succeeded');
    await shot(page, 'sales-run');
    const runId = (await api.runs.list.query({ docId: replies.docId })).items[0]!.id;
    const reply = ((await api.runs.get.query({ runId })).nodes as Record<string, { state: string; output: unknown }>).reply!;
    expect(JSON.stringify(reply.output)).toContain('draft.created');
    await page.goBack();
    await page.getByTestId('installed-item').first().waitFor();

    // Edited to send email, the flow needs a permission the install was not granted: the Installed
    // tab says so, deploying is refused, and allowing it there lets it deploy.
    const saved = (await api.flows.get.query({ docId: replies.docId })).document;
    await api.flows.save.mutate({ document: {
      ...saved,
      nodes: [...saved.nodes, { id: 'mail', type: 'action.sendEmail', typeVersion: 1, position: { x: 1100, y: 0 }, params: { to: '{{ trigger.from }}', subject: 'Thanks', body: 'We will get back to you.' } }],
      edges: [...saved.edges, { id: 'e-mail', source: saved.nodes.at(-1)!.id, sourceHandle: 'out', target: 'mail', targetHandle: 'in' }],
    } });
    await expect(api.flows.deploy.mutate({ docId: replies.docId })).rejects.toThrow(/email\.send/);
    await page.reload();
    const mine = page.locator('[data-testid="installed-item"][data-template-id="sales-assistant"]');
    expect(await mine.getByTestId('permissions-missing').textContent()).toBe('Needs permission: Send emails in your name');
    await shot(page, 'installed-missing-permission');
    await mine.getByTestId('permissions-button').click();
    await page.getByTestId('grant-dialog').waitFor();
    expect(await page.getByTestId('grant-confirm').isDisabled()).toBe(true);
    await page.getByTestId('grant-email.send').check();
    await shot(page, 'grant-dialog');
    await page.getByTestId('grant-confirm').click();
    await page.getByTestId('grant-dialog').waitFor({ state: 'detached' });
    await mine.getByTestId('permissions-missing').waitFor({ state: 'detached' });
    expect((await api.flows.deploy.mutate({ docId: replies.docId })).flow.status).toBe('deployed');
    expect(errors).toEqual([]);
  });

  test('the plan template: its card draws the plan, installing with a goal creates both agents and the plan, and a run drafts from the research', async () => {
    const { page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/marketplace?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('template-search').fill('reach out');
    const card = page.locator('[data-testid="template-card"][data-template-id="research-and-reach-out"]');
    await card.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="template-card"]')?.getAttribute('data-template-id') === 'research-and-reach-out');
    expect(await card.getByTestId('flow-preview').count()).toBe(1);
    await shot(page, 'plan-card');
    await card.click();
    await page.getByTestId('template-page').waitFor();
    expect(await page.getByTestId('template-title').textContent()).toBe('Research and reach out');
    expect(await page.getByTestId('permission-list').textContent()).toContain('Ask your agents to run skills');
    await shot(page, 'plan-detail');

    await page.getByTestId('install-button').click();
    await page.getByTestId('install-wizard').waitFor();
    await page.getByTestId('var-goal').fill('Offer a Switchyard Pro demo next Tuesday');
    await page.getByTestId('var-tone').selectOption('concise');
    await page.getByTestId('accept-all').click();
    await shot(page, 'plan-wizard');
    await page.getByTestId('install-confirm').click();
    await page.getByTestId('install-result').waitFor();
    expect(await page.getByTestId('created-agent').allTextContents()).toEqual(['Researcher', 'Writer']);
    expect(await page.getByTestId('created-flow').count()).toBe(1);
    await shot(page, 'plan-installed');

    // Plans are run with the contact in their context (here through the API; the canvas has Run plan… for it).
    const api = apiClient(runtime);
    const installed = (await api.templates.installed.query({ templateId: 'research-and-reach-out' })).items[0]!;
    const ada = await api.crm.contacts.create.mutate({ name: 'Ada Lovelace', email: 'ada@engines.test', company: 'Analytical Engines', title: 'CTO' } as never);
    const run = await api.plans.run.mutate({ docId: installed.flows[0]!.docId, context: { contactId: (ada as { id: string }).id }, wait: true });
    expect(run.status).toBe('success');
    expect((run.outcome!.results.email as { body: string }).body).toContain('Would you be open to a Switchyard Pro demo next Tuesday?');
    await page.goto(`${runtime.baseUrl}/plans/runs/${run.id}`);
    await page.locator('[data-testid="plan-run-page"][data-status="success"]').waitFor();
    await page.getByTestId('plan-summary').waitFor();
    await shot(page, 'plan-run');
    expect(errors).toEqual([]);
  });

  test('publish your own flow and agent, install it, publish 1.1.0 and update from the Installed tab', async () => {
    const { page, errors } = await newPage(browser);
    const api = apiClient(runtime);
    const agent = await api.agents.create.mutate({ name: 'Note taker', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    const flow = (title: string) => ({
      schemaVersion: 1 as const, id: 'shared-notes', kind: 'workflow' as const, name: 'Shared notes', description: '', version: 0, settings: {},
      nodes: [
        { id: 'email', type: 'trigger.emailReceived', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
        { id: 'draft', type: 'agent.runSkill', typeVersion: 1, position: { x: 250, y: 0 }, params: { agentId: agent.id, skill: 'draft-email', params: {} } },
        { id: 'task', type: 'action.createTask', typeVersion: 1, position: { x: 500, y: 0 }, params: { title } },
        { id: 'hook', type: 'action.webhook', typeVersion: 1, position: { x: 750, y: 0 }, params: { url: 'https://notes.example.com/in', headers: { Authorization: 'Bearer abcdefghijklmnopqrstuvwxyz' } } },
      ],
      edges: [{ id: 'e1', source: 'email', sourceHandle: 'out', target: 'draft', targetHandle: 'in' }, { id: 'e2', source: 'draft', sourceHandle: 'out', target: 'task', targetHandle: 'in' }, { id: 'e3', source: 'task', sourceHandle: 'out', target: 'hook', targetHandle: 'in' }],
    });
    await api.flows.save.mutate({ document: flow('Check the note') });

    await page.goto(`${runtime.baseUrl}/marketplace?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('publish-button').click();
    const dialog = page.getByTestId('publish-dialog');
    await dialog.waitFor();
    await page.getByTestId('publish-name').fill('Shared notes');
    await dialog.getByLabel('Shared notes').check();
    await dialog.getByLabel('Note taker').check();
    await shot(page, 'publish-dialog');
    await page.getByTestId('publish-confirm').click();
    await dialog.getByText('Published shared-notes@1.0.0').waitFor();
    expect(await dialog.textContent()).toContain('Shared notes › hook › header Authorization');
    await shot(page, 'published');

    const t = await api.templates.get.query({ id: 'shared-notes' });
    const { install } = await api.templates.install.mutate({ id: 'shared-notes', name: 'Notes', acceptPermissions: t.permissions });
    await api.flows.save.mutate({ document: flow('Check the note, twice') });
    await api.templates.publish.mutate({ id: 'shared-notes', name: 'Shared notes', category: 'productivity', version: '1.1.0', changelog: 'Asks twice', flows: ['shared-notes'], agents: [agent.id] });

    await page.goto(`${runtime.baseUrl}/marketplace/installed`);
    const item = page.locator('[data-testid="installed-item"][data-template-id="shared-notes"]');
    await item.getByTestId('update-available').waitFor();
    await shot(page, 'update-available');
    await item.getByTestId('update-button').click();
    await page.getByTestId('upgrade-diff').waitFor();
    expect(await page.getByTestId('upgrade-diff').textContent()).toContain('Changes the step “Create task (task)” in “Shared notes”');
    expect(await page.getByTestId('upgrade-notes').textContent()).toBe('1.1.0Asks twice');
    await shot(page, 'upgrade-dialog');
    await page.getByTestId('upgrade-confirm').click();
    await page.getByTestId('upgrade-done').waitFor();
    // The template's page lists both versions, newest first, with the changelog.
    await page.goto(`${runtime.baseUrl}/marketplace/shared-notes`);
    await page.getByTestId('template-page').waitFor();
    expect(await page.getByTestId('versions').locator('li strong').allTextContents()).toEqual(['1.1.0', '1.0.0']);
    expect(await page.getByTestId('versions').locator('.mp-versions__notes').first().textContent()).toBe('Asks twice');
    expect((await api.templates.installed.query({ templateId: 'shared-notes' })).items.find((i) => i.id === install.id)?.version).toBe('1.1.0');
    expect(errors).toEqual([]);
  });

  test('a plan-only template: the wizard offers no deploy and says how plans run; on the canvas its steps name their agents and Run plan asks for the contact', async () => {
    const { page, errors } = await newPage(browser);
    const api = apiClient(runtime);
    await page.goto(`${runtime.baseUrl}/marketplace/research-and-reach-out?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('template-page').waitFor();
    await page.getByTestId('install-button').click();
    const wizard = page.getByTestId('install-wizard');
    await wizard.waitFor();
    // Plans are run, not deployed: no deploy option, a line saying how the plan runs instead.
    expect(await page.getByTestId('install-deploy').count()).toBe(0);
    expect(await page.getByTestId('install-plan-hint').textContent()).toBe('The plan is run, not deployed: after installing, open it on the canvas and press Run plan.');
    expect(await wizard.textContent()).not.toContain('Deploy the flows');
    await page.getByTestId('install-name').fill('Outreach');
    await page.getByTestId('accept-all').click();
    await shot(page, 'plan-only-wizard');
    await page.getByTestId('install-confirm').click();
    await page.getByTestId('install-result').waitFor();
    const note = await page.getByTestId('install-note').textContent();
    expect(note).toContain('Run the plan from the canvas');
    expect(note).not.toMatch(/deploy|draft/i);
    // Listed as a plan, without a Draft/Deployed badge.
    const result = await page.getByTestId('install-result').textContent();
    expect(result).toContain('Plan ');
    expect(result).not.toMatch(/Draft|Deployed/);
    const agentNames = await page.getByTestId('created-agent').allTextContents();
    expect(agentNames).toHaveLength(2);
    await shot(page, 'plan-only-installed');

    // On the canvas each step names the agent the install created for it.
    await page.getByTestId('created-flow').click();
    await page.waitForURL(/\/flows\//);
    await page.locator('.react-flow__node').first().waitFor();
    await page.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid="plan-step-summary"]')).every((e) => !e.textContent?.includes('…')));
    expect(await page.getByTestId('plan-step-summary').allTextContents()).toEqual([`research · ${agentNames[0]}`, `email · ${agentNames[1]}`]);
    // The template lays its steps out in lanes: each agent has its own, with no overlap to fix.
    await page.getByTestId('canvas-lane').nth(1).waitFor();
    expect(await page.getByTestId('plan-lanes-overlap').count()).toBe(0);
    await shot(page, 'plan-only-canvas');
    const lanes = await page.getByTestId('canvas-lane').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.top, r.bottom]));
    expect(lanes).toHaveLength(2);
    expect(lanes[1]![0]!).toBeGreaterThanOrEqual(lanes[0]![1]!);
    await shot(page, 'plan-only-canvas-laid-out');

    // Run plan asks for the contact its research step reads from the run's context; nothing runs without one.
    const grace = (await api.crm.contacts.create.mutate({ name: 'Grace Brewster', email: 'grace.brewster@reach-out.test', company: 'US Navy', title: 'Rear Admiral' } as never)) as { id: string };
    const runsBefore = (await api.plans.list.query({ limit: 50 })).items.length;
    await page.getByTestId('run-plan').click();
    const dialog = page.getByTestId('run-plan-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Read by step “research” as context.contactId.');
    await page.getByTestId('run-plan-submit').click();
    expect(await page.getByTestId('run-plan-error').textContent()).toBe('Pick a contact');
    expect((await api.plans.list.query({ limit: 50 })).items.length).toBe(runsBefore);
    await shot(page, 'run-plan-dialog-required');
    await page.getByTestId('run-plan-search-contactId').fill('Brewster');
    await page.locator(`[data-testid="run-plan-contactId"] option[value="${grace.id}"]`).waitFor({ state: 'attached' });
    await page.getByTestId('run-plan-contactId').selectOption(grace.id);
    await shot(page, 'run-plan-dialog-picked');
    await page.getByTestId('run-plan-submit').click();
    await page.locator('[data-testid="plan-run-panel"][data-status="success"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-plan-dialog').count()).toBe(0);
    await shot(page, 'run-plan-done');
    const runId = (await page.getByTestId('plan-run-open-page').getAttribute('href'))!.split('/').pop()!;
    const run = await api.plans.get.query({ id: runId });
    expect(run.status).toBe('success');
    // The contact picked in the dialog reached the research step, and the draft is addressed to her.
    expect((run.outcome!.results.research as { profile: { email: string } }).profile.email).toBe('grace.brewster@reach-out.test');
    expect(JSON.stringify(run.outcome!.results.email)).toContain('grace.brewster@reach-out.test');
    expect(errors).toEqual([]);
  });
});
