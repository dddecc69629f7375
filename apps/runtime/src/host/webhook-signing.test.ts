import { describe, expect, it } from 'vitest';
import { webhookSignature } from './http-routes';
import { naturalDedupeKey } from './event-identity';

describe('webhook signing (docs/runtime.md, Webhooks)', () => {
  it('signs "<timestamp>.<body>" as the worked example in the docs says', () => {
    expect(webhookSignature('demo-secret', '1767798000', '{"order":"A-17"}')).toBe('sha256=da23b116f9a5999c28c8eee139c41341d7010d976ea22356eb93b00043b8bdc6');
    expect(webhookSignature('demo-secret', '1767798000', Buffer.from('{"order":"A-17"}'))).toBe(webhookSignature('demo-secret', '1767798000', '{"order":"A-17"}'));
    expect(webhookSignature('demo-secret', '1767798001', '{"order":"A-17"}')).not.toBe(webhookSignature('demo-secret', '1767798000', '{"order":"A-17"}'));
  });
});

describe('naturalDedupeKey', () => {
  it('is the natural identity of each domain event, namespaced by type', () => {
    const email = { from: 'a@b.test', to: [], subject: '', body: '', isImportant: false, isUnread: true };
    expect(naturalDedupeKey({ type: 'email.received', payload: { ...email, emailId: 'm1' } })).toBe('email.received:m1');
    expect(naturalDedupeKey({ type: 'email.received', payload: email })).toBeNull();
    expect(naturalDedupeKey({ type: 'email.sent', payload: { emailId: 'm1', to: ['a@b.test'], subject: '', body: '' } })).toBe('email.sent:m1');
    expect(naturalDedupeKey({ type: 'contact.created', payload: { contactId: 'c1', name: '', email: 'a@b.test' } })).toBe('contact.created:id:c1');
    expect(naturalDedupeKey({ type: 'contact.created', payload: { name: '', email: 'a@b.test' } })).toBe('contact.created:email:a@b.test');
    expect(naturalDedupeKey({ type: 'user.login', payload: { at: '2026-01-07T10:00:00-05:00' } })).toBe('user.login:2026-01-07T15:00:00.000Z');
    expect(naturalDedupeKey({ type: 'user.login', payload: {} })).toBeNull();
  });
});
