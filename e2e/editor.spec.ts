import { readFile } from 'node:fs/promises';
import type { FlowDocument } from '@switchyard/schema';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, createWorkflow, dropNode, nodeById, select, signIn } from './canvas';
import { PINNED_CLOCK_ENV, apiClient, confirmDialog, hasFocus, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/** Clicks Export and returns the downloaded document. */
async function exportDocument(page: Page): Promise<{ doc: FlowDocument; path: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').click()]);
  const path = await download.path();
  return { doc: JSON.parse(await readFile(path, 'utf8')) as FlowDocument, path };
}

const graphOf = (doc: FlowDocument) => ({ nodes: doc.nodes, edges: doc.edges });

async function problemsFor(page: Page, nodeId: string): Promise<string[]> {
  return page.locator(`[data-testid="problem"][data-node-id="${nodeId}"]`).evaluateAll((els) => els.map((e) => e.getAttribute('data-code') ?? ''));
}

describe('the canvas editor', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'editor-runtime', env: PINNED_CLOCK_ENV });
    await apiClient(runtime).crm.contacts.create.mutate({ name: 'Alex Doe', email: 'alex@example.com' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('builds the auto-respond workflow from a blank canvas, deploys it and watches a test email run through', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    await page.getByTestId('empty-state').waitFor();
    const docId = await createWorkflow(page, 'Auto-respond to important emails');
    await screenshot(page, 'editor-1-blank');

    const trigger = await dropNode(page, 'trigger.emailReceived', 120, 120);
    const known = await dropNode(page, 'condition.contactExists', 420, 120);
    const hours = await dropNode(page, 'condition.businessHours', 120, 300);
    const draft = await dropNode(page, 'action.draftReply', 420, 300);
    const task = await dropNode(page, 'action.createTask', 120, 480);
    const notify = await dropNode(page, 'action.sendNotification', 420, 480);
    expect(await page.getByTestId('canvas-node').count()).toBe(6);
    await screenshot(page, 'editor-2-dropped');

    await connect(page, trigger, known);
    await connect(page, known, hours);
    await connect(page, hours, draft);
    await connect(page, draft, task);
    await connect(page, task, notify);
    expect(await page.locator('.react-flow__edge').count()).toBe(5);

    await select(page, trigger);
    await page.getByTestId('field-isImportant').check();
    await page.getByTestId('field-isUnread').check();
    await select(page, task);
    // The inspector shows the zod problem inline until the title is filled in.
    await page.getByTestId('field-error').first().waitFor();
    await page.getByTestId('field-title').fill('Review auto-drafted response');
    await page.getByTestId('field-dueIn').fill('1 hour');
    await page.getByTestId('field-priority').selectOption('high');
    await select(page, notify);
    await page.getByTestId('field-title').fill('Important email received');
    await page.getByTestId('field-body').fill('Draft response ready for review');

    await page.getByTestId('auto-layout').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="problem-count"]')?.textContent === '0');
    await screenshot(page, 'editor-3-connected');

    await page.keyboard.press('Control+s');
    await page.getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    // Enabled once the debounced compile of the last edit has found no problems.
    await page.locator('[data-testid="deploy"]:not([disabled])').click();
    await page.getByTestId('deployed-badge').waitFor();

    await page.getByTestId('run').click();
    await page.getByTestId('run-dialog').waitFor();
    await page.getByTestId('run-from').fill('alex@example.com');
    await page.getByTestId('run-subject').fill('Contract renewal');
    await screenshot(page, 'editor-4-run-dialog');
    await page.getByTestId('run-submit').click();
    await page.locator('[data-testid="run-panel"][data-run-status="completed"]').waitFor({ timeout: 30_000 });
    for (const id of [trigger, known, hours, draft, task, notify]) {
      expect(await nodeById(page, id).getAttribute('data-run-state')).toBe('succeeded');
    }
    await select(page, draft);
    await page.getByTestId('node-run-output').waitFor();
    await page.getByTestId('node-run-input').waitFor({ state: 'attached' });
    await screenshot(page, 'editor-5-run-complete');

    const api = apiClient(runtime);
    const drafts = await api.crm.drafts.list.query({});
    const tasks = await api.crm.tasks.list.query({});
    const notifications = await api.crm.notifications.list.query({});
    expect(JSON.stringify(drafts)).toContain('Re: Contract renewal');
    expect(JSON.stringify(tasks)).toContain('Review auto-drafted response');
    expect(JSON.stringify(notifications)).toContain('Important email received');
    const saved = await api.flows.get.query({ docId });
    expect(saved.flow.status).toBe('deployed');
    expect(saved.diagnostics).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('shows diagnostics on the nodes at fault, keeps Deploy disabled and refuses an incompatible connection', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    await createWorkflow(page, 'Broken flow');
    const deploy = page.getByTestId('deploy');

    // An action alone: nothing can start the flow, and the task has no title.
    const task = await dropNode(page, 'action.createTask', 300, 300);
    await page.locator(`[data-testid="problem"][data-node-id="${task}"][data-code="invalid-params"]`).waitFor();
    expect(await page.locator('[data-testid="problem"][data-code="missing-trigger"]').count()).toBe(1);
    expect(await deploy.isDisabled()).toBe(true);

    // A schedule with a bad cron string; the task stays dangling (not connected to the trigger).
    const schedule = await dropNode(page, 'trigger.schedule', 120, 100);
    await select(page, schedule);
    await page.getByTestId('field-cron').fill('61 * * * *');
    await page.locator(`[data-testid="problem"][data-node-id="${schedule}"][data-code="invalid-cron"]`).waitFor();
    await page.locator(`[data-testid="problem"][data-node-id="${task}"][data-code="unreachable-node"]`).waitFor();
    expect(await page.locator('[data-testid="problem"][data-code="missing-trigger"]').count()).toBe(0);
    expect(await nodeById(page, schedule).getByTestId('node-error-badge').textContent()).toBe('1');
    expect(await nodeById(page, task).getByTestId('node-problem').isVisible()).toBe(true);
    expect(await deploy.isDisabled()).toBe(true);
    await screenshot(page, 'editor-6-diagnostics');

    // Clicking a problem selects its node in the inspector.
    await page.locator(`[data-testid="problem"][data-node-id="${task}"]`).first().click();
    await page.locator(`[data-testid="node-inspector"][data-node-id="${task}"]`).waitFor();

    // A contact is not an email: contact.created -> Draft reply is refused, and says why.
    const contact = await dropNode(page, 'trigger.contactCreated', 120, 480);
    const draft = await dropNode(page, 'action.draftReply', 480, 480);
    const edges = await page.locator('.react-flow__edge').count();
    await connect(page, contact, draft);
    await page.getByTestId('status').filter({ hasText: 'needs an email' }).waitFor();
    expect(await page.locator('.react-flow__edge').count()).toBe(edges);
    await screenshot(page, 'editor-7-refused-connection');

    // Fixing the cron and connecting the task clears those problems; the title is still missing.
    await select(page, schedule);
    await page.getByTestId('field-cron').fill('0 9 * * 1-5');
    await connect(page, schedule, task);
    await page.waitForFunction(
      (id) => !document.querySelector(`[data-testid="problem"][data-node-id="${id}"][data-code="unreachable-node"]`),
      task,
    );
    expect(await problemsFor(page, schedule)).toEqual([]);
    expect(await deploy.isDisabled()).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('undo/redo restore the exact graph; export then import round-trips; a version restore and a reload keep what was saved', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    await page.getByTestId('flow-list').waitFor();
    const docId = await createWorkflow(page, 'History flow');
    const start = await dropNode(page, 'trigger.manual', 120, 200);
    const task = await dropNode(page, 'action.createTask', 460, 200);
    await connect(page, start, task);
    await select(page, task);
    await page.getByTestId('field-title').fill('Call back');
    await page.keyboard.press('Control+s');
    await page.getByTestId('save-state').filter({ hasText: 'Saved' }).waitFor();
    const v1 = await exportDocument(page); // saved as v2
    expect(v1.doc.nodes).toHaveLength(2);

    // Two steps: add a node, then delete the task (and with it the edge).
    await dropNode(page, 'flow.delay', 300, 420);
    await select(page, task);
    await page.keyboard.press('Delete');
    await page.waitForFunction((id) => !document.querySelector(`[data-testid="canvas-node"][data-node-id="${id}"]`), task);
    const changed = await exportDocument(page);
    expect(changed.doc.edges).toHaveLength(0);

    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    expect(graphOf((await exportDocument(page)).doc)).toEqual(graphOf(v1.doc));
    await page.keyboard.press('Control+Shift+z');
    await page.keyboard.press('Control+Shift+z');
    expect(graphOf((await exportDocument(page)).doc)).toEqual(graphOf(changed.doc));

    // Typing in an inspector field is one undo step for the whole word, not one per letter; the
    // next visit of the field is a step of its own.
    await select(page, start);
    const label = page.getByTestId('field-label');
    await label.pressSequentially('Follow up');
    await nodeById(page, start).filter({ hasText: 'Follow up' }).waitFor();
    await page.getByTestId('undo').click();
    expect(await label.inputValue()).toBe('');
    expect(await nodeById(page, start).textContent()).not.toContain('Follow');
    // The problems list catches up a moment after the last edit; the picture waits for it.
    await page.locator('.problems__checking').waitFor({ state: 'detached' });
    await screenshot(page, 'editor-after-undo');
    await page.getByTestId('redo').click();
    expect(await label.inputValue()).toBe('Follow up');
    await label.click();
    await label.press('End');
    await label.pressSequentially(' today');
    await page.getByTestId('undo').click();
    expect(await label.inputValue()).toBe('Follow up');
    await page.getByTestId('undo').click();
    expect(await label.inputValue()).toBe('');
    expect(graphOf((await exportDocument(page)).doc)).toEqual(graphOf(changed.doc));

    // Leaving with unsaved changes asks first, in the app's own dialog. Its safe answer has the
    // focus, so Enter stays, as does Escape; the focus goes back to the link.
    const back = page.getByTestId('back-to-flows');
    await back.click();
    let leave = await confirmDialog(page, 'Leave without saving?');
    await page.keyboard.press('Enter');
    await leave.waitFor({ state: 'detached' });
    expect(new URL(page.url()).pathname).toBe(`/flows/${docId}`);
    expect(await hasFocus(back)).toBe(true);
    // Opened from the keyboard this time (Enter on the focused link): the focus ring shows.
    await page.keyboard.press('Enter');
    leave = await confirmDialog(page, 'Leave without saving?');
    await page.locator('.problems__checking').waitFor({ state: 'detached' });
    await screenshot(page, 'confirm-unsaved-changes');
    await page.keyboard.press('Escape');
    await leave.waitFor({ state: 'detached' });
    expect(new URL(page.url()).pathname).toBe(`/flows/${docId}`);
    expect(await page.getByTestId('save-state').textContent()).toBe('Unsaved changes');

    // Versions: v1 the empty new flow, v2 the first graph (exported). Save the changed graph as
    // v3, then import the v2 file: it comes back identical as v4.
    await page.getByTestId('save').click();
    await page.getByTestId('save-state').filter({ hasText: 'v3' }).waitFor();
    await page.getByTestId('import-file').setInputFiles(v1.path);
    // Importing over the open flow asks first: Replace, or Import as copy.
    await (await confirmDialog(page, /^Replace “.*” with .+\?$/)).getByTestId('confirm-accept').click();
    await page.getByTestId('save-state').filter({ hasText: 'v4' }).waitFor();
    const api = apiClient(runtime);
    const imported = await api.flows.export.query({ docId });
    expect(graphOf(imported.document)).toEqual(graphOf(v1.doc));
    expect({ ...imported.document, version: 0 }).toEqual({ ...v1.doc, version: 0 });
    expect(await page.getByTestId('canvas-node').count()).toBe(2);

    // Restore v3 from the history panel: saved as v5 with v3's graph. With unsaved changes on the
    // canvas it asks first; Cancel keeps them.
    await select(page, start);
    await page.getByTestId('field-label').pressSequentially('Draft');
    await page.getByTestId('open-history').click();
    const restoreV3 = page.locator('[data-testid="version-row"][data-version="3"]').getByTestId('restore-version');
    await restoreV3.click();
    const discard = await confirmDialog(page, 'Restore version 3?');
    await discard.getByTestId('confirm-cancel').click();
    await discard.waitFor({ state: 'detached' });
    expect(await page.getByTestId('field-label').inputValue()).toBe('Draft');
    expect(await page.getByTestId('save-state').textContent()).toBe('Unsaved changes');
    await restoreV3.click();
    await (await confirmDialog(page, 'Restore version 3?')).getByTestId('confirm-accept').click();
    await page.getByTestId('save-state').filter({ hasText: 'v5' }).waitFor();
    await screenshot(page, 'editor-8-history');
    const restored = await api.flows.export.query({ docId });
    expect(graphOf(restored.document)).toEqual(graphOf(changed.doc));
    expect(await page.getByTestId('canvas-node').count()).toBe(changed.doc.nodes.length);

    // A reload shows exactly what was saved.
    await page.reload();
    await page.getByTestId('editor').waitFor();
    await page.getByTestId('save-state').filter({ hasText: 'Saved · v5' }).waitFor();
    expect(graphOf((await exportDocument(page)).doc)).toEqual(graphOf(changed.doc));

    // Closing the tab with unsaved changes gets the browser's own prompt (dismissed: the page
    // stays); leaving through the app's link and agreeing goes without saving.
    const prompts: string[] = [];
    page.on('dialog', (d) => {
      prompts.push(d.type());
      void d.dismiss();
    });
    await select(page, start);
    await page.getByTestId('field-label').pressSequentially('Unsaved');
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => prompts).toEqual(['beforeunload']);
    expect(page.isClosed()).toBe(false);
    await page.getByTestId('back-to-flows').click();
    await (await confirmDialog(page, 'Leave without saving?')).getByTestId('confirm-accept').click();
    await page.getByTestId('flow-list').waitFor();
    expect((await api.flows.export.query({ docId })).document.nodes.find((n) => n.id === start)?.label).toBeUndefined();
    expect(errors).toEqual([]);
    // With nothing unsaved, closing asks nothing.
    await page.close({ runBeforeUnload: true });
    await page.waitForEvent('close');
    expect(prompts).toEqual(['beforeunload']);
    await context.close();
  });

  test('Back and Forward with unsaved changes ask in the same dialog; Stay keeps the edit, the URL and the history as they were', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    const docId = await createWorkflow(page, 'Back button flow');
    const editorPath = `/flows/${docId}`;
    const pathname = () => new URL(page.url()).pathname;
    const historyLength = () => page.evaluate(() => window.history.length);
    const dialogs = page.getByRole('alertdialog');

    // Nothing unsaved: Back and Forward just go. The history is list, editor, list.
    await page.getByTestId('back-to-flows').click();
    await page.getByTestId('flow-list').waitFor();
    await page.goBack();
    await page.getByTestId('canvas-empty').waitFor();
    expect(pathname()).toBe(editorPath);
    expect(await dialogs.count()).toBe(0);

    // An edit, then Back: the dialog asks, and Stay keeps the edit and the editor's URL, however
    // often it is asked, without adding entries (the list stays one step forward, too).
    const trigger = await dropNode(page, 'trigger.emailReceived', 200, 200);
    expect(await page.getByTestId('save-state').textContent()).toBe('Unsaved changes');
    const length = await historyLength();
    for (const move of ['back', 'back', 'forward'] as const) {
      await (move === 'back' ? page.goBack() : page.goForward());
      const leave = await confirmDialog(page, 'Leave without saving?');
      await expect.poll(pathname).toBe(editorPath);
      await screenshot(page, `confirm-unsaved-changes-${move}`);
      await leave.getByTestId('confirm-cancel').click();
      await leave.waitFor({ state: 'detached' });
      expect(pathname()).toBe(editorPath);
      expect(await page.getByTestId('save-state').textContent()).toBe('Unsaved changes');
      expect(await nodeById(page, trigger).count()).toBe(1);
      expect(await historyLength()).toBe(length);
    }

    // Back once more and Leave: the list, where Back was going; the edit is gone.
    await page.goBack();
    await (await confirmDialog(page, 'Leave without saving?')).getByTestId('confirm-accept').click();
    await page.getByTestId('flow-list').waitFor();
    expect(pathname()).toBe('/');
    expect(await historyLength()).toBe(length);
    expect((await apiClient(runtime).flows.export.query({ docId })).document.nodes).toEqual([]);
    // Forward returns to the editor, with nothing to ask about.
    await page.goForward();
    await page.getByTestId('canvas-empty').waitFor();
    expect(await dialogs.count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('branches and approvals: labelled outputs, copy/paste, compile preview, and Approve on a waiting run', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    const docId = await createWorkflow(page, 'Approval flow');
    const start = await dropNode(page, 'trigger.manual', 100, 120);
    const check = await dropNode(page, 'condition.if', 400, 120);
    const approval = await dropNode(page, 'flow.approval', 100, 360);
    const task = await dropNode(page, 'action.createTask', 420, 360);
    // If and approval nodes show their labelled outputs.
    expect(await nodeById(page, check).locator('.fnode__port-label').allTextContents()).toEqual(['True', 'False']);
    expect(await nodeById(page, approval).locator('.fnode__port-label').allTextContents()).toEqual(['Approved', 'Rejected']);

    await select(page, check);
    await page.getByTestId('field-expression').fill('len(trigger.name) > 0');
    await select(page, task);
    await page.getByTestId('field-title').fill('Approved follow-up');
    await connect(page, start, check);
    await connect(page, check, approval, 'true');
    await connect(page, approval, task, 'approved');
    await page.waitForFunction(() => document.querySelector('[data-testid="problem-count"]')?.textContent === '0');

    // Copy and paste the task: a new node with a fresh id; undo removes it again.
    await select(page, task);
    await page.locator('.react-flow__pane').hover({ position: { x: 30, y: 30 } });
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await page.locator(`[data-testid="canvas-node"][data-node-id="${task}_2"]`).waitFor();
    expect(await page.getByTestId('canvas-node').count()).toBe(5);
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="canvas-node"]').length === 4);

    await page.getByTestId('open-compile').click();
    await page.getByTestId('state-list').waitFor();
    expect(await page.getByTestId('state-list').textContent()).toContain(approval);
    expect(await page.getByTestId('machine-json').textContent()).toContain('approval.decide');
    // The if is decided in the step that reaches it (machine format 4): the preview names it.
    expect(await page.getByTestId('decided-nodes').textContent()).toContain(check);
    await screenshot(page, 'editor-9-compile-preview');
    await page.getByRole('button', { name: 'Close Compile preview' }).click();

    await page.getByTestId('run').click();
    await page.getByTestId('run-payload').fill('{"name": "Sam"}');
    await page.getByTestId('run-submit').click();
    await page.getByTestId('approval').waitFor({ timeout: 30_000 });
    expect(await nodeById(page, approval).getAttribute('data-run-state')).toBe('waiting');
    await screenshot(page, 'editor-10-waiting-approval');
    await page.getByTestId('approve').click();
    await page.locator('[data-testid="run-panel"][data-run-status="completed"]').waitFor({ timeout: 30_000 });
    expect(await nodeById(page, task).getAttribute('data-run-state')).toBe('succeeded');
    const tasks = await apiClient(runtime).crm.tasks.list.query({});
    expect(JSON.stringify(tasks)).toContain('Approved follow-up');
    expect((await apiClient(runtime).flows.get.query({ docId })).flow.version).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the flow list creates, renames, imports over, duplicates and deletes flows', async () => {
    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    const docId = await createWorkflow(page, 'List actions flow');
    await page.getByTestId('back-to-flows').click();
    const row = page.locator(`[data-testid="flow-row"][data-doc-id="${docId}"]`);
    await row.waitFor();
    await screenshot(page, 'flows-list-actions');

    await row.getByTestId('rename-flow').click();
    await page.getByTestId('name-input').fill('Renamed flow');
    await screenshot(page, 'flows-rename-dialog');
    await page.getByTestId('name-submit').click();
    await page.getByTestId('list-notice').filter({ hasText: 'Renamed' }).waitFor();
    const renamed = row.filter({ hasText: 'Renamed flow' });
    await renamed.waitFor();
    expect((await apiClient(runtime).flows.get.query({ docId })).document.name).toBe('Renamed flow');

    // Importing a file whose id exists asks before replacing it; Cancel leaves the flow as it was.
    const { document: saved } = await apiClient(runtime).flows.export.query({ docId });
    const file = { name: `${docId}.json`, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...saved, description: 'From a file' })) };
    await page.getByTestId('import-flow-file').setInputFiles(file);
    const replace = await confirmDialog(page, 'Replace “Renamed flow” with the file?');
    await screenshot(page, 'confirm-import-replace');
    await replace.getByTestId('confirm-cancel').click();
    await replace.waitFor({ state: 'detached' });
    expect((await apiClient(runtime).flows.get.query({ docId })).document.description).toBe('');
    await page.getByTestId('import-flow-file').setInputFiles(file);
    await (await confirmDialog(page, 'Replace “Renamed flow” with the file?')).getByTestId('confirm-accept').click();
    await page.getByTestId('list-notice').filter({ hasText: 'Imported' }).waitFor();
    expect((await apiClient(runtime).flows.get.query({ docId })).document.description).toBe('From a file');

    await renamed.getByTestId('duplicate-flow').click();
    await page.getByTestId('flow-row').filter({ hasText: 'Copy of Renamed flow' }).waitFor();

    // Deleting asks in the app's own dialog. Cancel, Enter (on the focused Cancel) and Escape
    // keep the flow and give the focus back to its Delete button; only the red button deletes.
    const deleteButton = renamed.getByTestId('delete-flow');
    await deleteButton.click();
    let confirm = await confirmDialog(page, 'Delete “Renamed flow”?');
    await screenshot(page, 'confirm-delete-flow');
    expect(await confirm.getByTestId('confirm-accept').textContent()).toBe('Delete flow');
    await confirm.getByTestId('confirm-cancel').click();
    await confirm.waitFor({ state: 'detached' });
    expect(await hasFocus(deleteButton)).toBe(true);
    for (const key of ['Enter', 'Escape']) {
      await deleteButton.click();
      confirm = await confirmDialog(page, 'Delete “Renamed flow”?');
      await page.keyboard.press(key);
      await confirm.waitFor({ state: 'detached' });
    }
    expect(await renamed.count()).toBe(1);
    expect((await apiClient(runtime).flows.get.query({ docId })).document.name).toBe('Renamed flow');
    await deleteButton.click();
    await (await confirmDialog(page, 'Delete “Renamed flow”?')).getByTestId('confirm-accept').click();
    await page.getByTestId('list-notice').filter({ hasText: 'Deleted' }).waitFor();
    await row.waitFor({ state: 'detached' });

    // Opening a flow from the list goes to its canvas.
    await page.getByTestId('flow-row').filter({ hasText: 'Copy of Renamed flow' }).getByTestId('open-flow').click();
    await page.getByTestId('editor').waitFor();
    expect(await page.getByTestId('flow-name').textContent()).toBe('Copy of Renamed flow');
    expect(errors).toEqual([]);
    await context.close();
  });
});
