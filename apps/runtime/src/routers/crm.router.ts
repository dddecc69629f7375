import {
  ByIdSchema, ContactCreateSchema, ContactListSchema, ContactUpdateSchema, DraftCreateSchema, DraftListSchema, DraftUpdateSchema,
  EmailCreateSchema, FollowUpCreateSchema, FollowUpListSchema, FollowUpUpdateSchema, NotificationActSchema, NotificationListSchema,
  NotificationSnoozeSchema, TaskCreateSchema, TaskListSchema, TaskUpdateSchema, ThreadListSchema,
} from '../crm/crm.schemas';
import { createCrmPages, withContactNames } from '../crm/crm-pages';
import type { Context } from '../context';
import { authedProcedure, router } from '../trpc';

const pagesOf = (ctx: Context) => createCrmPages(ctx.services.crm, ctx.services.clock);

/** `crm.*`: thin wrappers over CrmStore; inputs are validated here, scoping happens in the store. */
export const crmRouter = router({
  contacts: router({
    list: authedProcedure.input(ContactListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listContacts(ctx.em, ctx.user.id, input)),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getContact(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(ContactCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createContact(ctx.em, ctx.user.id, input)),
    update: authedProcedure.input(ContactUpdateSchema).mutation(({ ctx, input }) => ctx.services.crm.updateContact(ctx.em, ctx.user.id, input)),
    /** The contact page: interactions, emails, tasks, follow-ups, drafts, notifications and agent memory about the contact. */
    detail: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => pagesOf(ctx).contactDetail(ctx.em, ctx.user.id, input.id)),
  }),
  /** Email threads (list/get) and messages (create). */
  emails: router({
    list: authedProcedure.input(ThreadListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listThreads(ctx.em, ctx.user.id, input)),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getThread(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(EmailCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createEmail(ctx.em, ctx.user.id, input)),
  }),
  tasks: router({
    list: authedProcedure.input(TaskListSchema.prefault({})).query(async ({ ctx, input }) => withContactNames(ctx.em, ctx.user.id, await ctx.services.crm.listTasks(ctx.em, ctx.user.id, input))),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getTask(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(TaskCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createTask(ctx.em, ctx.user.id, input)),
    update: authedProcedure.input(TaskUpdateSchema).mutation(({ ctx, input }) => ctx.services.crm.updateTask(ctx.em, ctx.user.id, input)),
  }),
  followUps: router({
    list: authedProcedure.input(FollowUpListSchema.prefault({})).query(async ({ ctx, input }) => withContactNames(ctx.em, ctx.user.id, await ctx.services.crm.listFollowUps(ctx.em, ctx.user.id, input))),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getFollowUp(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(FollowUpCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createFollowUp(ctx.em, ctx.user.id, input)),
    update: authedProcedure.input(FollowUpUpdateSchema).mutation(({ ctx, input }) => ctx.services.crm.updateFollowUp(ctx.em, ctx.user.id, input)),
  }),
  notifications: router({
    list: authedProcedure.input(NotificationListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listNotifications(ctx.em, ctx.user.id, input)),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getNotification(ctx.em, ctx.user.id, input.id)),
    act: authedProcedure.input(NotificationActSchema).mutation(({ ctx, input }) => ctx.services.crm.actOnNotification(ctx.em, ctx.user.id, input.id, input.actionId)),
    markRead: authedProcedure.input(ByIdSchema).mutation(({ ctx, input }) => ctx.services.crm.markNotificationRead(ctx.em, ctx.user.id, input.id)),
    dismiss: authedProcedure.input(ByIdSchema).mutation(({ ctx, input }) => ctx.services.crm.dismissNotification(ctx.em, ctx.user.id, input.id)),
    snooze: authedProcedure.input(NotificationSnoozeSchema).mutation(({ ctx, input }) => ctx.services.crm.snoozeNotification(ctx.em, ctx.user.id, input.id, input.until)),
  }),
  drafts: router({
    list: authedProcedure.input(DraftListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listDrafts(ctx.em, ctx.user.id, input)),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getDraft(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(DraftCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createDraft(ctx.em, ctx.user.id, input)),
    update: authedProcedure.input(DraftUpdateSchema).mutation(({ ctx, input }) => ctx.services.crm.updateDraft(ctx.em, ctx.user.id, input)),
    /**
     * Sends a draft a person approved in the UI, then emits `email.sent` (dedupe-keyed by the email,
     * so behaviors such as follow-up reminders see it once).
     */
    send: authedProcedure.input(ByIdSchema).mutation(async ({ ctx, input }) => {
      const sent = await pagesOf(ctx).sendDraft(ctx.em, ctx.user.id, input.id);
      const hs = ctx.services.hostServices;
      if (hs) {
        await hs.host.emit(ctx.user.id, {
          type: 'email.sent', dedupeKey: `email.sent:${sent.emailId}`,
          payload: { emailId: sent.emailId, threadId: sent.threadId, to: sent.to, subject: sent.subject, body: sent.body },
        }).catch((err: unknown) => ctx.services.log.error({ err }, 'email.sent could not be emitted'));
      }
      return { draft: sent.draft, emailId: sent.emailId, threadId: sent.threadId };
    }),
  }),
});
