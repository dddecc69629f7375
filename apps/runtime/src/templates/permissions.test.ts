import { describe, expect, it } from 'vitest';
import { documentPermissions } from './bundle';

const doc = (...nodes: { type: string; params?: Record<string, unknown> }[]) => ({ nodes: nodes.map((n, i) => ({ id: `n${i}`, params: {}, ...n })) });

describe('permissions a document needs', () => {
  it('a for-each needs what its action needs, a webhook its host; a wait what its event reveals', () => {
    expect(documentPermissions(doc({ type: 'flow.forEach', params: { action: 'action.sendEmail', with: {} } }))).toEqual(['email.send']);
    expect(documentPermissions(doc({ type: 'flow.forEach', params: { action: 'action.webhook', with: { url: 'https://hooks.example.com/x' } } })))
      .toEqual(['webhook:hooks.example.com']);
    expect(documentPermissions(doc({ type: 'flow.waitForEvent', params: { event: 'email.received' } }))).toEqual(['email.read']);
    expect(documentPermissions(doc({ type: 'flow.waitForEvent', params: { event: 'user.login' } }))).toEqual([]);
  });
});
