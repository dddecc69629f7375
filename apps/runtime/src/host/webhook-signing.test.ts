import { describe, expect, it } from 'vitest';
import { badTextPath, jsonDepthExceeds, webhookSignature } from './http-routes';
import { naturalDedupeKey } from './event-identity';

describe('webhook signing (docs/runtime.md, Webhooks)', () => {
  it('signs "<timestamp>.<body>" as the worked example in the docs says', () => {
    expect(webhookSignature('demo-secret', '1767798000', '{"order":"A-17"}')).toBe('sha256=da23b116f9a5999c28c8eee139c41341d7010d976ea22356eb93b00043b8bdc6');
    expect(webhookSignature('demo-secret', '1767798000', Buffer.from('{"order":"A-17"}'))).toBe(webhookSignature('demo-secret', '1767798000', '{"order":"A-17"}'));
    expect(webhookSignature('demo-secret', '1767798001', '{"order":"A-17"}')).not.toBe(webhookSignature('demo-secret', '1767798000', '{"order":"A-17"}'));
  });
});

describe('jsonDepthExceeds', () => {
  it('counts nesting outside strings only, escapes included', () => {
    expect(jsonDepthExceeds('[[1]]', 2)).toBe(false);
    expect(jsonDepthExceeds('[[[1]]]', 2)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":[1]}}', 2)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[{{{{' }), 1)).toBe(false);
    // An escaped quote does not end the string; an escaped backslash does not escape the quote after it.
    expect(jsonDepthExceeds(JSON.stringify({ s: 'a"[[[[' }), 1)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify(['\\', [[1]]]), 2)).toBe(true);
    expect(jsonDepthExceeds('['.repeat(1_000_000), 64)).toBe(true);
    expect(jsonDepthExceeds('[]'.repeat(1_000_000), 1)).toBe(false);
  });
});

describe('badTextPath', () => {
  it('finds NUL and unpaired surrogates in strings and keys, with the path', () => {
    expect(badTextPath({ a: ['ok', { b: 'x\u0000' }] })).toEqual(['a', 1, 'b']);
    expect(badTextPath(['\ud800'])).toEqual([0]);
    expect(badTextPath({ ok: { '\udc00': 1 } })).toEqual(['ok']);
    expect(badTextPath({ emoji: '😀', n: 1, z: null, t: true })).toBeNull();
    expect(badTextPath('plain\u0000')).toEqual([]);
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
