import type { CrmPort } from '../ports';
import { pass, type InvokeImplementation } from './types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Contacts by dormancy, strength and "not suggested lately", ordered and limited; `checkedAt` is
 * the clock reading it used (and `notSuggestedSince` the cut-off it derived, when that filter is on).
 */
export const findContacts: InvokeImplementation<'crm.findContacts'> = {
  kind: 'invoke',
  async run({ params, userId }, { crm, clock }) {
    const nowMs = clock.now();
    const now = new Date(nowMs).toISOString();
    const query: Parameters<CrmPort['findContacts']>[1] = {
      now, orderBy: params.orderBy, order: params.order, limit: params.limit,
      ...(params.dormantDays === undefined ? {} : { dormantDays: params.dormantDays }),
      ...(params.minStrength === undefined ? {} : { minStrength: params.minStrength }),
      ...(params.tag ? { tag: params.tag } : {}),
      ...(params.notSuggestedDays === undefined ? {} : { notSuggestedDays: params.notSuggestedDays }),
      ...(params.notSuggestedDays !== undefined && params.notSuggestedKey ? { notSuggestedKey: params.notSuggestedKey } : {}),
    };
    const contacts = await crm.findContacts(userId, query);
    // Outputs of documents without the filter stay exactly as they were.
    const notSuggested = params.notSuggestedDays === undefined ? {} : { notSuggestedSince: new Date(nowMs - params.notSuggestedDays * DAY).toISOString() };
    return pass({ contacts, count: contacts.length, checkedAt: now, ...notSuggested });
  },
};

/** Follow-ups due within the window (overdue included), not completed, with contact and original email. */
export const findFollowUps: InvokeImplementation<'crm.findFollowUps'> = {
  kind: 'invoke',
  async run({ params, userId }, { crm, clock }) {
    const nowMs = clock.now();
    const now = new Date(nowMs).toISOString();
    const dueBefore = new Date(nowMs + params.dueWithinHours * HOUR).toISOString();
    const followUps = await crm.findFollowUps(userId, { now, dueBefore, includeSnoozed: params.includeSnoozed, limit: params.limit });
    return pass({ followUps, count: followUps.length, checkedAt: now, dueBefore });
  },
};

/** Branches `yes` when the thread has an email newer than both the window and `since`, else `no`. */
export const hasRecentEmail: InvokeImplementation<'crm.hasRecentEmail'> = {
  kind: 'invoke',
  async run({ params, userId }, { crm, clock }) {
    const nowMs = clock.now();
    const threadId = String(params.threadId ?? '').trim();
    const sinceParam = Date.parse(String(params.since ?? ''));
    const windowStart = nowMs - params.withinHours * HOUR;
    const since = new Date(Number.isNaN(sinceParam) ? windowStart : Math.max(windowStart, sinceParam)).toISOString();
    // No thread (or not an id) cannot have a recent email: the "no" branch, with the reason in the output.
    const found = UUID.test(threadId) ? await crm.hasRecentEmail(userId, { threadId, since, direction: params.direction }) : { count: 0, lastEmailAt: null };
    const output = { hasRecent: found.count > 0, count: found.count, lastEmailAt: found.lastEmailAt, threadId: threadId || null, since };
    return pass(output, output.hasRecent ? 'yes' : 'no');
  },
};
