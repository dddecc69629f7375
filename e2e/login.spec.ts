import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

const FLOWS_OR_EMPTY = '[data-testid="flow-list"], [data-testid="empty-state"]';

describe('signing in', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'login-runtime' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('without a token the login form is shown', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/`);
    await page.getByTestId('login-form').waitFor();
    expect(await page.getByTestId('token-input').isVisible()).toBe(true);
    expect(await page.getByTestId('login-form').textContent()).toContain('npm start');
    await screenshot(page, 'login');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the printed login link signs in and the token leaves the address bar', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    await page.locator(FLOWS_OR_EMPTY).first().waitFor();

    const url = new URL(page.url());
    expect(url.searchParams.has('token')).toBe(false);
    expect(page.url()).not.toContain(runtime.token);
    expect(await page.getByText('Switchyard', { exact: true }).first().isVisible()).toBe(true);
    await screenshot(page, 'flows');

    // The token is kept for the tab: a reload stays signed in.
    await page.reload();
    await page.locator(FLOWS_OR_EMPTY).first().waitFor();

    // Signing out forgets it.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('login-form').waitFor();
    await page.reload();
    await page.getByTestId('login-form').waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  test('a wrong token in the link is refused with a clear error', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=not-the-token`);
    await page.getByTestId('login-error').waitFor();
    expect(await page.getByTestId('login-error').textContent()).toMatch(/not accepted/i);
    expect(page.url()).not.toContain('not-the-token');
    await screenshot(page, 'login-rejected');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('typing a wrong token shows an error, the right one signs in', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/`);
    await page.getByTestId('token-input').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('login-error').waitFor();
    expect(await page.getByTestId('login-error').textContent()).toMatch(/not accepted/i);

    // Pasting the whole printed link works as well as the bare token.
    await page.getByTestId('token-input').fill(runtime.loginUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(FLOWS_OR_EMPTY).first().waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
