import {
  ByIdSchema, ContactCreateSchema, ContactListSchema, ContactUpdateSchema, DraftCreateSchema, DraftListSchema, DraftUpdateSchema,
  EmailCreateSchema, FollowUpCreateSchema, FollowUpListSchema, FollowUpUpdateSchema, NotificationActSchema, NotificationListSchema,
  NotificationSnoozeSchema, TaskCreateSchema, TaskListSchema, TaskUpdateSchema, ThreadListSchema,
} from '../crm/crm.schemas';
import { authedProcedure, router } from '../trpc';

/** `crm.*`: thin wrappers over CrmStore; inputs are validated here, scoping happens in the store. */
export const crmRouter = router({
  contacts: router({
    list: authedProcedure.input(ContactListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listContacts(ctx.em, ctx.user.id, input)),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getContact(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(ContactCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createContact(ctx.em, ctx.user.id, input)),
    update: authedProcedure.input(ContactUpdateSchema).mutation(({ ctx, input }) => ctx.services.crm.updateContact(ctx.em, ctx.user.id, input)),
  }),
  /** Email threads (list/get) and messages (create). */
  emails: router({
    list: authedProcedure.input(ThreadListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listThreads(ctx.em, ctx.user.id, input)),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getThread(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(EmailCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createEmail(ctx.em, ctx.user.id, input)),
  }),
  tasks: router({
    list: authedProcedure.input(TaskListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listTasks(ctx.em, ctx.user.id, input)),
    get: authedProcedure.input(ByIdSchema).query(({ ctx, input }) => ctx.services.crm.getTask(ctx.em, ctx.user.id, input.id)),
    create: authedProcedure.input(TaskCreateSchema).mutation(({ ctx, input }) => ctx.services.crm.createTask(ctx.em, ctx.user.id, input)),
    update: authedProcedure.input(TaskUpdateSchema).mutation(({ ctx, input }) => ctx.services.crm.updateTask(ctx.em, ctx.user.id, input)),
  }),
  followUps: router({
    list: authedProcedure.input(FollowUpListSchema.prefault({})).query(({ ctx, input }) => ctx.services.crm.listFollowUps(ctx.em, ctx.user.id, input)),
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
  }),
});
