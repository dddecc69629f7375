import { describe, expect, it } from 'vitest';
import { decisionSummary, proposalLines, proposalTitle } from './proposals';

describe('proposal arguments for people', () => {
  it('reads a proposed email as To, Subject and Body', () => {
    expect(proposalTitle('sendEmail')).toBe('Send an email');
    expect(proposalLines('sendEmail', { to: ['x@evil.test', 'y@evil.test'], subject: 'Contact list', body: 'All contacts: ...' })).toEqual([
      { label: 'To', value: 'x@evil.test, y@evil.test' },
      { label: 'Subject', value: 'Contact list' },
      { label: 'Body', value: 'All contacts: ...', block: true },
    ]);
  });

  it('leaves out empty arguments', () => {
    expect(proposalLines('updateContact', { email: 'ada@example.com', addTags: [], appendNote: '' })).toEqual([{ label: 'Contact', value: 'ada@example.com' }]);
  });

  it('falls back to JSON (null) for unknown tools and unexpected shapes', () => {
    expect(proposalTitle('exportContacts')).toBe('exportContacts');
    expect(proposalLines('exportContacts', { to: 'x@evil.test' })).toBeNull();
    expect(proposalLines('sendEmail', 'to everyone')).toBeNull();
    expect(proposalLines('sendEmail', {})).toBeNull();
  });
});

describe('decision summaries', () => {
  it('says what an approval did and that a rejection did nothing', () => {
    expect(decisionSummary('sendEmail', { to: ['x@evil.test'] }, 'approved')).toBe('Approved: the email to x@evil.test was sent.');
    expect(decisionSummary('createCalendarEvent', { title: 'Demo' }, 'approved')).toBe('Approved: “Demo” is in the calendar.');
    expect(decisionSummary('sendEmail', { to: ['x@evil.test'] }, 'rejected')).toBe('Rejected “send an email”: nothing was done.');
    expect(decisionSummary('exportContacts', null, 'approved')).toBe('Approved: exportContacts ran.');
  });
});
