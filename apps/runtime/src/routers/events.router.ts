import { EmitEventInputSchema } from '@switchyard/schema';
import { authedProcedure, router } from '../trpc';
import { hostOf } from '../host/wiring';

export const eventsRouter = router({
  /** Stores a domain event in the durable inbox and starts every deployed flow it triggers. */
  emit: authedProcedure.input(EmitEventInputSchema).mutation(async ({ ctx, input }) => {
    const result = await hostOf(ctx.services).host.emit(ctx.user.id, input);
    await hostOf(ctx.services).host.flush();
    return result;
  }),
});
