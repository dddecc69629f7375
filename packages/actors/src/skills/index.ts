import { writeCheckIn } from './check-in-skill';
import { checkCalendar, extractMeetingIntent, proposeTimes, sendCalendarInvite } from './calendar-skills';
import { analyzeDealProbability, scheduleFollowUp } from './crm-skills';
import { draftEmail, draftSalesEmail, summarizeThread } from './email-skills';
import { createSkillRegistry } from './registry';
import { researchContact } from './research-contact';
import type { Skill } from './types';

export * from './types';
export { createSkillRegistry, manifestOf, type SkillRegistry, type SkillValidation } from './registry';
export { freeSlots } from './calendar-skills';

/** The skills the seed and its pre-built templates (Sales Assistant, Meeting Scheduler, Dormant contact reactivation) name. */
export const BUILTIN_SKILLS: Skill[] = [
  researchContact, draftEmail, draftSalesEmail, summarizeThread, scheduleFollowUp, analyzeDealProbability,
  extractMeetingIntent, checkCalendar, proposeTimes, sendCalendarInvite, writeCheckIn,
];

export const createBuiltinSkillRegistry = () => createSkillRegistry(BUILTIN_SKILLS);
export { matchSkill, paramsFromRequest, firstEmail, type SkillMatch } from './route';
