import type { ApiClient, QueryOutput } from '../trpc';

export type NotificationList = QueryOutput<ApiClient['notifications']['list']>;
export type NotificationItem = NotificationList['items'][number];
export type NotificationButton = NotificationItem['actions'][number];
export type Counts = QueryOutput<ApiClient['notifications']['counts']>;
export type ContactItem = QueryOutput<ApiClient['crm']['contacts']['list']>['items'][number];
export type ContactDetail = QueryOutput<ApiClient['crm']['contacts']['detail']>;
export type DraftItem = QueryOutput<ApiClient['crm']['drafts']['list']>['items'][number];
export type TaskItem = QueryOutput<ApiClient['crm']['tasks']['list']>['items'][number];
export type FollowUpItem = QueryOutput<ApiClient['crm']['followUps']['list']>['items'][number];

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [['year', 31_536_000_000], ['month', 2_592_000_000], ['week', 604_800_000], ['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000]];

/** "3 days ago", "in 2 hours", "now". */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  for (const [unit, ms] of UNITS) if (Math.abs(diff) >= ms) return rtf.format(Math.round(diff / ms), unit);
  return 'just now';
}

export const dateTime = (iso: string | null) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');

/** The snooze choices the inbox offers; `custom` asks for a date and time. */
export function snoozeChoices(now = new Date()): { id: string; label: string; until: Date }[] {
  const tomorrow9 = new Date(now);
  tomorrow9.setDate(now.getDate() + 1);
  tomorrow9.setHours(9, 0, 0, 0);
  const nextWeek = new Date(now);
  // Next Monday 9:00 (a week from today when today is Monday).
  nextWeek.setDate(now.getDate() + (((8 - now.getDay()) % 7) || 7));
  nextWeek.setHours(9, 0, 0, 0);
  return [
    { id: '1h', label: 'In 1 hour', until: new Date(now.getTime() + 3_600_000) },
    { id: 'tomorrow', label: 'Tomorrow 9:00', until: tomorrow9 },
    { id: 'next-week', label: 'Next week (Mon 9:00)', until: nextWeek },
  ];
}
