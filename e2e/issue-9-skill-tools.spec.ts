import type { FlowDocument } from '@switchyard/schema';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeById, select, signIn } from './canvas';
import { apiClient, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/*
 * Issue 9, "Skills and tools": a `Run agent skill` step whose agent may not use the tools of its
 * skill passed the canvas with "0 problems" and failed at run time. The runtime knows the agents,
 * so the canvas asks it (`flows.validate`) and shows its answer on the node and in the problems
 * list, like the compiler's own. Also the agent lists that page now: "Show more" on the agents
 * list and in an agent's memory.
 */

const flowWith = (id: string, agentId: string | null): FlowDocument => ({
  schemaVersion: 1,
  id,
  kind: 'workflow',
  name: id,
  description: '',
  version: 0,
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
    agentId
      ? { id: 'draft', type: 'agent.runSkill', typeVersion: 1, position: { x: 320, y: 0 }, params: { agentId, skill: 'draft-email', params: { to: 'ada@example.test' } } }
      : { id: 'draft', type: 'action.createTask', typeVersion: 1, position: { x: 320, y: 0 }, params: { title: 'Write to Ada' } },
  ],
  edges: [{ id: 'e1', source: 'start', sourceHandle: 'out', target: 'draft', targetHandle: 'in' }],
  settings: {},
}) as FlowDocument;

/** Counts the editor's `flows.validate` calls from now on. */
function countValidations(page: Page): () => number {
  let n = 0;
  page.on('request', (r) => {
    if (r.url().includes('flows.validate')) n++;
  });
  return () => n;
}

const nodeProblem = (page: Page, id: string) => nodeById(page, id).getByTestId('node-problem');

describe('issue 9: a Run agent skill step whose agent lacks the skill\'s tools is a problem on the canvas', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'issue-9-skill-tools-runtime' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('the node at fault is marked and listed; choosing a capable agent clears it; granting the tool elsewhere clears it on focus', async () => {
    const api = apiClient(runtime);
    const sam = await api.agents.create.mutate({ name: 'Sam', skills: ['draft-email'], tools: ['createDraft'] });
    const full = await api.agents.create.mutate({ name: 'Full', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });
    await api.flows.save.mutate({ document: flowWith('sam-drafts', sam.id) });

    const { context, page, errors } = await newPage(browser);
    const validations = countValidations(page);
    await signIn(page, runtime, '/flows/sam-drafts');
    await page.getByTestId('editor').waitFor();

    // On the node, in words, and in the problems list pointing at it; deploying is refused up front.
    const problem = nodeProblem(page, 'draft');
    await problem.waitFor();
    expect(await problem.textContent()).toBe('Agent "Sam" may not use getContact, which Draft Email needs: allow it on the agent\'s page');
    const listed = page.locator('[data-testid="problem"][data-node-id="draft"]');
    expect(await listed.textContent()).toContain('may not use getContact');
    expect(await page.getByTestId('problem-count').textContent()).toBe('1');
    expect(await nodeById(page, 'draft').getAttribute('class')).toContain('fnode--invalid');
    expect(await page.getByTestId('deploy').isDisabled()).toBe(true);
    expect(await page.getByTestId('deploy').getAttribute('title')).toBe('Fix 1 problem before deploying');
    await screenshot(page, 'issue-9-skill-tools-node');

    // The inspector says the same, with the fix.
    await select(page, 'draft');
    await page.getByTestId('run-skill-missing-tools').waitFor();

    // Another agent, which may use both tools: the old answer is dropped at once, the new one is clean.
    await page.getByTestId('field-agentId').selectOption(full.id);
    await page.waitForFunction(() => document.querySelectorAll('[data-node-id="draft"] [data-testid="node-problem"]').length === 0);
    await page.waitForFunction(() => document.querySelector('[data-testid="problem-count"]')?.textContent === '0' && !document.querySelector('.problems__checking'));
    expect(await page.getByTestId('deploy').isDisabled()).toBe(false);

    // Back to Sam: the problem returns. Then Sam is granted getContact in another tab (here: the API);
    // coming back to the editor window checks again.
    await page.getByTestId('field-agentId').selectOption(sam.id);
    await problem.waitFor();
    await api.agents.update.mutate({ id: sam.id, tools: ['getContact', 'createDraft'] });
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await page.waitForFunction(() => document.querySelectorAll('[data-node-id="draft"] [data-testid="node-problem"]').length === 0);
    expect(await page.getByTestId('problem-count').textContent()).toBe('0');

    // Debounced: a handful of checks for all of the above, not one per render.
    expect(validations()).toBeGreaterThanOrEqual(3);
    expect(validations()).toBeLessThanOrEqual(8);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('a flow without agent steps never asks the runtime', async () => {
    await apiClient(runtime).flows.save.mutate({ document: flowWith('plain-task', null) });
    const { context, page, errors } = await newPage(browser);
    const validations = countValidations(page);
    await signIn(page, runtime, '/flows/plain-task');
    await page.getByTestId('editor').waitFor();
    await select(page, 'draft');
    await page.getByTestId('field-title').fill('Write to Ada today');
    await page.waitForTimeout(800);
    expect(validations()).toBe(0);
    expect(await page.getByTestId('problem-count').textContent()).toBe('0');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the memory tab\'s empty state is in words, without backticks or an API name', async () => {
    const blank = await apiClient(runtime).agents.create.mutate({ name: 'Blank' });
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime, `/agents/${blank.id}`);
    await page.getByTestId('tab-memory').click();
    const empty = page.getByTestId('memory-empty');
    await empty.waitFor();
    const text = (await empty.textContent()) ?? '';
    expect(text).toMatch(/^Nothing remembered yet\./);
    expect(text).not.toMatch(/`|agents\.|remember\(|memory\.|\{/);
    expect(await page.getByTestId('memory-more').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the agents list and an agent\'s memory show more with the next page', async () => {
    const api = apiClient(runtime);
    const before = (await api.agents.list.query({ limit: 200 })).items.length;
    for (let i = before; i < 52; i++) await api.agents.create.mutate({ name: `Helper ${String(i).padStart(2, '0')}` });
    const first = (await api.agents.list.query({ limit: 1 })).items[0]!;
    await Promise.all(Array.from({ length: 205 }, (_, i) => api.agents.remember.mutate({ id: first.id, key: `fact:${String(i).padStart(3, '0')}`, value: i })));

    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime, '/agents');
    await page.getByTestId('agent-list').waitFor();
    expect(await page.getByTestId('agent-row').count()).toBe(50);
    await page.getByTestId('agents-more').scrollIntoViewIfNeeded();
    await screenshot(page, 'issue-9-agents-more');
    await page.getByTestId('agents-more').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="agent-row"]').length === 52);
    await page.getByTestId('agents-more').waitFor({ state: 'detached' });

    await page.goto(`${runtime.baseUrl}/agents/${first.id}`);
    await page.getByTestId('tab-memory').click();
    await page.getByTestId('memory-entries').waitFor();
    expect(await page.getByTestId('memory-entry').count()).toBe(200);
    await page.getByTestId('memory-more').scrollIntoViewIfNeeded();
    await screenshot(page, 'issue-9-memory-more');
    await page.getByTestId('memory-more').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="memory-entry"]').length === 205);
    expect(await page.getByTestId('memory-entry').last().locator('td').first().textContent()).toBe('fact:204');
    expect(await page.getByTestId('memory-more').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});
