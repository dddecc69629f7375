import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, dropNode, nodeById, select, signIn } from './canvas';
import { apiClient, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

describe('behaviors on the canvas', () => {
  let runtime: Runtime;
  let browser: Browser;
  beforeAll(async () => {
    runtime = await startRuntime({ name: 'behaviors-runtime' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('a behavior built from a blank document, deployed and activated twice shows each activation live', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    await page.getByTestId('new-behavior').click();
    await page.getByTestId('name-input').fill('Check in on login');
    await page.getByTestId('name-submit').click();
    await page.getByTestId('editor').waitFor();
    const docId = new URL(page.url()).pathname.split('/').pop()!;

    const login = await dropNode(page, 'trigger.userLogin', 120, 140);
    const task = await dropNode(page, 'action.createTask', 460, 140);
    await connect(page, login, task);
    await select(page, task);
    await page.getByTestId('field-title').fill('Check-in #{{ run.activation }}');
    await page.waitForFunction(() => document.querySelector('[data-testid="problem-count"]')?.textContent === '0');
    await page.keyboard.press('Control+s');
    await page.getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    await page.locator('[data-testid="deploy"]:not([disabled])').click();
    await page.getByTestId('deployed-badge').waitFor();

    // The first activation from the editor's Run: the behavior's machine does the work and idles again.
    await page.getByTestId('run').click();
    await page.getByTestId('run-dialog').waitFor();
    await page.getByTestId('run-submit').click();
    await page.locator('[data-testid="run-panel"][data-run-status="waiting"]').waitFor({ timeout: 30_000 });
    await expect.poll(async () => nodeById(page, task).getAttribute('data-run-state'), { timeout: 20_000 }).toBe('succeeded');
    await screenshot(page, 'behavior-1-first-activation');

    // A login from outside activates it again; the canvas follows the same machine.
    const api = apiClient(runtime);
    await api.events.emit.mutate({ type: 'user.login', payload: { at: '2026-01-08T09:00:00.000Z' } });
    const titles = async () => ((await api.crm.tasks.list.query({})) as unknown as { items: { title: string }[] }).items.map((t) => t.title).filter((t) => t.startsWith('Check-in')).sort();
    await expect.poll(titles, { timeout: 20_000 }).toEqual(['Check-in #1', 'Check-in #2']);
    await expect.poll(async () => nodeById(page, task).getAttribute('data-run-state'), { timeout: 20_000 }).toBe('succeeded');
    await page.getByTestId('behavior-activation').filter({ hasText: 'Activation 2 completed' }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('run-status').textContent()).toBe('Idle: waiting for its next trigger');
    await screenshot(page, 'behavior-2-second-activation');

    const runs = await api.runs.list.query({ docId });
    expect(runs.items).toHaveLength(1);
    expect(runs.items[0]!.status).toBe('waiting');
    expect(errors).toEqual([]);
    await context.close();
  }, 180_000);
});
