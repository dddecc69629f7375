import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, dropNode, nodeById, select, signIn } from './canvas';
import { PINNED_CLOCK_ENV, apiClient, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

describe('a condition trigger on the canvas', () => {
  let runtime: Runtime;
  let browser: Browser;
  beforeAll(async () => {
    runtime = await startRuntime({ name: 'behavior-condition-runtime', env: PINNED_CLOCK_ENV });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('its interval and condition read on the node; an invalid interval is shown on it and blocks deploy; a valid one deploys, for everyone', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    await page.getByTestId('new-behavior').click();
    await page.getByTestId('name-input').fill('Watch due follow-ups');
    await page.getByTestId('name-submit').click();
    await page.getByTestId('editor').waitFor();
    const docId = new URL(page.url()).pathname.split('/').pop()!;

    const check = await dropNode(page, 'trigger.condition', 120, 140);
    const task = await dropNode(page, 'action.createTask', 480, 140);
    await connect(page, check, task);
    await select(page, task);
    await page.getByTestId('field-title').fill('{{ trigger.followUpsDue }} follow-ups due');
    await select(page, check);
    await page.getByTestId('field-condition').fill('trigger.followUpsDue > 0');
    await page.getByTestId('field-everyMinutes').fill('0');
    await page.getByTestId('field-everyMinutes').blur();
    // The interval is refused on the node, in the problems list, and deploy waits for it.
    await page.waitForFunction(() => window.document.querySelector('[data-testid="problem-count"]')?.textContent === '1');
    await expect.poll(async () => (await page.getByTestId('inspector').textContent()) ?? '').toContain('Check every whole number of minutes from 1');
    await screenshot(page, 'behavior-condition-1-invalid-interval');

    await page.getByTestId('field-everyMinutes').fill('30');
    await page.getByTestId('field-everyMinutes').blur();
    await page.waitForFunction(() => window.document.querySelector('[data-testid="problem-count"]')?.textContent === '0');
    expect(await nodeById(page, check).textContent()).toContain('Every 30 min: trigger.followUpsDue > 0');
    // With nothing selected, the behavior's audience: for everyone on the instance (this is its owner).
    await page.locator('.react-flow__pane').click({ position: { x: 300, y: 480 } });
    await page.getByTestId('behavior-audience').selectOption('everyone');
    await expect.poll(async () => (await page.getByTestId('inspector').textContent()) ?? '').toContain('Each user gets their own machine over their own data');
    await page.keyboard.press('Control+s');
    await page.getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    await page.locator('[data-testid="deploy"]:not([disabled])').click();
    await page.getByTestId('deployed-badge').waitFor();
    await screenshot(page, 'behavior-condition-2-deployed-for-everyone');

    const { document } = await apiClient(runtime).flows.get.query({ docId });
    expect(document.nodes.find((n) => n.id === check)?.params).toEqual({ everyMinutes: 30, condition: 'trigger.followUpsDue > 0' });
    expect(document.settings).toMatchObject({ audience: 'everyone' });
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
