import { assign, fromPromise, setup, type AnyActorLogic, type AnyEventObject } from 'xstate';
import { MAX_PLAN_BACKOFF_MS, type PlanOutcome, type PlanRunStatus, type PlanStepStatus } from '@switchyard/schema';
import { renderParams } from '../expression';
import type { PlanSpec, PlanStepSpec } from './analyze';

/** A step as the machine (and the journal) sees it. */
export interface PlanStepState {
  status: PlanStepStatus;
  /** The attempt running, or the last one made (0-based). */
  attempt: number;
  output?: unknown;
  error?: string;
}

export interface PlanContext {
  steps: Record<string, PlanStepState>;
  /** Set when a critical step failed or the plan was cancelled: nothing new starts, running steps stop. */
  halted: null | { reason: 'critical'; step: string } | { reason: 'cancelled' };
  /** Read by step params as `{{ context.* }}`: the task's context. */
  input: Record<string, unknown>;
}

/** What a step asks of the outside world: the runtime sends it to the agent's mailbox. */
export interface PlanStepRequest {
  name: string;
  nodeId: string;
  skill: string;
  agent: string;
  /** Params with the `{{ steps.<name>.output... }}` references of upstream results rendered. */
  params: Record<string, unknown>;
  attempt: number;
}

/** The port a plan machine needs; the runtime supplies agent dispatch, tests a fake. */
export interface PlanPort {
  runStep(req: PlanStepRequest, signal: AbortSignal): Promise<unknown>;
}

export interface PlanMachineInput {
  /** Steps already settled (a restored run): done steps keep their output and are not run again. */
  restored?: Record<string, PlanStepState>;
  context?: Record<string, unknown>;
}

const SETTLED: readonly PlanStepStatus[] = ['done', 'failed', 'skipped', 'cancelled'];
/** Settled without a result: the steps that depend on it are skipped. */
const UNFINISHED: ReadonlySet<PlanStepStatus> = new Set(['failed', 'skipped', 'cancelled']);

/** Renders a step's params against the results of the steps before it. */
export function resolveStepParams(step: PlanStepSpec, ctx: Pick<PlanContext, 'steps' | 'input'>): Record<string, unknown> {
  const steps: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(ctx.steps)) steps[name] = { status: s.status, output: s.output ?? null };
  return renderParams(step.params, { steps, context: ctx.input });
}

/**
 * Why a step's params cannot be rendered against the run so far (`Its params could not be read: …`),
 * or null. A few expressions are refused only once computed (a key such as `lower("__PROTO__")`);
 * the machine checks before a step starts, so that step fails instead of the whole machine.
 */
