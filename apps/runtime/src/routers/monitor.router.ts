import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { IdSchema, SwitchyardError } from '@switchyard/schema';
import { authedProcedure, router } from '../trpc';
import { hostOf } from '../host/wiring';
import { sql } from '../host/db';
import type { Context } from '../context';
import type { AgentsService } from '../agents/agents.service';
import { listActors, type ActorFilters } from '../monitor/actors';
import { runHistory, runTimeline } from '../monitor/history';
import { replayRun } from '../monitor/replay';
import { ProbeLimiter, probeCoherence } from '../monitor/coherence';
import { operationalMetrics } from '../monitor/operational';
import { DEFAULT_MINUTES, estimatesOf, successMetrics } from '../monitor/success';

const RUN_STATUSES = ['running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled', 'parked'] as const;
const AGENT_STATUSES = ['idle', 'working', 'waiting_approval', 'error'] as const;
const FLOW_KINDS = ['workflow', 'behavior', 'plan'] as const;
const Cursor = z.string().max(500);
/** An ISO instant the database can store: PostgreSQL has no year 0 and JavaScript dates end in 275760. */
const Instant = z.string().datetime({ offset: true }).refine((v) => {
  const year = new Date(v).getUTCFullYear();
  return year >= 1970 && year <= 9999;
}, 'Between 1970 and 9999');

const ActorsInput = z.object({
  kind: z.enum(['run', 'agent', 'plan']).optional(),
  status: z.enum(['running', 'waiting', ...AGENT_STATUSES]).optional(),
  docId: IdSchema.optional(),
  flowKind: z.enum(FLOW_KINDS).optional(),
  owner: z.string().max(200).optional(),
  waitsOn: z.enum(['delay', 'approval', 'agent', 'step']).optional(),
  q: z.string().trim().max(200).optional(),
  limit: z.number().int().min(1).max(500).default(100),
  cursor: Cursor.optional(),
}).prefault({});

const PeriodInput = z.object({
  from: Instant.optional(),
  to: Instant.optional(),
  /** IANA time zone for daily buckets (default UTC). */
  timeZone: z.string().max(64).regex(/^[A-Za-z0-9_+\-/]+$/, 'An IANA time zone such as Europe/Paris').default('UTC'),
}).prefault({});

type Authed = Context & { user: { id: string; name: string } };
const emOf = (ctx: Authed) => ctx.services.db.orm.em.fork() as unknown as EntityManager;
const nowOf = (ctx: Authed) => ctx.services.clock.now();

/** The memory probe's limiter of each runtime (keyed by its services: tests run several runtimes in one process). */
const limiters = new WeakMap<object, ProbeLimiter>();
function limiterOf(ctx: Authed): ProbeLimiter {
  let limiter = limiters.get(ctx.services);
  if (!limiter) limiters.set(ctx.services, (limiter = new ProbeLimiter()));
  return limiter;
}

function actorsOf(ctx: Authed, f: ActorFilters) {
  const { host } = hostOf(ctx.services);
  return listActors({ em: emOf(ctx), now: nowOf(ctx), compiledFor: (id, v) => host.compiledFor(id, v) }, ctx.user.id, f);
}

/** A time range given with both ends must end after it starts. */
function checkOrder(from: string | undefined, to: string | undefined) {
  if (from !== undefined && to !== undefined && !(new Date(to).getTime() > new Date(from).getTime())) {
    throw new SwitchyardError('BAD_INPUT', 'The period ends before it starts', { issues: [{ path: ['to'], message: 'Must be after from' }] });
  }
}

/**
 * A period (default: the 30 days up to now), checked to be in order, at most a year long, and in a
 * time zone both the browser's data and the database's know.
 */
async function periodOf(ctx: Authed, em: EntityManager, input: z.infer<typeof PeriodInput>) {
  const to = input.to ?? new Date(nowOf(ctx)).toISOString();
  const from = input.from ?? new Date(new Date(to).getTime() - 30 * 86_400_000).toISOString();
  checkOrder(from, to);
  if (new Date(to).getTime() - new Date(from).getTime() > 366 * 86_400_000) {
    throw new SwitchyardError('BAD_INPUT', 'A period is at most a year long', { issues: [{ path: ['from'], message: 'At most a year before to' }] });
  }
  const unknownZone = () => new SwitchyardError('BAD_INPUT', `Unknown time zone "${input.timeZone}"`, { issues: [{ path: ['timeZone'], message: 'Unknown time zone' }] });
  try {
    // Accepts every IANA name and alias a browser may report (e.g. Asia/Calcutta), as PostgreSQL does.
    new Intl.DateTimeFormat('en', { timeZone: input.timeZone });
  } catch {
    throw unknownZone();
  }
  // The database buckets the days: a name its own zone data lacks (e.g. US/Pacific-New, dropped
  // from tzdata in 2020) would fail every query below.
  if (input.timeZone !== 'UTC') await sql(em, 'select now() at time zone ? as t', [input.timeZone]).catch(() => {
    throw unknownZone();
  });
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), timeZone: input.timeZone };
}

