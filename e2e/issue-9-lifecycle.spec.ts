import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signIn } from './canvas';
import { apiClient, confirmDialog, launchBrowser, newPage, screenshot, startRuntime, type Runtime } from './support';

/*
 * Issue 9, Lifecycle, in the browser: delete cancels active runs and undeploy lets them finish, and
 * "say so in the UI's confirmation". The editor had no way to undeploy at all; the flows list's
 * delete confirmation must say what happens to runs in progress.
 */

type Api = ReturnType<typeof apiClient>;

const approvalFlow = (id: string, title: string) => ({
  schemaVersion: 1, id, kind: 'workflow', name: `Welcome ${id}`, description: '', version: 0,
  nodes: [
    { id: 'start', type: 'trigger.manual', typeVersion: 1, position: { x: 0, y: 0 }, params: {} },
    { id: 'approve', type: 'flow.approval', typeVersion: 1, position: { x: 300, y: 0 }, params: { title: 'Send the welcome?' } },
    { id: 'act', type: 'action.createTask', typeVersion: 1, position: { x: 600, y: 0 }, params: { title } },
  ],
  edges: [
    { id: 'e1', source: 'start', sourceHandle: 'out', target: 'approve', targetHandle: 'in' },
    { id: 'e2', source: 'approve', sourceHandle: 'approved', target: 'act', targetHandle: 'in' },
  ],
  settings: {},
});

async function waitingRun(api: Api, docId: string): Promise<string> {
  const { runId } = await api.runs.start.mutate({ docId });
  const until = Date.now() + 15_000;
  while ((await api.runs.get.query({ runId })).status !== 'waiting') {
    if (Date.now() > until) throw new Error(`run ${runId} never waited for its approval`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return runId;
}

async function statusOf(api: Api, runId: string, want: string): Promise<string> {
  const until = Date.now() + 15_000;
  let status = '';
  while ((status = (await api.runs.get.query({ runId })).status) !== want && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  return status;
}

describe('issue 9: undeploy and delete say what happens to runs in progress', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'issue-9-lifecycle-runtime' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('Undeploy in the editor asks first, says running ones finish, and the waiting run finishes when approved', async () => {
    const api = apiClient(runtime);
    await api.flows.save.mutate({ document: approvalFlow('undeploy-ui', 'Welcome after undeploy') as never });
    await api.flows.deploy.mutate({ docId: 'undeploy-ui' });
    const runId = await waitingRun(api, 'undeploy-ui');

    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime, '/flows/undeploy-ui');
    await page.getByTestId('deployed-badge').waitFor();
    await page.getByTestId('undeploy').click();
    const dialog = await confirmDialog(page, /^Undeploy/);
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('no new runs start');
    expect(text).toContain('Runs already in progress, such as one waiting for an approval or a delay, are not stopped: they finish as deployed.');
    await screenshot(page, 'issue-9-undeploy-confirm');
    await dialog.getByTestId('confirm-accept').click();

    const status = page.getByTestId('status');
    await status.waitFor();
    expect(await status.textContent()).toContain('Undeployed: no new runs start. 1 run in progress will finish.');
    await page.getByTestId('deployed-badge').waitFor({ state: 'detached' });
    expect(await page.getByTestId('undeploy').count()).toBe(0);
    expect((await api.flows.get.query({ docId: 'undeploy-ui' })).flow.deployedVersion).toBeNull();
    await screenshot(page, 'issue-9-undeployed');

    // The run that was waiting is not touched, and finishes when a person approves it.
    expect((await api.runs.get.query({ runId })).status).toBe('waiting');
    await api.runs.approve.mutate({ runId });
    expect(await statusOf(api, runId, 'completed')).toBe('completed');

    // Deploying again from the editor works and is announced again.
    await page.getByTestId('deploy').click();
    await page.getByTestId('deployed-badge').waitFor();
    expect(await page.getByTestId('status').textContent()).toContain('Deployed version 1');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('Delete on the flows list says runs in progress are cancelled, and cancels them', async () => {
    const api = apiClient(runtime);
    await api.flows.save.mutate({ document: approvalFlow('delete-ui', 'Welcome after delete') as never });
    await api.flows.deploy.mutate({ docId: 'delete-ui' });
    const runId = await waitingRun(api, 'delete-ui');

    const { context, page, errors } = await newPage(browser);
    await signIn(page, runtime);
    const row = page.locator('[data-testid="flow-row"][data-doc-id="delete-ui"]');
    await row.waitFor();
    await row.getByTestId('delete-flow').click();
    const dialog = await confirmDialog(page, /^Delete/);
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('It is deployed: it stops reacting to events, schedules and webhooks at once.');
    expect(text).toContain('Runs still in progress (waiting for an approval or a delay) are cancelled');
    await dialog.getByTestId('confirm-accept').click();
    const notice = page.getByTestId('list-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('Deleted “Welcome delete-ui” and cancelled 1 run in progress.');
    expect(await statusOf(api, runId, 'cancelled')).toBe('cancelled');
    expect(errors).toEqual([]);
    await context.close();
  });
});
