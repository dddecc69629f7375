import { EmitEventInputSchema } from '@switchyard/schema';
import { authedProcedure, router } from '../trpc';
import { hostOf } from '../host/wiring';
import { dedupeKeyOf } from '../host/event-identity';

export const eventsRouter = router({
  /**
   * Stores a domain event in the durable inbox and starts every deployed flow it triggers. The
   * same event twice (same `dedupeKey`, or without one the same natural identity: email id,
   * contact id...) is stored and run once; the second answer says `duplicate: true`.
   */
  emit: authedProcedure.input(EmitEventInputSchema).mutation(async ({ ctx, input }) => {
    const dedupeKey = dedupeKeyOf(input);
    const { host } = hostOf(ctx.services);
    const result = await host.emit(ctx.user.id, { ...input, ...(dedupeKey === null ? {} : { dedupeKey }) });
    // Like runs.start: answered once the runs it started have their first steps stored (not once
    // every run of the process has: that made each answer wait on unrelated runs' writes).
    await Promise.all(result.runs.map((r) => host.flush(r.runId)));
    return result;
  }),
});
