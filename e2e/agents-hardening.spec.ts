import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signIn } from './canvas';
import { startObeyingModel } from '../apps/runtime/test/support/obeying-openai';
import { apiClient, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/**
 * Issue 9, Agents, in the browser: choosing a skill grants the tools it needs (an agent with
 * Draft Email but no getContact used to fail at run time), and a chat turn the model did not
 * answer is shown as failed with a Retry instead of vanishing.
 */
describe('agents: skills bring their tools, failed chat turns can be retried', () => {
  let runtime: Runtime;
  let browser: Browser;
  let model: Awaited<ReturnType<typeof startObeyingModel>>;

  beforeAll(async () => {
    model = await startObeyingModel();
    runtime = await startRuntime({ name: 'agents-hardening-runtime', env: { OPENAI_BASE_URL: model.baseUrl, OPENAI_API_KEY: 'sk-test', SWITCHYARD_MODEL: 'test-model' } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    await model?.stop();
  });

  test('choosing Draft Email checks getContact and createDraft; a missing one is explained with a fix', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime, '/agents');
    await page.getByTestId('new-agent').click();
    await page.getByTestId('skills-picker').waitFor();
    expect(await page.getByTestId('tool-getContact').isChecked()).toBe(false);
    await page.getByTestId('skill-draft-email').check();
    expect(await page.getByTestId('tool-getContact').isChecked()).toBe(true);
    expect(await page.getByTestId('tool-createDraft').isChecked()).toBe(true);
    expect(await page.getByTestId('missing-tools').count()).toBe(0);
    await page.getByTestId('tool-createDraft').uncheck();
    const missing = page.getByTestId('missing-tools');
    await missing.waitFor();
    expect(await missing.textContent()).toContain('Draft Email needs createDraft');
    await missing.scrollIntoViewIfNeeded();
    await screenshot(page, 'agents-missing-tools');
    await page.getByTestId('grant-draft-email').click();
    expect(await page.getByTestId('tool-createDraft').isChecked()).toBe(true);
    expect(await page.getByTestId('missing-tools').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('a failed chat turn shows as failed with Retry; retried, it is answered and the failed one goes away', async () => {
    const agent = await apiClient(runtime).agents.create.mutate({ name: 'Chatty' });
    const { context, page } = await newPage(browser);
    await signIn(page, runtime, `/agents/${agent.id}`);
    await page.getByTestId('chat-empty').waitFor();
    model.failNext({ status: 500 });
    await page.getByTestId('chat-input').fill('What is new?');
    await page.getByTestId('chat-send').click();
    await page.getByTestId('message-failed').waitFor();
    expect(await page.getByTestId('message-user').count()).toBe(1);
    expect(await page.getByTestId('message-assistant').count()).toBe(0);
    await screenshot(page, 'agents-chat-failed-turn');
    await page.getByTestId('message-retry').click();
    await page.getByTestId('message-assistant').waitFor();
    expect(await page.getByTestId('message-failed').count()).toBe(0);
    expect(await page.getByTestId('message-user').allTextContents()).toEqual([expect.stringContaining('What is new?')]);
    expect(await page.getByTestId('message-assistant').first().textContent()).toContain('OBEYING REPLY');
    await context.close();
  });
});