/** `monitor.*`: the runtime monitoring view. Everything is read from the database, so any process answers for all of them. */
export const monitorRouter = router({
  /**
   * Live actors of the user across every runtime process: active runs (what each waits on, its
   * owner process and lease, queued commands, age, last error) and agents (status, current
   * request, mailbox depth). Agents come on the first page; runs are paged, newest first.
   */
  actors: authedProcedure.input(ActorsInput).query(({ ctx, input }) => actorsOf(ctx, input)),

  /**
   * The same page, live over SSE: sent first, then again whenever a run changes in any process
   * (NOTIFY), an agent's state changes here, or at least every few seconds (agents in other
   * processes, time passing), only when something differs. Bursts are coalesced.
   */
  live: authedProcedure.input(ActorsInput).subscription(async function* ({ ctx, input, signal }) {
    const { host } = hostOf(ctx.services);
    const agentEvents = (ctx.services.agents as AgentsService | undefined)?.events;
    let dirty = true;
    let wake: (() => void) | null = null;
    const poke = () => {
      dirty = true;
      wake?.();
    };
    host.updates.on('changed', poke);
    agentEvents?.on('agent', poke);
    agentEvents?.on('run', poke);
    let stopping = false;
    const onStop = () => {
      stopping = true;
      wake?.();
    };
    agentEvents?.once('stop', onStop);
    const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    let last = '';
    try {
      while (!signal?.aborted && !stopping) {
        if (!dirty) {
          await Promise.race([
            new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, 3000).unref?.();
            }),
            aborted,
          ]);
          wake = null;
        }
        if (signal?.aborted || stopping) break;
        dirty = false;
        const page = await actorsOf(ctx, input);
        // `at` and ages change every time: compare the rest.
        const key = JSON.stringify(page.items.map((a) => ({ ...a, ageMs: 0 })).concat(page.processes as never[]));
        if (key !== last) {
          last = key;
          yield page;
        }
        // At most a few pages a second, whatever the rate of changes.
        await Promise.race([new Promise((r) => setTimeout(r, 250)), aborted]);
      }
    } finally {
      host.updates.off('changed', poke);
      agentEvents?.off('agent', poke);
      agentEvents?.off('run', poke);
      agentEvents?.off('stop', onStop);
    }
  }),

  /** Run history: every run of the user with filters, newest first; pass `nextCursor` back as `cursor`. */
  runs: authedProcedure
    .input(z.object({
      docId: IdSchema.optional(),
      flowKind: z.enum(FLOW_KINDS).optional(),
      status: z.enum(RUN_STATUSES).optional(),
      trigger: z.string().max(100).optional(),
      from: Instant.optional(),
      to: Instant.optional(),
      limit: z.number().int().min(1).max(200).default(50),
      cursor: Cursor.optional(),
    }).prefault({}))
    .query(({ ctx, input }) => {
      checkOrder(input.from, input.to);
      return runHistory(emOf(ctx), ctx.user.id, input);
    }),

  /** One run's timeline: node activations with start, end, attempts, waits, input, output, error, effects and model calls. */
  run: authedProcedure.input(z.object({ runId: z.string().uuid() })).query(({ ctx, input }) => {
    const { host } = hostOf(ctx.services);
    return runTimeline(emOf(ctx), ctx.user.id, input.runId, (id, v) => host.compiledFor(id, v));
  }),

  /**
   * Re-runs a finished workflow run from one of its steps: the steps that had finished before it
   * started keep their recorded results (no model call, no effect again); the chosen step and what
   * follows run anew on the same flow version. The new run points at the old one (`replayOf`).
   */
  replay: authedProcedure
    .input(z.object({ runId: z.string().uuid(), fromNodeId: IdSchema }))
    .mutation(({ ctx, input }) => {
      const { host } = hostOf(ctx.services);
      return replayRun({ em: emOf(ctx), host, compiledFor: (id, v) => host.compiledFor(id, v) }, ctx.user.id, input);
    }),

  /** Operational figures and the seed's success metrics over a period (default the last 30 days). */
  metrics: authedProcedure.input(PeriodInput).query(async ({ ctx, input }) => {
    const em = emOf(ctx);
    const period = await periodOf(ctx, em, input);
    return { ...(await operationalMetrics(em, ctx.user.id, period)), success: await successMetrics(em, ctx.user.id, period), period };
  }),

  /**
   * Runs the memory probe now (coherence across sessions): for one agent or all of yours, up to
   * `factsPerAgent` facts stored before it, each asked in a new session and checked against memory.
   */
  probeCoherence: authedProcedure
    .input(z.object({ agentId: z.string().uuid().optional(), factsPerAgent: z.number().int().min(1).max(20).default(5) }).prefault({}))
    .mutation(({ ctx, input }) => {
      const agents = ctx.services.agents as AgentsService | undefined;
      if (!agents) throw new SwitchyardError('INTERNAL', 'Agents are not running in this runtime');
      // One at a time per user, a minute apart (each probe may ask the model up to 100 questions).
      return limiterOf(ctx).run(ctx.user.id, nowOf(ctx), () => probeCoherence({ em: () => emOf(ctx), agents, now: () => nowOf(ctx) }, ctx.user.id, input));
    }),

  /** The stored memory probes, newest first (question, answer, verdict): the coherence figure's audit trail. */
  coherenceProbes: authedProcedure
    .input(z.object({ agentId: z.string().uuid().optional(), limit: z.number().int().min(1).max(200).default(50) }).prefault({}))
    .query(async ({ ctx, input }) => {
      const rows = await sql<{ id: string; agent_id: string; name: string | null; fact_key: string; expected: unknown; question: string; answer: string; consistent: boolean; model: string; at: Date }>(emOf(ctx),
        `select c.id, c.agent_id, a.name, c.fact_key, c.expected, c.question, c.answer, c.consistent, c.model, c.at
           from coherence_probes c left join agents a on a.id = c.agent_id
          where c.user_id = ? and (?::uuid is null or c.agent_id = ?::uuid) order by c.at desc, c.id limit ?`,
        [ctx.user.id, input.agentId ?? null, input.agentId ?? null, input.limit]);
      return rows.map((r) => ({
        id: r.id, agentId: r.agent_id, agentName: r.name ?? 'Deleted agent', key: r.fact_key, expected: r.expected, question: r.question,
        answer: r.answer, consistent: r.consistent, model: r.model, at: new Date(r.at).toISOString(),
      }));
    }),

  /** Minutes saved per successful step, by node kind: built-in defaults, the user's own, and per flow. */
  estimates: authedProcedure.query(({ ctx }) => estimatesOf(emOf(ctx), ctx.user.id)),

  /** Sets (or with `minutes: null` removes) an estimate: for every flow (no `docId`) or for one flow. */
  setEstimate: authedProcedure
    .input(z.object({
      docId: IdSchema.optional(),
      nodeType: z.enum(Object.keys(DEFAULT_MINUTES) as [string, ...string[]]),
      minutes: z.number().min(0).max(1440).nullable(),
    }))
    .mutation(async ({ ctx, input }) => {
      const em = emOf(ctx);
      if (input.docId) {
        const [flow] = await sql(em, 'select 1 as x from flows where user_id = ? and doc_id = ? limit 1', [ctx.user.id, input.docId]);
        if (!flow) throw new SwitchyardError('NOT_FOUND', 'Flow not found');
      }
      if (input.minutes === null) {
        await sql(em, 'delete from time_saved_estimates where user_id = ? and doc_id = ? and node_type = ?', [ctx.user.id, input.docId ?? '', input.nodeType]);
      } else {
        await sql(em,
          `insert into time_saved_estimates (user_id, doc_id, node_type, minutes, updated_at) values (?, ?, ?, ?, now())
           on conflict (user_id, doc_id, node_type) do update set minutes = excluded.minutes, updated_at = excluded.updated_at`,
          [ctx.user.id, input.docId ?? '', input.nodeType, input.minutes]);
      }
      return estimatesOf(em, ctx.user.id);
    }),
});