export function stepParamsProblem(step: PlanStepSpec, ctx: Pick<PlanContext, 'steps' | 'input'>): string | null {
  try {
    resolveStepParams(step, ctx);
    return null;
  } catch (e) {
    return `Its params could not be read: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * The delay before attempt `attempt` (1-based retries): backoff * factor^(attempt-1), at most
 * `MAX_PLAN_BACKOFF_MS` (a longer timer fires at once). The analyser refuses a plan that would wait
 * longer; the cap holds for runs stored before that rule.
 */
export const backoffDelay = (step: PlanStepSpec, attempt: number) =>
  Math.min(MAX_PLAN_BACKOFF_MS, Math.round(step.retry.backoffMs * step.retry.factor ** Math.max(0, attempt - 1)));

const message = (e: unknown) => (e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e));

/** The plan's outcome from the final context (the seed's `{ status, results, errors }`; duration and summary by the runtime). */
export function planOutcome(spec: PlanSpec, ctx: PlanContext): Omit<PlanOutcome, 'duration' | 'summary'> {
  const results: Record<string, unknown> = {};
  const errors: PlanOutcome['errors'] = [];
  let failed = false;
  for (const step of spec.steps) {
    const s = ctx.steps[step.name]!;
    if (s.status === 'done') results[step.name] = s.output ?? null;
    if (s.status === 'failed') errors.push({ step: step.name, message: s.error ?? 'failed', critical: step.critical });
    if (step.critical && s.status !== 'done') failed = true;
  }
  const status: PlanRunStatus = ctx.halted?.reason === 'cancelled' ? 'cancelled' : failed ? 'failed' : 'success';
  return { status, results, errors };
}

/**
 * Compiles a plan into an XState machine: one parallel region per step. A region waits until every
 * step it depends on is done (all ready steps run at once), runs the step as the invoked `runStep`
 * actor with a timeout per attempt, retries with backoff, and settles as done, failed, skipped or
 * cancelled. A critical failure halts the plan: running steps are cancelled (their invoked actor is
 * stopped, its signal aborted) and waiting ones skipped. A non-critical failure skips only the
 * steps downstream of it. `{ type: 'cancel' }` halts the plan the same way.
 *
 * Failures are data: the machine always reaches its final state; its output is `planOutcome`.
 */
export function createPlanMachine(spec: PlanSpec) {
  const delays: Record<string, (a: { context: PlanContext }) => number> = {};
  const regions: Record<string, unknown> = {};
  for (const step of spec.steps) {
    const n = step.name;
    const me = (c: PlanContext) => c.steps[n]!;
    const set = (patch: Partial<PlanStepState>) => assign(({ context }: { context: PlanContext }) => ({ steps: { ...context.steps, [n]: { ...context.steps[n]!, ...patch } } }));
    const canRetry = ({ context }: { context: PlanContext }) => me(context).attempt + 1 < step.retry.maxAttempts;
    const failWith = (error: (context: PlanContext, event: AnyEventObject) => string) => assign(({ context, event }: { context: PlanContext; event: AnyEventObject }) => ({
      steps: { ...context.steps, [n]: { ...context.steps[n]!, status: 'failed' as const, error: error(context, event) } },
      halted: step.critical && !context.halted ? { reason: 'critical' as const, step: n } : context.halted,
    }));
    const failNow = (error: (e: unknown) => string) => failWith((_, event) => error((event as { error?: unknown }).error));
    // Params that cannot be read fail this step like any failure (critical or not), before it starts.
    const unreadable = ({ context }: { context: PlanContext }) => stepParamsProblem(step, context) !== null;
    const failUnreadable = failWith((context) => stepParamsProblem(step, context)!);
    const retryLater = (error: (e: unknown) => string) => assign(({ context, event }: { context: PlanContext; event: AnyEventObject }) => ({
      steps: { ...context.steps, [n]: { ...context.steps[n]!, status: 'pending' as const, error: error((event as { error?: unknown }).error), attempt: context.steps[n]!.attempt + 1 } },
    }));
    const timedOut = () => `Timed out after ${step.timeoutMs} ms`;
    delays[`backoff:${n}`] = ({ context }) => backoffDelay(step, me(context).attempt);
    delays[`timeout:${n}`] = () => step.timeoutMs;
    const halted = ({ context }: { context: PlanContext }) => context.halted !== null;
    const ready = (context: PlanContext) => step.dependsOn.every((d) => context.steps[d]!.status === 'done');
    regions[n] = {
      initial: 'waiting',
      states: {
        waiting: {
          always: [
            { guard: ({ context }: { context: PlanContext }) => me(context).status === 'done', target: 'done' },
            { guard: ({ context }: { context: PlanContext }) => me(context).status === 'failed', target: 'failed' },
            { guard: ({ context }: { context: PlanContext }) => me(context).status === 'skipped', target: 'skipped' },
            { guard: ({ context }: { context: PlanContext }) => me(context).status === 'cancelled', target: 'cancelled' },
            { guard: halted, target: 'skipped', actions: set({ status: 'skipped', error: 'The plan stopped before this step' }) },
            {
              guard: ({ context }: { context: PlanContext }) => step.dependsOn.some((d) => UNFINISHED.has(context.steps[d]!.status)),
              target: 'skipped',
              actions: assign(({ context }: { context: PlanContext }) => ({
                steps: { ...context.steps, [n]: { ...context.steps[n]!, status: 'skipped' as const, error: `Skipped: ${step.dependsOn.filter((d) => context.steps[d]!.status !== 'done').join(', ')} did not finish` } },
              })),
            },
            { guard: ({ context }: { context: PlanContext }) => ready(context) && unreadable({ context }), target: 'failed', actions: failUnreadable },
            { guard: ({ context }: { context: PlanContext }) => ready(context), target: 'running' },
          ],
        },
        running: {
          entry: set({ status: 'running' }),
          always: { guard: halted, target: 'cancelled', actions: set({ status: 'cancelled', error: 'Cancelled: the plan stopped' }) },
          invoke: {
            src: 'runStep',
            input: ({ context }: { context: PlanContext }): PlanStepRequest => ({
              name: n, nodeId: step.nodeId, skill: step.skill, agent: step.agent, params: resolveStepParams(step, context), attempt: me(context).attempt,
            }),
            onDone: { target: 'done', actions: assign(({ context, event }: { context: PlanContext; event: AnyEventObject }) => ({
              steps: { ...context.steps, [n]: { status: 'done' as const, attempt: context.steps[n]!.attempt, output: (event as { output?: unknown }).output } },
            })) },
            onError: [
              { guard: canRetry, target: 'backoff', actions: retryLater(message) },
              { target: 'failed', actions: failNow(message) },
            ],
          },
          after: {
            [`timeout:${n}`]: [
              { guard: canRetry, target: 'backoff', actions: retryLater(timedOut) },
              { target: 'failed', actions: failNow(timedOut) },
            ],
          },
        },
        backoff: {
          always: { guard: halted, target: 'cancelled', actions: set({ status: 'cancelled', error: 'Cancelled: the plan stopped' }) },
          after: { [`backoff:${n}`]: [{ guard: unreadable, target: 'failed', actions: failUnreadable }, { target: 'running' }] },
        },
        done: { type: 'final' },
        failed: { type: 'final' },
        skipped: { type: 'final' },
        cancelled: { type: 'final' },
      },
    };
  }

  const initial = (input: PlanMachineInput | undefined): PlanContext => ({
    halted: null,
    input: input?.context ?? {},
    steps: Object.fromEntries(spec.steps.map((s) => {
      const r = input?.restored?.[s.name];
      // A step that was running when the process stopped runs the same attempt again: its request
      // key finds the agent's stored result (or the request still in its mailbox).
      return [s.name, r && SETTLED.includes(r.status) ? r : { status: 'pending' as const, attempt: r?.attempt ?? 0 }];
    })),
  });

  return setup({
    types: {} as { context: PlanContext; input: PlanMachineInput | undefined; events: { type: 'cancel' }; output: Omit<PlanOutcome, 'duration' | 'summary'> },
    actors: {
      // Bound by the runtime (`machine.provide`, or `planStepActor`); unbound it fails every step.
      runStep: fromPromise<unknown, PlanStepRequest>(async () => {
        throw new Error('No runStep implementation was provided');
      }) as AnyActorLogic,
    },
    delays,
  }).createMachine({
    id: `plan:${spec.docId}`,
    context: ({ input }) => initial(input),
    initial: 'booting',
    on: { cancel: { actions: assign(({ context }) => ({ halted: context.halted ?? { reason: 'cancelled' as const } })) } },
    states: {
      // Entered by a transition, not as the machine's initial state: XState enters an initial
      // parallel state by walking every region for every initial state (cubic in the steps), a
      // transition into it walks each region once. Left in the first macrostep, never in a snapshot.
      booting: { always: 'active' },
      // A config built from data: the regions are typed loosely here, checked by the unit tests.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      active: { type: 'parallel', states: regions as any, onDone: 'finished' },
      finished: { type: 'final' },
    },
    output: ({ context }) => planOutcome(spec, context),
  });
}
export type PlanMachine = ReturnType<typeof createPlanMachine>;

/** Binds a port to a plan machine's `runStep`: each step's work is a promise actor the runtime implements. */
export const planStepActor = (port: PlanPort) => fromPromise<unknown, PlanStepRequest>(({ input, signal }) => port.runStep(input, signal));

/** Status of every step in a snapshot's context, for journals and live views. */
export const stepStatuses = (ctx: PlanContext): Record<string, PlanStepStatus> =>
  Object.fromEntries(Object.entries(ctx.steps).map(([k, v]) => [k, v.status]));
