import { initTRPC } from '@trpc/server';
import { SwitchyardError, assertJsonLimits } from '@switchyard/schema';
import type { Context } from './context';
import { errorFormatter } from './errors';

// Plain JSON, no transformer: the API is easy to call with curl, and dates travel as ISO strings.
const t = initTRPC.context<Context>().create({ errorFormatter, isDev: false });

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const middleware = t.middleware;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure's raw input keeps the JSON rule (depth, size, no NUL or lone surrogate, no
 * prototype keys) before zod or anything recursive sees it: bad input is BAD_INPUT naming the path.
 */
const inputGuardedProcedure = t.procedure.use(async ({ getRawInput, next }) => {
  assertJsonLimits(await getRawInput());
  return next();
});

export const publicProcedure = inputGuardedProcedure;

/** Every procedure but `health`: needs a valid bearer token; narrows `ctx.user` to non-null. */
export const authedProcedure = inputGuardedProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new SwitchyardError('UNAUTHORIZED', 'Sign in with the login link the runtime printed at start');
  return next({ ctx: { user: ctx.user } });
});
