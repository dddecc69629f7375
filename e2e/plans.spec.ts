import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiClient, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/** Screenshots also land here, to be looked at. */
const SHOTS = '/tmp/shots-plans';
async function shot(page: Page, name: string) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  await screenshot(page, `plans-${name}`);
}

const RESEARCH_TOOLS = ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'] as const;

describe('plans', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'plans-runtime' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('type a task, review the proposed plan, reassign a step, run it, see both research steps at once and the results', async () => {
    const api = apiClient(runtime);
    await api.agents.create.mutate({ name: 'Researcher A', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    await api.agents.create.mutate({ name: 'Researcher B', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    const c = await api.agents.create.mutate({ name: 'Researcher C', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    await api.agents.create.mutate({ name: 'Writer', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });

    const { page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('plan-from-task').click();
    await page.getByTestId('plans-page').waitFor();
    await shot(page, '1-plans-empty');

    await page.getByTestId('plan-task').fill('Research Ada Lovelace and Grace Hopper, then draft an email to Ada Lovelace');
    await page.getByTestId('plan-propose').click();
    await page.getByTestId('plan-proposal').waitFor();
    const steps = page.getByTestId('plan-proposal').getByTestId('plan-step');
    expect(await steps.count()).toBe(3);
    const lanes = page.getByTestId('plan-proposal').getByTestId('plan-lane');
    expect(await lanes.count()).toBe(3);
    expect(await page.getByTestId('plan-proposal').locator('.plan-lane__agent').allTextContents()).toEqual(['Researcher A', 'Researcher B', 'Writer']);
    await shot(page, '2-proposal');
    await page.getByTestId('plan-proposal').screenshot({ path: join(SHOTS, '2b-proposal-card.png') });

    // Reassign the second research to Researcher C: its lane moves, the plan still checks out.
    await page.locator('[data-step="research2"]').getByTestId('step-agent').selectOption(c.id);
    await page.getByTestId('plan-proposal').locator(`[data-testid="plan-lane"][data-agent-id="${c.id}"]`).waitFor();
    expect(await page.getByTestId('step-problem').count()).toBe(0);
    await shot(page, '3-reassigned');

    await page.getByTestId('plan-run').click();
    await page.getByTestId('plan-run-page').waitFor();
    // Best effort (no timing assertion): the live overlay while both research steps run.
    const bothRunning = page.locator('[data-testid="plan-run-page"]:has([data-step="research"][data-status="running"]):has([data-step="research2"][data-status="running"])');
    if (await bothRunning.waitFor({ timeout: 3000 }).then(() => true, () => false)) await shot(page, '3b-live-both-running');
    await page.locator('[data-testid="plan-run-page"][data-status="success"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('plan-outcome').waitFor();
    expect(await page.getByTestId('plan-run-page').getByTestId('plan-step').evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-status')])))
      .toEqual(expect.arrayContaining([['research', 'done'], ['research2', 'done'], ['email', 'done']]));
    expect(await page.getByTestId('timeline-note').textContent()).toContain('Ran at the same time: research + research2');
    expect(await page.getByTestId('plan-summary').textContent()).toContain('finished');
    expect(await page.getByTestId('plan-run-page').locator('.plan-lane__agent').allTextContents()).toEqual(['Researcher A', 'Researcher C', 'Writer']);
    await page.locator('[data-step="email"] summary').click();
    await shot(page, '4-run-finished');
    // The app scrolls inside its shell: a tall window shows the whole run page at once.
    await page.setViewportSize({ width: 1280, height: 1900 });
    await page.getByTestId('plan-timeline').waitFor();
    await page.screenshot({ path: join(SHOTS, '4b-run-page-full.png') });
    await page.setViewportSize({ width: 1280, height: 800 });

    // The same kind of plan opened on the canvas for review.
    await page.goto(`${runtime.baseUrl}/plans`);
    await page.getByTestId('plan-runs').waitFor();
    await shot(page, '5-recent-runs');
    // A task naming nobody the CRM knows: the research step is proposed with a warning that it has no contact.
    await page.getByTestId('plan-task').fill('Research Zaphod Beeblebrox and draft a personalized email');
    await page.getByTestId('plan-propose').click();
    await page.getByTestId('plan-proposal').waitFor();
    expect(await page.locator('[data-step="research"]').getByTestId('step-problem').allTextContents())
      .toEqual(['Research Contact needs contactId, and this step gives none: it will fail']);
    await page.getByTestId('plan-proposal').screenshot({ path: join(SHOTS, '5b-proposal-warning.png') });
    await page.getByTestId('plan-task').fill('Research Ada Lovelace and draft a personalized email');
    await page.getByTestId('plan-propose').click();
    await page.getByTestId('plan-proposal').waitFor();
    await page.getByTestId('plan-open-canvas').click();
    await page.waitForURL(/\/flows\/plan-/);
    await page.locator('.react-flow__node').first().waitFor();
    expect(await page.locator('.react-flow__node').count()).toBe(2);
    // Checked as a plan: no "add a trigger"; Run plan instead of Run with a test event and Deploy.
    expect(await page.getByTestId('problem').count()).toBe(0);
    expect(await page.getByTestId('deploy').count()).toBe(0);
    // The palette offers what a plan can hold: plan steps.
    expect(await page.getByTestId('palette').locator('[data-testid^="palette-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))).toEqual(['palette-plan.step']);
    await shot(page, '6-canvas');
    // The step's inspector offers the capable agents; reassign the research, then run the plan as drawn.
    await page.locator('.react-flow__node').first().click();
    await page.getByTestId('plan-step-inspector').waitFor();
    await page.getByTestId('plan-step-inspector').getByTestId('field-agent').selectOption(c.id);
    await shot(page, '7-canvas-inspector');
    await page.getByTestId('save').click();
    await page.getByTestId('save-state').filter({ hasText: 'Saved · v2' }).waitFor();
    // The run is followed on the canvas (its live overlay and run panel); its page is one click away.
    await page.getByTestId('run-plan').click();
    await page.locator('[data-testid="plan-run-panel"][data-status="success"]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('node-run-badge').allTextContents()).toEqual(['Done', 'Done']);
    await shot(page, '8-canvas-run');
    await page.getByTestId('plan-run-open-page').click();
    await page.locator('[data-testid="plan-run-page"][data-status="success"]').waitFor();
    expect(await page.getByTestId('plan-run-page').locator('.plan-lane__agent').allTextContents()).toEqual(['Researcher C', 'Writer']);
    expect(errors).toEqual([]);
  });
});
