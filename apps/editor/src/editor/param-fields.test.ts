import { defaultCatalog } from '@switchyard/schema';
import { describe, expect, it } from 'vitest';
import { fieldsOf, humanize, issuesByPath, plainMessage, slugOf } from './param-fields';

const spec = (type: string) => defaultCatalog.get(type)!;

describe('inspector fields from zod schemas', () => {
  it('maps strings, enums, numbers, booleans and the nested retry policy', () => {
    const fields = fieldsOf(spec('action.createTask').params);
    const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
    expect(byKey.title).toMatchObject({ kind: 'text', required: true, label: 'Title' });
    expect(byKey.dueIn).toMatchObject({ kind: 'text', placeholder: '1 day', description: 'e.g. "1 hour", "2 days"' });
    expect(byKey.priority).toMatchObject({ kind: 'enum', options: ['low', 'medium', 'high'], defaultValue: 'medium' });
    expect(byKey.continueOnError).toMatchObject({ kind: 'boolean', defaultValue: false });
    expect(byKey.retry).toMatchObject({ kind: 'object' });
    expect(byKey.retry?.kind === 'object' && byKey.retry.fields.map((f) => f.key)).toEqual(['maxAttempts', 'backoffMs', 'factor']);
  });

  it('maps arrays of strings and numbers to lists, anything else to JSON', () => {
    const contact = Object.fromEntries(fieldsOf(spec('action.updateContact').params).map((f) => [f.key, f]));
    expect(contact.addTags).toMatchObject({ kind: 'list', itemType: 'string' });
    const hours = Object.fromEntries(fieldsOf(spec('condition.businessHours').params).map((f) => [f.key, f]));
    expect(hours.days).toMatchObject({ kind: 'list', itemType: 'number' });
    const webhook = Object.fromEntries(fieldsOf(spec('action.webhook').params).map((f) => [f.key, f]));
    expect(webhook.headers).toMatchObject({ kind: 'json' });
  });

  it('reports zod problems by field path in plain words', () => {
    const issues = issuesByPath(spec('trigger.schedule').params, { cron: '61 * * * *' });
    expect(issues.get('cron')).toBeTruthy();
    expect(issuesByPath(spec('action.createTask').params, {}).get('title')).toBe('Required');
    expect(issuesByPath(spec('action.createTask').params, { title: 'x', retry: { maxAttempts: 99 } }).has('retry.maxAttempts')).toBe(true);
  });

  it('humanizes keys', () => {
    expect(humanize('maxAttempts')).toBe('Max attempts');
    expect(humanize('dueIn')).toBe('Due in');
  });
});

describe('issue 9: the notification node’s actions get a structured editor, not raw JSON', () => {
  it('makes a list of records with simple fields an object list, label first', () => {
    const actions = fieldsOf(defaultCatalog.get('action.sendNotification')!.params).find((f) => f.key === 'actions');
    expect(actions?.kind).toBe('objectList');
    if (actions?.kind !== 'objectList') return;
    expect(actions.itemFields.map((f) => [f.key, f.kind])).toEqual([
      ['label', 'text'],
      ['id', 'text'],
      // Issue 10: typed buttons (kind) with their flat settings.
      ['kind', 'enum'],
      ['draftTo', 'text'],
      ['draftSubject', 'text'],
      ['draftBody', 'text'],
      ['followUpId', 'text'],
      ['snoozeFor', 'text'],
    ]);
    expect(actions.maxItems).toBe(5);
  });

  it('places a row’s problems at their own path', () => {
    const issues = issuesByPath(defaultCatalog.get('action.sendNotification')!.params, { title: 'Hi', actions: [{ label: 'Call back' }] });
    expect(issues.get('actions.0.id')).toBe('Required');
  });

  it('derives ids that the action id pattern accepts', () => {
    expect(slugOf('Call back!')).toBe('call-back');
    expect(slugOf('  2nd  Reminder ')).toBe('nd-reminder');
    expect(slugOf('Ünïcode only ✓')).toBe('n-code-only');
    for (const label of ['Call back!', 'x'.repeat(100), 'A -- B']) expect(slugOf(label)).toMatch(/^[a-z][a-z0-9-]{0,39}$/);
  });
});

describe('issue 9: problems on the cards read as words', () => {
  it('names a missing field as a person would, also inside a list', () => {
    expect(plainMessage('title: Invalid input: expected string, received undefined')).toBe('Title is required');
    expect(plainMessage('actions.2.id: Invalid input: expected string, received undefined')).toBe('Actions #3 › Id is required');
    expect(plainMessage('Create task is not connected to a trigger, so it never runs')).toBe('Create task is not connected to a trigger, so it never runs');
  });
});
