import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowDocumentSchema, type FlowDocument } from '@switchyard/schema';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiClient, launchBrowser, newPage, repoRoot, screenshot, startRuntime, type Runtime } from './support';

/** Every flow document of the built-in gallery, as the templates ship them. */
function templateDocuments(): FlowDocument[] {
  const dir = join(repoRoot, 'templates');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .flatMap((file) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { documents: unknown[] }).documents)
    .map((document) => FlowDocumentSchema.parse(document));
}

describe('the flow list', () => {
  let runtime: Runtime;
  let browser: Browser;
  const documents = templateDocuments();

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'flows-runtime' });
    const api = apiClient(runtime);
    for (const document of documents) await api.flows.import.mutate({ document });
    await api.flows.deploy.mutate({ docId: documents[0]!.id });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('shows every flow with its status, and filters by kind and name', async () => {
    expect(documents.length).toBeGreaterThan(0);
    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('flow-list').waitFor();

    const rows = page.getByTestId('flow-row');
    expect(await rows.count()).toBe(documents.length);
    for (const document of documents) {
      expect(await rows.filter({ hasText: document.name }).count()).toBe(1);
    }
    const deployed = rows.filter({ hasText: documents[0]!.name });
    expect(await deployed.locator('.badge').textContent()).toBe('Deployed');
    expect(await page.locator('.badge', { hasText: 'Draft' }).count()).toBe(documents.length - 1);
    await screenshot(page, 'flows-list');

    // Searching narrows the table to the matching flow.
    const needle = documents[0]!.name.toLowerCase();
    await page.getByLabel('Search flows').fill(documents[0]!.name.toUpperCase());
    expect(await rows.count()).toBe(
      documents.filter((d) => d.name.toLowerCase().includes(needle) || d.description.toLowerCase().includes(needle)).length,
    );
    await page.getByLabel('Search flows').fill('no flow is called this');
    await page.getByTestId('no-matches').waitFor();
    await page.getByLabel('Search flows').fill('');

    // Each kind filter shows exactly the flows of that kind.
    for (const [label, kind] of [
      ['Workflows', 'workflow'],
      ['Behaviors', 'behavior'],
      ['Plans', 'plan'],
    ] as const) {
      await page.getByRole('button', { name: new RegExp(`^${label}`) }).click();
      expect(await rows.count()).toBe(documents.filter((d) => d.kind === kind).length);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
