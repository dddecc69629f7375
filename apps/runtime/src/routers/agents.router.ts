import { z } from 'zod';
import { AgentCreateSchema, AgentIdSchema, AgentUpdateSchema, FEEDBACK_TYPES, SkillIdSchema } from '@switchyard/schema';
import type { AgentLive } from '../agents/agents.service';
import { agentsOf } from '../agents/wiring';
import { authedProcedure, router } from '../trpc';

const ById = z.object({ id: AgentIdSchema });
const MemoryKey = z.string().trim().min(1).max(200);
/** Cursor paging as in `flows.list`: `nextCursor` of one page is the `cursor` of the next. */
const Page = z.object({ limit: z.number().int().min(1).max(200).default(100), cursor: z.string().max(500).optional() });

/** `agents.*`: every call is scoped to the signed-in user; another user's agent is NOT_FOUND. */
export const agentsRouter = router({
  /** Oldest first, `limit` (default 100) per page; pass `nextCursor` back as `cursor` for the next page. */
  list: authedProcedure
    .input(Page.optional())
    .query(({ ctx, input }) => agentsOf(ctx.services).listPage(ctx.user.id, input ?? {})),
  get: authedProcedure.input(ById).query(({ ctx, input }) => agentsOf(ctx.services).get(ctx.user.id, input.id)),
  create: authedProcedure.input(AgentCreateSchema).mutation(({ ctx, input }) => agentsOf(ctx.services).create(ctx.user.id, input)),
  update: authedProcedure.input(AgentUpdateSchema).mutation(({ ctx, input }) => agentsOf(ctx.services).update(ctx.user.id, input)),
  delete: authedProcedure.input(ById).mutation(({ ctx, input }) => agentsOf(ctx.services).remove(ctx.user.id, input.id)),
  /**
   * The memory inspector: the first `limit` (default 200) entries in key order with their expiry
   * (`entriesNextCursor` continues them with `memoryEntries`), interactions, the active conversation,
   * pending approvals.
   */
  memory: authedProcedure
    .input(ById.extend({
      prefix: z.string().max(200).optional(), entityType: z.string().max(50).optional(), entityId: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(200).default(200),
    }))
    .query(({ ctx, input }) => agentsOf(ctx.services).memoryView(ctx.user.id, input.id, input)),
  /** An agent's live memory entries in key order, `limit` (default 100) per page; `nextCursor` continues. */
  memoryEntries: authedProcedure
    .input(ById.extend({ prefix: z.string().max(200).optional() }).merge(Page))
    .query(({ ctx, input }) => agentsOf(ctx.services).memoryEntries(ctx.user.id, input.id, input)),
  remember: authedProcedure
    .input(ById.extend({ key: MemoryKey, value: z.unknown(), ttlSeconds: z.number().int().positive().max(31_536_000).optional() }))
    .mutation(({ ctx, input }) => agentsOf(ctx.services).remember(ctx.user.id, input.id, input.key, input.value, input.ttlSeconds)),
  recall: authedProcedure.input(ById.extend({ key: MemoryKey })).query(({ ctx, input }) => agentsOf(ctx.services).recall(ctx.user.id, input.id, input.key)),
  forget: authedProcedure.input(ById.extend({ key: MemoryKey })).mutation(({ ctx, input }) => agentsOf(ctx.services).forget(ctx.user.id, input.id, input.key)),
  /** Personality feedback ("too-formal", "too-long", ...): moves the traits by 0.1 each, clamped, persisted. */
  feedback: authedProcedure
    .input(ById.extend({
      feedback: z.union([z.enum(FEEDBACK_TYPES), z.array(z.enum(FEEDBACK_TYPES)).min(1).max(20)]),
      comment: z.string().max(2000).default(''),
      /** The answer the feedback is about (a chat message id); recorded on the message. */
      messageId: z.number().int().positive().optional(),
    }))
    .mutation(({ ctx, input }) => agentsOf(ctx.services).feedback(ctx.user.id, input.id, Array.isArray(input.feedback) ? input.feedback : [input.feedback], input.comment, input.messageId)),
  /** One chat turn. `retryOf`: a failed question (status `failed`) this message asks again; it is then hidden. */
  chat: authedProcedure
    .input(ById.extend({ message: z.string().trim().min(1, 'Say something').max(10_000), retryOf: z.number().int().positive().optional() }))
    .mutation(({ ctx, input }) => agentsOf(ctx.services).chat(ctx.user.id, input.id, input.message, input.retryOf)),
  /** Decide on an effect the agent proposed after reading untrusted content (see `memory.approvals`). */
  approve: authedProcedure
    .input(ById.extend({ approvalId: z.string().max(100), comment: z.string().max(2000).default('') }))
    .mutation(({ ctx, input }) => agentsOf(ctx.services).decide(ctx.user.id, input.id, input.approvalId, 'approve', input.comment)),
  reject: authedProcedure
    .input(ById.extend({ approvalId: z.string().max(100), comment: z.string().max(2000).default('') }))
    .mutation(({ ctx, input }) => agentsOf(ctx.services).decide(ctx.user.id, input.id, input.approvalId, 'reject', input.comment)),
  /**
   * Live agent state over SSE: first the current state of the agent (or of every agent of the
   * user), then one event per change (state, pending approvals, queue). Bursts are coalesced per agent.
   */
  watch: authedProcedure.input(z.object({ id: AgentIdSchema.optional() }).prefault({})).subscription(async function* ({ ctx, input, signal }) {
    const agents = agentsOf(ctx.services);
    const pending = new Map<string, AgentLive>();
    let wake: (() => void) | null = null;
    const onAgent = (live: AgentLive) => {
      if (live.userId !== ctx.user.id || (input.id && live.id !== input.id)) return;
      pending.set(live.id, live);
      wake?.();
    };
    agents.events.on('agent', onAgent);
    // The stream ends when the client goes away or the runtime stops.
    let stopping = false;
    const onStop = () => {
      stopping = true;
      wake?.();
    };
    agents.events.once('stop', onStop);
    const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    const visible = ({ userId: _u, ...live }: AgentLive) => live;
    try {
      const initial = await agents.live(ctx.user.id, input.id);
      for (const live of initial) if (!pending.has(live.id)) yield visible(live);
      while (!signal?.aborted && !stopping) {
        if (!pending.size) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        wake = null;
        if (stopping) break;
        const batch = [...pending.values()];
        pending.clear();
        for (const live of batch) yield visible(live);
      }
    } finally {
      agents.events.off('agent', onAgent);
      agents.events.off('stop', onStop);
    }
  }),
  /** Runs one of the agent's skills now, through its mailbox (what an `agent.runSkill` node does in a workflow). */
  runSkill: authedProcedure
    .input(ById.extend({ skill: SkillIdSchema, params: z.record(z.string(), z.unknown()).default({}), grantEffects: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => agentsOf(ctx.services).runSkill(ctx.user.id, input.id, input.skill, input.params, { grantEffects: input.grantEffects })),
});
