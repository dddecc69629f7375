import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PINNED_CLOCK_ENV, apiClient, confirmDialog, launchBrowser, newPage, startRuntime, type Runtime } from './support';

const SHOTS = '/tmp/shots-inbox';
const shot = async (page: Page, name: string) => {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
};

/** A manual flow raising a suggestion about the contact in its payload, with typed buttons. */
const suggestFlow = (priority: 'high' | 'normal' | 'low') => ({
  schemaVersion: 1, id: `e2e-suggest-${priority}`, kind: 'workflow', name: 'Reactivate dormant contact',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, params: {} },
    {
      id: 'notify', type: 'action.sendNotification', position: { x: 240, y: 0 },
      params: {
        title: '{{ trigger.title }}', body: 'No contact for 45 days with a strong relationship. Send a check-in?',
        priority, notificationType: 'reactivation', contactId: '{{ trigger.contactId }}',
        suggestionKey: '{{ trigger.key }}',
        actions: [
          { id: 'compose', label: 'Compose email', kind: 'compose-email', draftSubject: 'Catching up', draftBody: 'Hi {{ trigger.name }},\n\nIt has been a while. Do you have time for a call next week?' },
          { id: 'snooze', label: 'Snooze', kind: 'snooze' },
          { id: 'dismiss', label: 'Dismiss', kind: 'dismiss' },
          { id: 'open', label: 'Open contact', kind: 'open-contact' },
        ],
      },
    },
  ],
  edges: [{ id: 'e1', source: 'start', target: 'notify' }],
});

