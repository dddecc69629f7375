import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiClient, artifactsDir, confirmDialog, hasFocus, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

describe('agents', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'agents-runtime' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('create an agent, chat with it, give feedback and see the formality slider drop, open its memory', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('nav-agents').click();
    await page.getByTestId('agents-empty').waitFor();
    await screenshot(page, 'agents-empty');

    // The form: a missing name comes back as a typed error shown next to the field.
    await page.getByTestId('new-agent').click();
    await page.getByTestId('agent-form').waitFor();
    await page.getByTestId('skills-picker').waitFor();
    await page.getByTestId('save-agent').click();
    await page.getByTestId('error-name').waitFor();

    await page.getByTestId('agent-name').fill('Sales assistant');
    await page.getByTestId('agent-description').fill('Helps with follow-ups');
    await page.getByTestId('agent-system-prompt').fill('You help the sales team follow up with contacts.');
    await page.getByTestId('skill-draft-email').check();
    await page.getByTestId('skill-draft-email').locator('xpath=ancestor::li').getByRole('button', { name: 'Details' }).click();
    await page.getByTestId('skill-details').waitFor();
    await page.getByTestId('tool-getContact').check();
    await page.getByTestId('tool-createDraft').check();
    await page.getByTestId('trait-formality').fill('0.8');
    expect(await page.getByTestId('trait-value-formality').textContent()).toBe('0.8');
    // Limits: defaults from the schema; an out-of-range value is explained at its field and blocks saving.
    expect(await page.getByTestId('cap-maxTokens').inputValue()).toBe('60000');
    await page.getByTestId('cap-maxSteps').fill('0');
    expect(await page.getByTestId('error-cap-maxSteps').textContent()).toBe('Enter a whole number from 1 to 100.');
    await page.getByTestId('cap-maxToolCalls').fill('');
    await page.getByTestId('error-cap-maxToolCalls').waitFor();
    await page.getByTestId('agent-caps-form').screenshot({ path: join(artifactsDir, 'agents-form-limits-invalid.png') });
    await page.getByTestId('save-agent').click();
    await page.getByTestId('form-error').waitFor();
    expect(await page.getByTestId('agent-row').count()).toBe(0);
    await page.getByTestId('cap-maxSteps').fill('8');
    await page.getByTestId('cap-maxToolCalls').fill('40');
    await page.getByTestId('error-cap-maxSteps').waitFor({ state: 'detached' });
    await page.getByTestId('agent-caps-form').screenshot({ path: join(artifactsDir, 'agents-form-limits.png') });
    await screenshot(page, 'agents-create-form');
    await page.getByTestId('save-agent').click();

    const row = page.getByTestId('agent-row').filter({ hasText: 'Sales assistant' });
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('1');
    expect(await row.getByTestId('agent-state').getAttribute('data-state')).toBe('idle');
    expect(await row.getByTestId('agent-active-toggle').isChecked()).toBe(true);
    await screenshot(page, 'agents-list');

    // Detail: the limits as saved, then chat and see an (offline) reply.
    await row.getByTestId('open-agent').click();
    await page.getByTestId('chat-empty').waitFor();
    expect(await page.getByTestId('agent-caps').textContent()).toContain('8');
    const saved = (await apiClient(runtime).agents.list.query()).items.find((a) => a.name === 'Sales assistant');
    expect(saved?.caps).toEqual({ maxSteps: 8, maxToolCalls: 40, maxTokens: 60_000 });
    const formality = page.getByTestId('trait-formality');
    expect(Number(await formality.getAttribute('aria-valuenow'))).toBeCloseTo(0.8, 5);
    await page.getByTestId('chat-input').fill('Hello there');
    await page.getByTestId('chat-send').click();
    const reply = page.getByTestId('message-assistant').first();
    await reply.waitFor();
    // Offline, small talk gets what the agent can do (a request naming a skill would run it).
    expect(await reply.textContent()).toContain('I can draft email');
    await reply.getByTestId('reply-offline').waitFor();
    expect(await page.getByTestId('message-user').count()).toBe(1);

    // Feedback sits behind a small button under each reply, grouped by the trait it moves.
    await reply.getByTestId('feedback-toggle').click();
    await reply.getByTestId('feedback-menu').waitFor();
    for (const label of ['Too casual', 'Too long', 'Too short']) {
      expect(await reply.getByRole('button', { name: label }).count()).toBe(1);
    }
    await screenshot(page, 'agents-chat-feedback-menu');
    // "Too formal" lowers formality by 0.1 and the slider moves; the reply shows what was said.
    await reply.getByRole('button', { name: 'Too formal' }).click();
    await page.waitForFunction(
      () => Number(document.querySelector('[data-testid="trait-formality"]')?.getAttribute('aria-valuenow')) < 0.75,
    );
    expect(Number(await formality.getAttribute('aria-valuenow'))).toBeCloseTo(0.7, 5);
    expect(await page.getByTestId('trait-value-formality').textContent()).toBe('0.7');
    expect(await reply.getByTestId('feedback-given').allTextContents()).toEqual(['✓ Too formal']);
    expect(await reply.getByTestId('feedback-menu').count()).toBe(0);
    // The same feedback is not given twice on one reply.
    await reply.getByTestId('feedback-toggle').click();
    expect(await reply.getByTestId('feedback-too-formal').isDisabled()).toBe(true);
    await page.keyboard.press('Escape');
    await screenshot(page, 'agents-chat-feedback');

    // Memory inspector: an entry with its expiry, and interactions for the chat and the feedback.
    const agentId = await page.evaluate(() => window.location.pathname.split('/').pop() ?? '');
    const api = apiClient(runtime);
    await api.agents.remember.mutate({ id: agentId, key: 'contact:ada@example.com', value: { lastTopic: 'pricing', stage: 'proposal' }, ttlSeconds: 3600 });
    await api.agents.remember.mutate({ id: agentId, key: 'preferredTone', value: 'friendly' });
    await page.getByTestId('tab-memory').click();
    await page.getByTestId('memory-inspector').waitFor();
    await page.getByTestId('memory-entry').filter({ hasText: 'contact:ada@example.com' }).waitFor();
    expect(await page.getByTestId('memory-entry').count()).toBe(2);
    expect(await page.getByTestId('memory-entry').filter({ hasText: 'preferredTone' }).textContent()).toContain('Never');
    expect(await page.getByTestId('memory-expiry').textContent()).toMatch(/^in (60 min|1 h)$/);
    await page.getByTestId('interaction').filter({ hasText: 'Feedback' }).waitFor();
    await screenshot(page, 'agents-memory');

    // Feedback is kept on the message: after a reload the chip is still under the reply.
    await page.reload();
    const again = page.getByTestId('message-assistant').first();
    await again.getByTestId('feedback-given').waitFor();
    expect(await again.getByTestId('feedback-given').allTextContents()).toEqual(['✓ Too formal']);

    expect(errors).toEqual([]);
    await context.close();
  });

  test('edits, pauses and deletes an agent from the list (delete asks first)', async () => {
    const api = apiClient(runtime);
    const created = await api.agents.create.mutate({ name: 'Scheduler', description: 'Books meetings', skills: ['check-calendar', 'propose-times'] });
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('nav-agents').click();
    const row = page.locator(`[data-testid="agent-row"][data-agent-id="${created.id}"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('2');

    // The active switch pauses it.
    await row.locator('label.switch').click();
    await expect.poll(async () => (await api.agents.get.query({ id: created.id })).active).toBe(false);
    await expect.poll(() => row.getByTestId('agent-active-toggle').isChecked()).toBe(false);

    // Edit: an emptied name is refused next to the field; a new name is saved.
    await row.getByTestId('edit-agent').click();
    expect(await page.getByTestId('agent-name').inputValue()).toBe('Scheduler');
    await page.getByTestId('agent-name').fill('  ');
    await page.getByTestId('save-agent').click();
    await page.getByTestId('error-name').waitFor();
    await page.getByTestId('agent-name').fill('Meeting scheduler');
    await page.getByTestId('save-agent').click();
    await page.getByTestId('agent-row').filter({ hasText: 'Meeting scheduler' }).waitFor();

    // Delete asks in the app's own dialog: Cancel keeps the agent, the red button removes it.
    await row.getByTestId('delete-agent').click();
    let confirm = await confirmDialog(page, 'Delete the agent “Meeting scheduler”?');
    await screenshot(page, 'confirm-delete-agent');
    await confirm.getByTestId('confirm-cancel').click();
    await confirm.waitFor({ state: 'detached' });
    expect(await hasFocus(row.getByTestId('delete-agent'))).toBe(true);
    expect(await row.count()).toBe(1);
    expect((await api.agents.get.query({ id: created.id })).name).toBe('Meeting scheduler');
    await row.getByTestId('delete-agent').click();
    confirm = await confirmDialog(page, 'Delete the agent “Meeting scheduler”?');
    expect(await confirm.getByTestId('confirm-accept').textContent()).toBe('Delete agent');
    await confirm.getByTestId('confirm-accept').click();
    await row.waitFor({ state: 'detached' });

    expect(errors).toEqual([]);
    await context.close();
  });
});
