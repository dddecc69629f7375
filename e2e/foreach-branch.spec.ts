import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, createWorkflow, dropNode, nodeById, select, signIn } from './canvas';
import { PINNED_CLOCK_ENV, apiClient, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/** Issue #10: a for-each whose items run a whole branch, drawn, deployed and run from the editor. */
describe('for-each running a branch per item', () => {
  let runtime: Runtime;
  let browser: Browser;
  beforeAll(async () => {
    runtime = await startRuntime({ name: 'foreach-branch-runtime', env: PINNED_CLOCK_ENV });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('drawn from "For each item": the inspector drops the one-action settings; a run badges the for-each and its branch, one task per item', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    const docId = await createWorkflow(page, 'Branch per person');
    const start = await dropNode(page, 'trigger.manual', 100, 160);
    const each = await dropNode(page, 'flow.forEach', 400, 160);
    const task = await dropNode(page, 'action.createTask', 720, 300);
    await connect(page, start, each);
    await select(page, each);
    // One action per item until a branch is drawn: its settings are there.
    await page.getByTestId('field-action').waitFor();
    await page.getByTestId('field-items').fill('{{ trigger.people }}');
    await connect(page, each, task, 'each');
    await select(page, each);
    await page.getByTestId('foreach-branch-hint').waitFor();
    expect(await page.getByTestId('field-action').count()).toBe(0);
    expect(await page.getByTestId('field-with').count()).toBe(0);
    await select(page, task);
    await page.getByTestId('field-title').fill('Call {{ item.name }}');
    await page.waitForFunction(() => document.querySelector('[data-testid="problem-count"]')?.textContent === '0');
    await page.keyboard.press('Control+s');
    await page.getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    await page.locator('[data-testid="deploy"]:not([disabled])').click();
    await page.getByTestId('deployed-badge').waitFor();

    await page.getByTestId('run').click();
    await page.getByTestId('run-payload').fill(JSON.stringify({ people: [{ name: 'Ada' }, { name: 'Grace' }, { name: 'Linus' }] }));
    await page.getByTestId('run-submit').click();
    await page.locator('[data-testid="run-panel"][data-run-status="completed"]').waitFor({ timeout: 30_000 });
    await expect.poll(async () => nodeById(page, each).getByTestId('node-run-badge').textContent(), { timeout: 10_000 }).toContain('3 items');
    // The branch's node shows as the last item left it.
    await expect.poll(async () => nodeById(page, task).getAttribute('data-run-state'), { timeout: 10_000 }).toBe('succeeded');
    await select(page, task);
    expect(await page.getByTestId('node-run-item').textContent()).toContain('Item 3 of');
    await screenshot(page, 'foreach-branch-run');

    const api = apiClient(runtime);
    const runs = await api.runs.list.query({ docId });
    const titles = ((await api.crm.tasks.list.query({ limit: 200 } as never)) as unknown as { items: { title: string; sourceRunId: string }[] }).items
      .filter((t) => t.sourceRunId === runs.items[0]!.id).map((t) => t.title).sort();
    expect(titles).toEqual(['Call Ada', 'Call Grace', 'Call Linus']);
    expect(errors).toEqual([]);
    await context.close();
  });
});