describe('inbox and CRM pages', () => {
  let runtime: Runtime;
  let browser: Browser;

  beforeAll(async () => {
    runtime = await startRuntime({ name: 'inbox-runtime', env: PINNED_CLOCK_ENV });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
  });

  test('a suggestion shows up live; Compose opens its draft, Snooze hides one, Dismiss removes one; the contact page shows interactions and the draft', async () => {
    const api = apiClient(runtime);
    const ada = await api.crm.contacts.create.mutate({ name: 'Ada Quill', email: 'ada@quill.test', company: 'Quill & Co', relationshipStrength: 0.8 } as never);
    await api.crm.emails.create.mutate({ direction: 'inbound', from: 'ada@quill.test', to: ['me@example.test'], subject: 'Pilot results', body: 'The pilot went well, let us talk about next steps.' } as never);
    for (const priority of ['high', 'normal', 'low'] as const) {
      await api.flows.save.mutate({ document: suggestFlow(priority) as never });
      await api.flows.deploy.mutate({ docId: suggestFlow(priority).id });
    }
    const raise = async ({ priority, ...payload }: Record<string, unknown> & { priority: 'high' | 'normal' | 'low' }) => {
      const { runId } = await api.runs.start.mutate({ docId: suggestFlow(priority).id, payload });
      for (let i = 0; i < 100; i++) {
        const r = await api.runs.get.query({ runId });
        if (r.status === 'completed') return;
        if (r.status === 'failed') throw new Error(`run failed: ${JSON.stringify(r.nodes)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error('run did not finish');
    };

    const { context, page, errors } = await newPage(browser);
    await page.goto(`${runtime.baseUrl}/?token=${encodeURIComponent(runtime.token)}`);
    await page.getByTestId('nav-inbox').click();
    await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    const cards = page.getByTestId('notification');
    // The demo data's own suggestion (Grace Hopper), once the list has loaded.
    await page.locator('[data-testid="notification"], [data-testid="inbox-empty"]').first().waitFor();
    const before = await cards.count();

    // Raised by a run while the page is open: it appears without a reload, and the badge counts it.
    await raise({ title: 'Reach out to Ada Quill', priority: 'high', contactId: ada.id, name: 'Ada', key: 'reactivate' });
    const adaCard = cards.filter({ hasText: 'Reach out to Ada Quill' });
    await adaCard.waitFor();
    expect(await cards.count()).toBe(before + 1);
    await page.getByTestId('group-high').waitFor();
    await page.getByTestId('inbox-badge').waitFor();
    await shot(page, 'inbox-live');

    // Compose: the draft is created from the prepared one and opens for review.
    await adaCard.getByTestId('act-compose').click();
    const dialog = page.getByTestId('draft-dialog');
    await dialog.waitFor();
    expect(await page.getByTestId('draft-subject').inputValue()).toBe('Catching up');
    expect(await page.getByTestId('draft-to').inputValue()).toBe('ada@quill.test');
    expect(await page.getByTestId('draft-body').inputValue()).toContain('Hi Ada,');
    await shot(page, 'inbox-compose-draft');
    await page.getByTestId('draft-close').click();
    await dialog.waitFor({ state: 'detached' });
    await adaCard.waitFor({ state: 'detached' });

    // Snooze one for an hour: it leaves the inbox and waits under Snoozed.
    await raise({ title: 'Check in with Grace', priority: 'normal', contactId: '', name: 'Grace', key: 'grace' });
    const graceCard = cards.filter({ hasText: 'Check in with Grace' });
    await graceCard.waitFor();
    await graceCard.getByTestId('snooze').click();
    await shot(page, 'inbox-snooze-menu');
    await graceCard.getByTestId('snooze-1h').click();
    await graceCard.waitFor({ state: 'detached' });
    await page.getByTestId('inbox-notice').filter({ hasText: 'Snoozed' }).waitFor();
    await page.getByTestId('view-snoozed').click();
    await cards.filter({ hasText: 'Check in with Grace' }).waitFor();
    await shot(page, 'inbox-snoozed');
    await page.getByTestId('view-inbox').click();

    // Dismiss removes one.
    await raise({ title: 'Say hello to Lin', priority: 'low', contactId: '', name: 'Lin', key: 'lin' });
    const linCard = cards.filter({ hasText: 'Say hello to Lin' });
    await linCard.waitFor();
    await linCard.getByTestId('act-dismiss').click();
    await linCard.waitFor({ state: 'detached' });
    await page.getByTestId('view-done').click();
    await cards.filter({ hasText: 'Say hello to Lin' }).waitFor();
    await cards.filter({ hasText: 'Reach out to Ada Quill' }).waitFor();
    await shot(page, 'inbox-done');

    // The contact page: the email thread and the draft made from the suggestion.
    await page.getByTestId('nav-crm').click();
    await page.getByTestId('contact-row').filter({ hasText: 'Ada Quill' }).waitFor();
    await shot(page, 'contacts');
    await page.getByTestId('crm-search').fill('quill');
    await page.getByTestId('contact-row').filter({ hasText: 'Ada Quill' }).getByRole('link', { name: 'Ada Quill' }).click();
    await page.getByTestId('contact-name').filter({ hasText: 'Ada Quill' }).waitFor();
    await page.getByTestId('contact-email').filter({ hasText: 'The pilot went well' }).waitFor();
    await page.getByTestId('contact-draft').filter({ hasText: 'Catching up' }).waitFor();
    await shot(page, 'contact-detail');

    // Send the draft through the approval dialog: it becomes an email in the contact's history.
    await page.getByTestId('contact-draft').filter({ hasText: 'Catching up' }).click();
    await page.getByTestId('draft-dialog').waitFor();
    await page.getByTestId('draft-send').click();
    const confirm = await confirmDialog(page, /Send “Catching up”/);
    await shot(page, 'draft-send-approval');
    await confirm.getByTestId('confirm-accept').click();
    await page.getByRole('heading', { name: 'Draft (sent)' }).waitFor();
    await page.getByTestId('draft-close').click();
    await page.getByTestId('contact-email').filter({ hasText: 'Do you have time for a call' }).waitFor();

    for (const [tab, name] of [['drafts', 'drafts'], ['tasks', 'tasks'], ['follow-ups', 'follow-ups']] as const) {
      await page.getByTestId(`crm-tab-${tab}`).click();
      await page.waitForURL(`**/${tab}`);
      await page.locator('[data-testid="crm-table"], [data-testid="crm-empty"]').first().waitFor();
      await shot(page, name);
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});
