import type { Context } from '../context';
import type { HostServices } from '../host/services';
import { announceNotificationChange, notificationChanges } from '../notifications/events';
import { createNotificationService, type Act } from '../notifications/notifications.service';
import {
  EngagementSchema, NotificationIdSchema, NotificationsActSchema, NotificationsListSchema, NotificationsSnoozeSchema,
} from '../notifications/notifications.schemas';
import { authedProcedure, router } from '../trpc';

/** How often a watcher re-reads: picks up other processes' changes and snoozes that ran out. */
const WATCH_POLL_MS = 1000;

const serviceOf = (ctx: Context) => createNotificationService({ now: () => ctx.services.clock.now() });

/**
 * Acts, then lets the host start what the stored `notification.acted` event triggers. Should the
 * process die in between, the host drains the event on its next start.
 */
async function actAndEmit(ctx: Context & { user: { id: string } }, id: string, req: Act) {
  const out = await serviceOf(ctx).act(ctx.em, ctx.user.id, id, req);
  announceNotificationChange(ctx.user.id);
  const hs = ctx.services.hostServices as HostServices | undefined;
  if (hs) {
    await hs.host.drainInbox().catch((err: unknown) => ctx.services.log.error({ err }, 'notification.acted could not be routed yet'));
  }
  return out;
}

/** `notifications.*`: the inbox. Every query is scoped by the signed-in user. */
export const notificationsRouter = router({
  /** One page, newest (or newly returned) first, plus the counts the nav badge shows. */
  list: authedProcedure.input(NotificationsListSchema.prefault({})).query(({ ctx, input }) => serviceOf(ctx).list(ctx.em, ctx.user.id, input)),
  get: authedProcedure.input(NotificationIdSchema).query(({ ctx, input }) => serviceOf(ctx).get(ctx.em, ctx.user.id, input.id)),
  /** Presses one of the notification's buttons; the answer says what happened (e.g. the draft to open). */
  act: authedProcedure.input(NotificationsActSchema).mutation(({ ctx, input }) =>
    actAndEmit(ctx, input.id, { type: 'button', actionId: input.actionId, ...(input.until ? { until: input.until } : {}) })),
  dismiss: authedProcedure.input(NotificationIdSchema).mutation(({ ctx, input }) => actAndEmit(ctx, input.id, { type: 'dismiss' })),
  snooze: authedProcedure.input(NotificationsSnoozeSchema).mutation(({ ctx, input }) => actAndEmit(ctx, input.id, { type: 'snooze', until: input.until })),
  counts: authedProcedure.query(({ ctx }) => serviceOf(ctx).counts(ctx.em, ctx.user.id)),
  /** Shown vs acted per behavior and per action. */
  engagement: authedProcedure.input(EngagementSchema).query(({ ctx, input }) => serviceOf(ctx).engagement(ctx.em, ctx.user.id, input.since)),

  /**
   * Live counts over SSE: the current ones first, then whenever they (or anything in the user's
   * notifications) change, from this process at once and from any other within a poll.
   */
  watch: authedProcedure.subscription(async function* ({ ctx, signal }) {
    const service = serviceOf(ctx);
    let wake: (() => void) | null = null;
    const onChange = (userId: string) => {
      if (userId === ctx.user.id) wake?.();
    };
    notificationChanges.on('changed', onChange);
    const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    let last = '';
    try {
      while (!signal?.aborted) {
        const em = ctx.services.db.orm.em.fork() as unknown as Context['em'];
        const counts = await service.counts(em, ctx.user.id);
        const key = `${counts.unread}:${counts.inbox}:${counts.snoozed}:${counts.version}`;
        if (key !== last) {
          last = key;
          yield counts;
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, WATCH_POLL_MS);
          }),
          aborted,
        ]);
        clearTimeout(timer);
        wake = null;
      }
    } finally {
      notificationChanges.off('changed', onChange);
    }
  }),
});
