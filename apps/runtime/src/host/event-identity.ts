import type { DomainEvent } from '@switchyard/schema';

/**
 * The dedupe key a domain event gets when the caller sends none: its natural identity, so the same
 * email or contact reported twice (a retried webhook relay, a re-synced mailbox) starts its flows
 * once. Keys are namespaced by event type; the caller's own `dedupeKey` always wins.
 *
 * - `email.received`, `email.sent`: the email id (`emailId`). Without one the event has no identity
 *   and every emit is a new email.
 * - `contact.created`: the contact id, else the contact's email address (unique per user in the CRM).
 * - `user.login`: the login instant (`at`, normalised to UTC); without `at` every emit is a new login.
 */
export function naturalDedupeKey(event: DomainEvent): string | null {
  switch (event.type) {
    case 'email.received':
    case 'email.sent':
      return event.payload.emailId ? `${event.type}:${event.payload.emailId}` : null;
    case 'contact.created':
      return event.payload.contactId ? `${event.type}:id:${event.payload.contactId}` : `${event.type}:email:${event.payload.email}`;
    case 'user.login':
      return event.payload.at ? `${event.type}:${new Date(event.payload.at).toISOString()}` : null;
    case 'notification.acted':
      return null;
  }
}

/** The key the inbox dedupes on: the caller's, else the natural one (none: never deduped). */
export const dedupeKeyOf = (event: DomainEvent & { dedupeKey?: string | undefined }): string | null =>
  event.dedupeKey ?? naturalDedupeKey(event);
