import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { apiClient, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/** Screenshots also land here, to be looked at. */
const SHOTS = '/tmp/shots-plans-chat';
async function shot(page: Page, name: string) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  await screenshot(page, `plans-chat-${name}`);
}

const RESEARCH_TOOLS = ['getContact', 'searchWeb', 'enrichContact', 'searchEmails', 'memory'] as const;

/**
 * A web-search endpoint that answers after 2 s, so a research step stays running long enough for
 * the canvas to show two of them running at once (a state the test waits for, not a timing).
 */
async function startSlowSearch(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ results: [{ title: 'A talk at a conference', url: 'https://example.test/talk', snippet: 'Keynote speaker' }] }));
    }, 2000);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** Issue 11: a task typed in an agent's chat becomes a plan, reviewed and run on the main canvas with its lanes and live overlay. */
describe('plans from chat, on the canvas', () => {
  let runtime: Runtime;
  let browser: Browser;
  let search: Awaited<ReturnType<typeof startSlowSearch>>;

  beforeAll(async () => {
    search = await startSlowSearch();
    runtime = await startRuntime({
      name: 'plans-chat-runtime',
      env: { SWITCHYARD_WEB_SEARCH_URL: `http://127.0.0.1:${search.port}/search`, SWITCHYARD_OUTBOUND_ALLOW: `127.0.0.1:${search.port}` },
    });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    search?.server.closeAllConnections();
    await new Promise((r) => search?.server.close(r));
  });

  test('type a task in chat, review the plan on the canvas in lanes, reassign a step, run it, watch both research steps at once, see the results', async () => {
    const api = apiClient(runtime);
    const a = await api.agents.create.mutate({ name: 'Researcher A', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    const b = await api.agents.create.mutate({ name: 'Researcher B', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    const c = await api.agents.create.mutate({ name: 'Researcher C', skills: ['research-contact'], tools: [...RESEARCH_TOOLS] });
    const writer = await api.agents.create.mutate({ name: 'Writer', skills: ['draft-email'], tools: ['getContact', 'createDraft'] });

    const { page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('nav-agents').click();
    await page.locator(`[data-testid="agent-row"][data-agent-id="${a.id}"]`).getByTestId('open-agent').click();
    await page.getByTestId('chat').waitFor();

    // 1. The task, typed in the researcher's chat: it needs research and a draft, so the agent proposes a plan.
    await page.getByTestId('chat-input').fill('Research Ada Lovelace and Grace Hopper, then draft an email to Ada Lovelace');
    await page.getByTestId('chat-send').click();
    const card = page.getByTestId('chat-plan');
    await card.waitFor();
    expect(await page.getByTestId('message-assistant').last().locator('.msg__bubble').textContent()).toContain('I made a plan');
    expect(await card.getByTestId('chat-plan-step').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).toEqual(['research', 'research2', 'email']);
    expect(await card.textContent()).toContain('at the same time');
    await card.scrollIntoViewIfNeeded();
    await shot(page, '1-chat-proposal');

    // 2. Open on canvas: the plan in lanes, one per agent; the palette offers only plan steps.
    await card.getByTestId('chat-plan-open').click();
    await page.waitForURL(/\/flows\/plan-/).catch(async (e: unknown) => {
      await shot(page, 'debug-open');
      throw e;
    });
    await page.locator('.react-flow__node').first().waitFor();
    expect(await page.locator('.react-flow__node').count()).toBe(3);
    const lanes = page.getByTestId('canvas-lane');
    await lanes.first().waitFor();
    const laneAgents = async () => lanes.evaluateAll((els) => els.map((e) => e.getAttribute('data-agent-id')));
    expect(await laneAgents()).toEqual([a.id, b.id, writer.id]);
    expect(await lanes.locator('.plan-lane-band__label').allTextContents()).toEqual(['Researcher A', 'Researcher B', 'Writer']);
    expect(await page.getByTestId('palette').locator('[data-testid^="palette-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')))).toEqual(['palette-plan.step']);
    expect(await page.getByTestId('problem').count()).toBe(0);
    await shot(page, '2-canvas-lanes');

    // 3. Reassign the second research to Researcher C: its lane becomes C's.
    await page.locator('[data-testid="canvas-node"][data-node-id="research2"]').click();
    // A plan step is read by later steps through its result name, not as a node id.
    expect(await page.getByTestId('step-result-hint').textContent()).toBe('Later steps read its result as steps.research2.output.');
    await page.getByTestId('plan-step-inspector').getByTestId('field-agent').selectOption(c.id);
    await page.locator(`[data-testid="canvas-lane"][data-agent-id="${c.id}"]`).waitFor();
    expect(await laneAgents()).toEqual([a.id, c.id, writer.id]);
    await shot(page, '3-reassigned');
    await page.getByTestId('save').click();
    await page.getByTestId('save-state').filter({ hasText: 'Saved · v2' }).waitFor();

    // 4. Run the plan from the canvas: the live overlay paints the steps; both research steps run at once.
    await page.getByTestId('run-plan').click();
    const panel = page.getByTestId('plan-run-panel');
    await panel.waitFor();
    // Both research steps running at once (each waits 2 s on the slow search), the email waiting for them.
    await page.locator('[data-testid="canvas"]:has([data-node-id="research"][data-run-state="running"]):has([data-node-id="research2"][data-run-state="running"])').waitFor();
    expect(await page.locator('[data-testid="canvas-node"][data-node-id="email"]').getAttribute('data-run-state')).toBe('pending');
    expect(await page.getByTestId('plan-run-running').textContent()).toContain('research, research2 (at the same time)');
    await shot(page, '4-live-both-running');
    await page.locator('[data-testid="plan-run-panel"][data-status="success"]').waitFor({ timeout: 30_000 });
    // The journal says which steps ran at the same time: the two research steps overlapped.
    expect(await page.getByTestId('plan-run-overlaps').textContent()).toContain('research + research2');
    expect(await page.getByTestId('canvas-node').evaluateAll((els) => els.map((e) => [e.getAttribute('data-node-id'), e.getAttribute('data-run-state')])))
      .toEqual(expect.arrayContaining([['research', 'succeeded'], ['research2', 'succeeded'], ['email', 'succeeded']]));
    expect(await page.getByTestId('node-run-badge').allTextContents()).toEqual(['Done', 'Done', 'Done']);

    // 5. The results: each step's output, the summary, who ran what.
    const steps = await panel.getByTestId('plan-run-panel-step').evaluateAll((els) => els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-status'), e.textContent]));
    expect(steps.map(([name, status]) => [name, status])).toEqual([['research', 'done'], ['research2', 'done'], ['email', 'done']]);
    expect(steps.find(([name]) => name === 'research2')![2]).toContain('Researcher C');
    expect(steps.find(([name]) => name === 'email')![2]).toContain('Draft “');
    expect(await page.getByTestId('plan-run-summary').textContent()).toContain('finished');
    await shot(page, '5-run-results');

    // The full run page is one click away.
    await page.getByTestId('plan-run-open-page').click();
    await page.locator('[data-testid="plan-run-page"][data-status="success"]').waitFor();
    expect(await page.getByTestId('timeline-note').textContent()).toContain('Ran at the same time: research + research2');

    // Back in the chat (a fresh load): the card is still under its answer, and opening it again shows
    // the plan as edited (research2 stays Researcher C's), not the proposal saved over it.
    await page.goto(`${runtime.baseUrl}/agents/${a.id}`);
    await page.getByTestId('chat-plan').waitFor();
    await page.getByTestId('chat-plan-open').click();
    await page.waitForURL(/\/flows\/plan-/);
    await page.locator(`[data-testid="canvas-lane"][data-agent-id="${c.id}"]`).waitFor();
    expect(await page.getByTestId('save-state').textContent()).toBe('Saved · v2');
    // An emptied plan canvas says how a plan starts (not "drag a trigger").
    await page.locator('.react-flow__pane').click();
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
    expect(await page.getByTestId('canvas-empty').textContent()).toContain('Drag a plan step from the palette to start');
    await shot(page, '6-empty-plan');
    expect(errors).toEqual([]);
  });
});
