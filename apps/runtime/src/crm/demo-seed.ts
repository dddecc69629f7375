import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ContactEntity, EmailEntity, EmailThreadEntity, FollowUpEntity, NotificationEntity, TaskEntity, type Contact } from '../entities';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/**
 * Demo data for a first start on the embedded database, shaped so the built-in templates have
 * something to find: dormant strong relationships (> 30 days, strength > 0.5), an important unread
 * inbound email, a follow-up due within 24 hours, an open task and a notification.
 */
export async function seedDemoData(em: EntityManager, userId: string, options: { now?: number } = {}): Promise<{ contacts: number }> {
  const now = options.now ?? Date.now();
  const at = (offsetMs: number) => new Date(now + offsetMs);
  const contacts: Contact[] = [
    ['Ada Lovelace', 'ada@analytical.example', 'Analytical Engines', 'CTO', 0.92, -2 * DAY, ['customer', 'vip']],
    ['Grace Hopper', 'grace@cobol.example', 'Compiler Co', 'VP Engineering', 0.81, -45 * DAY, ['customer']],
    ['Alan Turing', 'alan@bletchley.example', 'Bletchley Labs', 'Research Lead', 0.74, -38 * DAY, ['partner']],
    ['Katherine Johnson', 'katherine@orbit.example', 'Orbit Analytics', 'Head of Data', 0.66, -9 * DAY, ['prospect']],
    ['Linus Torvalds', 'linus@kernel.example', 'Kernel Works', 'Founder', 0.35, -61 * DAY, ['community']],
    ['Margaret Hamilton', 'margaret@apollo.example', 'Apollo Software', 'Director', 0.88, -33 * DAY, ['customer', 'renewal']],
    ['Tim Berners-Lee', 'tim@web.example', 'Web Foundation', 'Advisor', 0.52, -14 * DAY, ['advisor']],
    ['Barbara Liskov', 'barbara@substitution.example', 'Substitution Inc', 'CEO', 0.2, null, ['lead']],
  ].map(([name, email, company, title, strength, last, tags]) =>
    em.create(ContactEntity, {
      id: randomUUID(), userId, name: name as string, email: email as string, company: company as string, title: title as string,
      phone: '', relationshipStrength: strength as number, lastInteractionAt: last === null ? null : at(last as number),
      tags: tags as string[], notes: '', createdAt: at(-90 * DAY), updatedAt: at(-90 * DAY),
    }));
  const [ada, grace, , katherine, , margaret] = contacts;

  const thread = (subject: string, contact: Contact, last: Date) =>
    em.create(EmailThreadEntity, { id: randomUUID(), userId, subject, contactId: contact.id, lastMessageAt: last });
  const email = (threadId: string, direction: 'inbound' | 'outbound', from: string, to: string, subject: string, body: string, when: Date, flags: { important?: boolean; unread?: boolean } = {}) =>
    em.create(EmailEntity, {
      id: randomUUID(), userId, threadId, direction, fromAddr: from, toAddrs: [to], subject, body,
      isImportant: flags.important ?? false, isUnread: flags.unread ?? false, at: when, createdAt: when,
    });

  const renewal = thread('Contract renewal: decision needed this week', ada!, at(-2 * HOUR));
  email(renewal.id, 'outbound', 'me@switchyard.local', ada!.email, renewal.subject, 'Hi Ada, attaching the renewal terms we discussed.', at(-3 * DAY));
  email(renewal.id, 'inbound', ada!.email, 'me@switchyard.local', `Re: ${renewal.subject}`,
    'Thanks! Legal approved the terms, but we need the updated pricing by Friday or the renewal slips to next quarter. Can you confirm today?',
    at(-2 * HOUR), { important: true, unread: true });

  const pilot = thread('Pilot results', katherine!, at(-9 * DAY));
  email(pilot.id, 'inbound', katherine!.email, 'me@switchyard.local', pilot.subject, 'The pilot numbers look good. Shall we schedule a review?', at(-9 * DAY));

  const intro = thread('Intro to the platform team', grace!, at(-45 * DAY));
  email(intro.id, 'inbound', grace!.email, 'me@switchyard.local', intro.subject, 'Happy to introduce you to our platform team next month.', at(-45 * DAY));

  const task = (title: string, priority: 'low' | 'medium' | 'high', dueInMs: number | null, contact: Contact | undefined) =>
    em.create(TaskEntity, {
      id: randomUUID(), userId, title, description: '', dueAt: dueInMs === null ? null : at(dueInMs), priority, status: 'open',
      contactId: contact?.id ?? null, sourceRunId: null, createdAt: at(-DAY), completedAt: null,
    });
  task('Send updated pricing to Ada', 'high', 1 * DAY, ada);
  task('Prepare pilot review deck', 'medium', 5 * DAY, katherine);
  task('Tidy up the contact list', 'low', null, undefined);

  em.create(FollowUpEntity, {
    id: randomUUID(), userId, contactId: katherine!.id, threadId: pilot.id, dueAt: at(6 * HOUR), note: 'Schedule the pilot review',
    status: 'pending', snoozedUntil: null, createdAt: at(-DAY), completedAt: null,
  });
  em.create(FollowUpEntity, {
    id: randomUUID(), userId, contactId: margaret!.id, threadId: null, dueAt: at(4 * DAY), note: 'Check in before the renewal window',
    status: 'pending', snoozedUntil: null, createdAt: at(-DAY), completedAt: null,
  });

  em.create(NotificationEntity, {
    id: randomUUID(), userId, type: 'relationship.dormant', title: 'Grace Hopper has gone quiet',
    body: 'No contact for 45 days with a strong relationship (0.81). Send a check-in?', priority: 'normal',
    actions: [
      {
        id: 'compose', label: 'Compose email', action: 'compose-email',
        payload: { draft: { to: [grace!.email], subject: 'Catching up', body: `Hi Grace,\n\nIt has been a while - how are things going on your side? Would you have time for a short call next week?\n\nBest,`, contactId: grace!.id, threadId: null } },
      },
      { id: 'later', label: 'Remind me next week', action: 'snooze', payload: { snoozeFor: '7 days' } },
      { id: 'open', label: 'Open contact', action: 'open-contact', payload: { contactId: grace!.id } },
    ],
    state: 'unread', readAt: null, actedAt: null, actedAction: null, actedResult: null, dismissedAt: null, snoozedAt: null, snoozedUntil: null,
    returnedAt: null, contactId: grace!.id, suggestionKey: 'reactivate', behaviorId: null, sourceRunId: null, createdAt: at(-HOUR), updatedAt: at(-HOUR),
  });

  await em.flush();
  return { contacts: contacts.length };
}

/** Seeds only a user with no contacts at all, so restarts never duplicate or touch real data. */
export async function seedDemoDataIfEmpty(em: EntityManager, userId: string, options: { now?: number } = {}) {
  if (await em.count(ContactEntity, { userId })) return false;
  await seedDemoData(em, userId, options);
  return true;
}
