import { NOTIFICATION_ACTION_KINDS, type NotificationActionKind } from '@switchyard/schema';
import type { NotificationAction } from '../entities/notification.entity';

/** A stored button, read back as its typed kind; unknown `action` names are custom answers. */
export type TypedAction =
  | { kind: 'compose-email'; id: string; label: string; draft: PreparedDraft }
  | { kind: 'complete-follow-up'; id: string; label: string; followUpId: string }
  | { kind: 'snooze'; id: string; label: string; snoozeFor: string | null }
  | { kind: 'dismiss'; id: string; label: string }
  | { kind: 'open-contact'; id: string; label: string; contactId: string | null }
  | { kind: 'custom'; id: string; label: string; action: string };

export interface PreparedDraft {
  to: string[];
  subject: string;
  body: string;
  contactId: string | null;
  threadId: string | null;
}

const isKind = (s: string): s is NotificationActionKind => (NOTIFICATION_ACTION_KINDS as readonly string[]).includes(s);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown) => (typeof v === 'string' ? v : null);

export function typedAction(a: NotificationAction): TypedAction {
  const p = obj(a.payload);
  const base = { id: a.id, label: a.label };
  if (!isKind(a.action)) return { ...base, kind: 'custom', action: a.action };
  switch (a.action) {
    case 'compose-email': {
      const d = obj(p.draft);
      return {
        ...base, kind: 'compose-email',
        draft: {
          to: Array.isArray(d.to) ? d.to.filter((x): x is string => typeof x === 'string') : [],
          subject: str(d.subject) ?? '', body: str(d.body) ?? '', contactId: str(d.contactId), threadId: str(d.threadId),
        },
      };
    }
    case 'complete-follow-up':
      return { ...base, kind: 'complete-follow-up', followUpId: str(p.followUpId) ?? '' };
    case 'snooze':
      return { ...base, kind: 'snooze', snoozeFor: str(p.snoozeFor) };
    case 'dismiss':
      return { ...base, kind: 'dismiss' };
    case 'open-contact':
      return { ...base, kind: 'open-contact', contactId: str(p.contactId) };
    case 'custom':
      return { ...base, kind: 'custom', action: a.id };
  }
}
