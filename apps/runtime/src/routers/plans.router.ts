import { z } from 'zod';
import { AgentIdSchema, IdSchema, PLAN_RUN_STATUSES } from '@switchyard/schema';
import { hostOf } from '../host/wiring';
import { plansOf } from '../plans/wiring';
import { refusePlanPastGrant, templatePermissionDiagnostics } from '../templates/grants';
import { authedProcedure, router } from '../trpc';

const RunId = z.object({ id: z.string().min(1).max(100) });

/** `plans.*`: multi-agent plans. Every call is scoped to the signed-in user; another user's run is NOT_FOUND. */
export const plansRouter = router({
  /**
   * Analyses a task into a plan document (skills, dependencies, an agent per step) for review on the
   * canvas. Nothing is stored. "No capable agent for skill X" is NOT_FOUND naming the skill.
   */
  fromTask: authedProcedure
    // The task is validated by the service (PlanTaskSchema), so an empty description is BAD_INPUT with the same message everywhere.
    .input(z.object({ description: z.string().max(5000), context: z.record(z.string(), z.unknown()).optional() }))
    .mutation(({ ctx, input }) => plansOf(ctx.services).fromTask(ctx.user.id, input)),

  /** Diagnostics of a plan document against your agents (cycles, references, agents, skills), pinned to nodes. */
  validate: authedProcedure.input(z.object({ document: z.unknown() }))
    .mutation(async ({ ctx, input }) => ({ diagnostics: [...(await plansOf(ctx.services).validate(ctx.user.id, input.document)),
      // A plan installed from a template may not need more than the install granted (issue 12).
      ...(await templatePermissionDiagnostics(ctx.services.db.orm.em.fork() as never, ctx.user.id, input.document))] })),

  /**
   * Starts a plan: a saved one (`docId`, optional `version`) or a document given inline. A plan with
   * errors is INVALID_DOCUMENT and nothing is stored. `wait: true` answers once the plan finished.
   * A plan installed from a template that needs more than the install granted is FORBIDDEN.
   */
  run: authedProcedure
    .input(z.object({
      docId: IdSchema.optional(), version: z.number().int().positive().optional(), document: z.unknown().optional(),
      context: z.record(z.string(), z.unknown()).optional(), wait: z.boolean().default(false),
    }))
    .mutation(async ({ ctx, input }) => {
      await refusePlanPastGrant(ctx.services.db.orm.em.fork() as never, ctx.user.id, input, (docId, version) => hostOf(ctx.services).flows.exportDocument(ctx.user.id, docId, version));
      return plansOf(ctx.services).run(ctx.user.id, input);
    }),

  /** One run: status, steps (agent, attempt, output, times), outcome `{ status, results, errors, duration, summary }`, journal. */
  get: authedProcedure.input(RunId).query(({ ctx, input }) => plansOf(ctx.services).get(ctx.user.id, input.id)),

  /** Newest first; `nextCursor` continues with older runs. */
  list: authedProcedure
    .input(z.object({
      docId: IdSchema.optional(), status: z.enum(PLAN_RUN_STATUSES).optional(),
      limit: z.number().int().min(1).max(200).default(50), cursor: z.string().max(500).optional(),
    }).prefault({}))
    .query(({ ctx, input }) => plansOf(ctx.services).list(ctx.user.id, input)),

  /** The plans an agent proposed in its chat with you (a request that needed several skills), newest first, each under its answer. */
  chatProposals: authedProcedure
    .input(z.object({ agentId: AgentIdSchema, limit: z.number().int().min(1).max(200).default(50) }))
    .query(({ ctx, input }) => plansOf(ctx.services).chatProposals(ctx.user.id, input.agentId, input.limit)),

  cancel: authedProcedure.input(RunId).mutation(({ ctx, input }) => plansOf(ctx.services).cancel(ctx.user.id, input.id)),

  /** Live run over SSE: the run now, then again after every change, until it finishes. */
  watch: authedProcedure.input(RunId).subscription(async function* ({ ctx, input, signal }) {
    const plans = plansOf(ctx.services);
    let dirty = false;
    let wake: (() => void) | null = null;
    let stopping = false;
    const onRun = (e: { userId: string; runId: string }) => {
      if (e.userId !== ctx.user.id || e.runId !== input.id) return;
      dirty = true;
      wake?.();
    };
    const onStop = () => {
      stopping = true;
      wake?.();
    };
    plans.events.on('run', onRun);
    plans.events.once('stop', onStop);
    const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    try {
      let run = await plans.get(ctx.user.id, input.id);
      yield run;
      while (run.status === 'running' && !signal?.aborted && !stopping) {
        if (!dirty) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        wake = null;
        if (stopping || signal?.aborted) break;
        dirty = false;
        run = await plans.get(ctx.user.id, input.id);
        yield run;
      }
    } finally {
      plans.events.off('run', onRun);
      plans.events.off('stop', onStop);
    }
  }),
});
