import type { FlowDocument } from '@switchyard/schema';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createWorkflow, nodeById, select, signIn } from './canvas';
import { apiClient, confirmDialog, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/*
 * Issue 9, "Editor and first run": every defect a new user met building the auto-respond flow,
 * each checked the way they met it, in Chromium against a real runtime.
 */

type Box = { x: number; y: number; width: number; height: number };
const intersects = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function boxOf(locator: Locator): Promise<Box> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('element is not visible');
  return box;
}

/** Whether an element's text is cut off (ellipsis or clipped) rather than shown whole. */
const isCut = (locator: Locator) => locator.evaluate((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);

const GATED: FlowDocument = {
  schemaVersion: 1,
  id: 'known-senders',
  kind: 'workflow',
  name: 'Task for emails from known senders',
  description: '',
  version: 0,
  nodes: [
    { id: 'email', type: 'trigger.emailReceived', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
    { id: 'known', type: 'condition.contactExists', typeVersion: 1, position: { x: 300, y: 0 }, params: {} },
    { id: 'task', type: 'action.createTask', typeVersion: 1, position: { x: 600, y: 0 }, params: { title: 'Answer {{ trigger.from }}' } },
  ],
  edges: [
    { id: 'e1', source: 'email', sourceHandle: 'out', target: 'known', targetHandle: 'in' },
    { id: 'e2', source: 'known', sourceHandle: 'out', target: 'task', targetHandle: 'in' },
  ],
  settings: {},
};

async function runToEnd(page: Page): Promise<string> {
  await page.getByTestId('run-submit').click();
  await page.waitForFunction(() => ['completed', 'skipped', 'failed', 'cancelled'].includes(document.querySelector('[data-testid="run-panel"]')?.getAttribute('data-run-status') ?? ''));
  return (await page.getByTestId('run-panel').getAttribute('data-run-status')) ?? '';
}

describe('issue 9: editor and first run', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'issue-9-editor-runtime' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('the empty flow list offers the templates that exist, and one click starts from one', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    const empty = page.getByTestId('empty-state');
    await empty.waitFor();
    expect(await empty.textContent()).not.toMatch(/install a template/i);
    const templates = page.getByTestId('template');
    // The bundled templates (their number grows with templates/), each with a one-click start.
    expect(await templates.count()).toBeGreaterThanOrEqual(3);
    expect(await templates.getByTestId('use-template').count()).toBe(await templates.count());
    expect(await templates.locator('.templates__name').allTextContents()).toContain('Welcome new contacts (with approval)');
    // And the gallery, now that it exists.
    expect(await page.getByTestId('browse-templates').getAttribute('href')).toBe('/marketplace');
    await screenshot(page, 'issue-9-flows-empty');

    await templates.filter({ hasText: 'Welcome new contacts (with approval)' }).getByTestId('use-template').click();
    await page.getByTestId('editor').waitFor();
    await page.getByTestId('canvas-node').first().waitFor();
    expect(await page.getByTestId('flow-name').textContent()).toMatch(/^Welcome new contacts/);
    const docId = new URL(page.url()).pathname.split('/').pop()!;
    const { document } = await apiClient(runtime).flows.get.query({ docId });
    expect(document.nodes.length).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('a run stopped by a condition says "Stopped here" with the reason; the run dialog picks a known contact by default', async () => {
    const api = apiClient(runtime);
    await api.crm.contacts.create.mutate({ name: 'Alex Doe', email: 'alex@example.com' });
    await api.flows.save.mutate({ document: GATED });
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime, `/flows/${GATED.id}`);
    await page.getByTestId('canvas-node').first().waitFor();

    // A first run from the dialog's defaults goes through: the sender is a known contact.
    await page.getByTestId('run').click();
    const picker = page.getByTestId('run-contact');
    // The runtime seeds demo contacts into an empty studio; Alex was added above. The first is the default.
    await picker.locator('option[value="alex@example.com"]').waitFor({ state: 'attached' });
    const options = await picker.locator('option').allTextContents();
    expect(options).toContain('Alex Doe <alex@example.com>');
    expect(options.at(-1)).toBe('Someone else (type the address below)');
    const contacts = (await api.crm.contacts.list.query({ limit: 50 })).items;
    expect(await picker.inputValue()).toBe(contacts[0]?.email);
    expect(await page.getByTestId('run-from').inputValue()).toBe(contacts[0]?.email);
    expect(await page.getByTestId('run-contact-hint').textContent()).toMatch(/known contact/);
    await screenshot(page, 'issue-9-run-dialog-contacts');
    expect(await runToEnd(page)).toBe('completed');
    expect(await nodeById(page, 'known').getAttribute('data-run-badge')).toBe('succeeded');
    expect(await nodeById(page, 'known').getByTestId('node-run-badge').textContent()).toBe('Done');
    expect(await nodeById(page, 'task').getAttribute('data-run-badge')).toBe('succeeded');

    // Someone else: the condition stops the run there, which the node itself says, with why.
    await page.getByTestId('run').click();
    await picker.selectOption({ label: 'Someone else (type the address below)' });
    expect(await page.getByTestId('run-from').inputValue()).toBe('');
    await page.getByTestId('run-from').fill('stranger@example.com');
    expect(await page.getByTestId('run-contact-hint').textContent()).toMatch(/Not a known contact/);
    expect(await runToEnd(page)).toBe('skipped');
    const known = nodeById(page, 'known');
    expect(await known.getAttribute('data-run-badge')).toBe('stopped');
    expect(await known.getByTestId('node-run-badge').textContent()).toBe('Stopped here');
    expect(await known.getByTestId('node-stop-reason').textContent()).toBe('Sender stranger@example.com is not a known contact');
    expect(await isCut(known.getByTestId('node-stop-reason'))).toBe(false);

    // The step it never reached is Skipped, in a badge as legible as the others.
    const skipped = nodeById(page, 'task').getByTestId('node-run-badge');
    expect(await skipped.textContent()).toBe('Skipped');
    const look = await skipped.evaluate((el) => {
      let opacity = 1;
      for (let e: Element | null = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
      return { opacity, color: getComputedStyle(el).color, background: getComputedStyle(el).backgroundColor };
    });
    expect(look.opacity).toBe(1);
    expect(look.color).toBe('rgb(255, 255, 255)');
    expect(look.background).not.toMatch(/rgba?\(2[0-9]{2}, 2[0-9]{2}, 2[0-9]{2}/);
    await screenshot(page, 'issue-9-run-stopped');

    await select(page, 'known');
    expect(await page.getByTestId('node-run-details').locator('h3').textContent()).toBe('In this run: Stopped here');

    // The deploy toast leaves the badges and the canvas's nodes visible.
    await page.locator('[data-testid="deploy"]:not([disabled])').click();
    await page.getByTestId('deployed-badge').waitFor();
    const toast = await boxOf(page.getByTestId('status'));
    for (const badge of [page.getByTestId('deployed-badge'), page.getByTestId('save-state'), ...(await page.getByTestId('node-run-badge').all()), ...(await page.getByTestId('canvas-node').all())]) {
      expect(intersects(toast, await boxOf(badge))).toBe(false);
    }
    await screenshot(page, 'issue-9-deploy-toast');
    // A confirmation leaves by itself, and a new run clears it at once.
    await page.getByTestId('status').waitFor({ state: 'detached', timeout: 15_000 });
    await nodeById(page, 'known').locator('.fnode__header').click();
    await page.keyboard.press('Control+c');
    await page.getByTestId('status').filter({ hasText: 'Copied 1 node' }).waitFor();
    // While the contacts load, the sender is unknown: Send waits for them instead of refusing the
    // run for want of a sender (and leaving the last message up).
    let releaseContacts = (): void => undefined;
    const contactsHeld = new Promise<void>((resolve) => (releaseContacts = resolve));
    await page.route(/crm\.contacts\.list/, async (route) => {
      await contactsHeld;
      await route.continue();
    });
    await page.getByTestId('run').click();
    expect(await page.getByTestId('run-contact-hint').textContent()).toBe('Loading your contacts…');
    expect(await page.getByTestId('run-submit').isDisabled()).toBe(true);
    expect(await picker.locator('option').allTextContents()).toEqual(['Loading…']);
    await screenshot(page, 'issue-9-run-dialog-loading');
    releaseContacts();
    await page.getByTestId('run-submit').click();
    expect(await page.getByTestId('status').count()).toBe(0);
    expect(await page.getByTestId('run-dialog').count()).toBe(0);
    await page.unroute(/crm\.contacts\.list/);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('palette clicks add nodes at free spots, Ctrl+A selects the nodes, problems neither grow cards nor lag behind typing', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    await page.getByTestId('flow-list').waitFor();
    await createWorkflow(page, 'Clicked together');

    for (const type of ['trigger.emailReceived', 'action.createTask', 'action.createTask', 'action.sendNotification']) {
      await page.getByTestId(`palette-${type}`).click();
    }
    const nodes = page.getByTestId('canvas-node');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="canvas-node"]').length === 4);
    await screenshot(page, 'issue-9-palette-clicks');
    const boxes = await Promise.all((await nodes.all()).map(boxOf));
    const canvas = await boxOf(page.getByTestId('canvas'));
    const minimap = await boxOf(page.locator('.react-flow__minimap'));
    for (const [i, a] of boxes.entries()) {
      expect(a.x >= canvas.x && a.y >= canvas.y && a.x + a.width <= canvas.x + canvas.width && a.y + a.height <= canvas.y + canvas.height).toBe(true);
      expect(intersects(a, minimap)).toBe(false);
      for (const b of boxes.slice(i + 1)) expect(intersects(a, b)).toBe(false);
    }

    // Ctrl+A on the canvas selects every node, not the page's text.
    await page.getByTestId('canvas').click({ position: { x: 20, y: canvas.height - 120 } });
    await page.keyboard.press('Control+a');
    await page.getByTestId('multi-selection').waitFor();
    expect(await page.getByTestId('multi-selection').textContent()).toMatch(/^4 nodes selected/);
    expect(await page.evaluate(() => window.getSelection()?.toString() ?? '')).toBe('');
    // Clicking the empty canvas clears the selection again.
    await page.getByTestId('canvas').click({ position: { x: 20, y: canvas.height - 120 } });
    await page.getByTestId('multi-selection').waitFor({ state: 'detached' });

    // A problem shows on a card in a slot of fixed size: a card with problems is exactly as big as one without.
    const idsOf = (type: string) => nodes.evaluateAll((els, t) => els.filter((e) => e.getAttribute('data-node-type') === t).map((e) => e.getAttribute('data-node-id')!), type);
    const [triggerId] = await idsOf('trigger.emailReceived');
    const [taskId] = await idsOf('action.createTask');
    const task = nodeById(page, taskId!);
    await task.getByTestId('node-problem').waitFor();
    expect(await task.getByTestId('node-problem').textContent()).toBe('Title is required');
    expect(await nodeById(page, triggerId!).getByTestId('node-problem').count()).toBe(0);
    const clean = await boxOf(nodeById(page, triggerId!));
    const withProblem = await boxOf(task);
    expect(withProblem.height).toBe(clean.height);
    expect(withProblem.width).toBe(clean.width);

    // Typing the title clears its problem at once: checked right after the keystrokes, with no wait.
    const titleProblem = page.locator(`[data-testid="problem"][data-node-id="${taskId}"][data-code="invalid-params"]`);
    expect(await titleProblem.count()).toBe(1);
    await select(page, taskId!);
    await page.getByTestId('field-title').fill('Call back');
    expect(await titleProblem.count()).toBe(0);
    await page.getByTestId('field-title').fill('');
    expect(await titleProblem.count()).toBe(1);
    await page.getByTestId('field-title').fill('Call back');
    expect(await titleProblem.count()).toBe(0);
    await screenshot(page, 'issue-9-problems-fixed-size');

    // The notification's action buttons: rows with a label and an id, added and removed, no JSON.
    const [notifyId] = await idsOf('action.sendNotification');
    await select(page, notifyId!);
    await page.getByTestId('field-title').fill('New email');
    const actions = page.getByTestId('field-actions');
    expect(await actions.locator('textarea').count()).toBe(0);
    await page.getByTestId('actions-add').click();
    await page.getByTestId('actions-0-label').fill('Call back');
    expect(await page.getByTestId('actions-0-id').inputValue()).toBe('call-back');
    await page.getByTestId('actions-add').click();
    await page.getByTestId('actions-1-label').fill('Archive');
    await page.getByTestId('actions-1-id').fill('archive-it');
    await page.getByTestId('actions-1-label').fill('Archive now');
    expect(await page.getByTestId('actions-1-id').inputValue()).toBe('archive-it');
    await page.getByTestId('actions-add').click();
    expect(await actions.getByTestId('field-error').count()).toBe(2);
    expect(await nodeById(page, notifyId!).getByTestId('node-problem').textContent()).toBe('Actions #3 › Id is required');
    await screenshot(page, 'issue-9-notification-actions');
    await page.getByTestId('actions-remove').nth(2).click();
    await page.getByTestId('actions-remove').nth(0).click();
    expect(await page.getByTestId('actions-row').count()).toBe(1);
    await page.keyboard.press('Control+s');
    await page.getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    const docId = new URL(page.url()).pathname.split('/').pop()!;
    const saved = (await apiClient(runtime).flows.get.query({ docId })).document;
    expect(saved.nodes.find((n) => n.id === notifyId)?.params.actions).toEqual([{ label: 'Archive now', id: 'archive-it' }]);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('flow names show whole where there is room; imports say what is wrong and can be kept as a copy', async () => {
    const api = apiClient(runtime);
    const name = 'Auto-respond to important emails from known contacts';
    await api.flows.save.mutate({ document: { ...GATED, id: 'long-name', name } });
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    const row = page.locator('[data-testid="flow-row"][data-doc-id="long-name"]');
    await row.waitFor();
    expect(await isCut(row.getByTestId('open-flow'))).toBe(false);
    await screenshot(page, 'issue-9-flow-names');

    // A malformed file: what is wrong, in words, naming the field.
    const bad = { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...GATED, id: 'other', schemaVersion: 2 })) };
    await page.getByTestId('import-flow-file').setInputFiles(bad);
    const notice = page.getByTestId('list-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('“schemaVersion” must be 1, but the file has 2');
    expect(await notice.textContent()).not.toMatch(/Invalid input/);
    await screenshot(page, 'issue-9-import-malformed');

    // The same id again: Replace, or Import as copy, which leaves the existing flow alone.
    const file = { name: 'long-name.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...GATED, id: 'long-name', name, description: 'From a file' })) };
    await page.getByTestId('import-flow-file').setInputFiles(file);
    const dialog = await confirmDialog(page, `Replace “${name}” with the file?`);
    expect(await dialog.getByTestId('confirm-alternative').textContent()).toBe('Import as copy');
    await screenshot(page, 'issue-9-import-as-copy');
    await dialog.getByTestId('confirm-alternative').click();
    await page.getByTestId('flow-row').filter({ hasText: `Copy of ${name}` }).waitFor();
    expect((await api.flows.get.query({ docId: 'long-name' })).document.description).toBe('');
    const copy = (await api.flows.list.query({})).items.find((f) => f.name === `Copy of ${name}`);
    expect(copy?.description).toBe('From a file');

    await row.getByTestId('open-flow').click();
    const title = page.getByTestId('flow-name');
    await title.waitFor();
    expect(await title.textContent()).toBe(name);
    expect(await isCut(title)).toBe(false);
    await screenshot(page, 'issue-9-editor-long-name');

    // In the editor too, a file can go beside the open flow instead of over it.
    await page.getByTestId('import-file').setInputFiles({ ...file, buffer: Buffer.from(JSON.stringify({ ...GATED, name: 'Second opinion' })) });
    const inEditor = await confirmDialog(page, `Replace “${name}” with long-name.json?`);
    await inEditor.getByTestId('confirm-alternative').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="flow-name"]')?.textContent === 'Copy of Second opinion');
    expect(new URL(page.url()).pathname).not.toBe('/flows/long-name');
    expect((await api.flows.get.query({ docId: 'long-name' })).document.name).toBe(name);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('an unknown URL is a not-found page; the sign-in hint names this page’s own address', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime, '/nope');
    await page.getByTestId('not-found').waitFor();
    expect(await page.getByTestId('flow-list').count()).toBe(0);
    expect(await page.getByTestId('not-found').textContent()).toContain('/nope');
    await screenshot(page, 'issue-9-not-found');
    await page.getByTestId('not-found-home').click();
    await page.getByTestId('flow-list').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await context.close();

    const fresh = await newPage(browser);
    await fresh.page.goto(`${runtime.baseUrl}/`);
    await fresh.page.getByTestId('login-form').waitFor();
    const hint = (await fresh.page.locator('.field__hint').first().textContent()) ?? '';
    expect(hint).toContain(`${runtime.baseUrl}/?token=`);
    if (!runtime.baseUrl.endsWith(':4310')) expect(hint).not.toContain('4310');
    await screenshot(fresh.page, 'issue-9-sign-in-hint');
    expect([...errors, ...fresh.errors]).toEqual([]);
    await fresh.context.close();
  });

  test('read-only personality values do not look like sliders you can move', async () => {
    const created = await apiClient(runtime).agents.create.mutate({ name: 'Scheduler', description: 'Books meetings', skills: [] });
    const { context, page } = await newPage(browser);
    await signIn(page, runtime, `/agents/${created.id}`);
    const meter = page.locator('.trait__meter').first();
    await meter.waitFor();
    const thumb = await meter.locator('.trait__thumb').evaluate((el) => {
      const s = getComputedStyle(el);
      return { width: parseFloat(s.width), radius: s.borderRadius };
    });
    // A knob (round, as wide as the slider's) invites dragging; a read-only value is a thin marker.
    expect(thumb.width).toBeLessThanOrEqual(4);
    expect(thumb.radius).not.toBe('50%');
    expect(await meter.evaluate((el) => getComputedStyle(el).cursor)).not.toBe('pointer');
    await screenshot(page, 'issue-9-agent-readonly-traits');
    await context.close();
  });
});
