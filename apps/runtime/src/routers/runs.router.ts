import { z } from 'zod';
import { ContactCreatedPayloadSchema, EmailReceivedPayloadSchema, EmailSentPayloadSchema, IdSchema, SwitchyardError, UserLoginPayloadSchema, NotificationActedPayloadSchema, issuesFromZod } from '@switchyard/schema';
import { authedProcedure, router } from '../trpc';
import { hostOf } from '../host/wiring';
import { sql } from '../host/db';
import { decodeTimeCursor, encodeTimeCursor } from '../host/time-cursor';
import { nodeStatesOf } from '@switchyard/actors';
import { runView, type AgentApprovalRow } from '../host/run-view';
import { LATEST_SNAPSHOT, SNAPSHOT_COLUMNS, withDeltas, type RunRow } from '../host/run-store';
import type { Context } from '../context';
import type { JsonValue } from '../agents/json';
import { templatePermissionDiagnostics } from '../templates/grants';

const PAYLOADS: Record<string, z.ZodType> = {
  'email.received': EmailReceivedPayloadSchema,
  'email.sent': EmailSentPayloadSchema,
  'contact.created': ContactCreatedPayloadSchema,
  'user.login': UserLoginPayloadSchema,
  'notification.acted': NotificationActedPayloadSchema,
};
const RUN_STATUSES = ['running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled', 'parked'] as const;
const runId = z.object({ runId: z.string().uuid() });
const decision = runId.extend({ nodeId: IdSchema.optional(), comment: z.string().max(2000).optional() });

async function loadRunView(ctx: Context & { user: { id: string } }, id: string) {
  const em = ctx.services.db.orm.em.fork();
  const row = withDeltas(await sql<RunRow & { doc_id: string }>(em,
    `select r.*, ${SNAPSHOT_COLUMNS}, f.doc_id from runs r join flows f on f.id = r.flow_id ${LATEST_SNAPSHOT} where r.id = ? and r.user_id = ?`, [id, ctx.user.id]))[0];
  if (!row) throw new SwitchyardError('NOT_FOUND', 'Run not found');
  const compiled = await hostOf(ctx.services).host.compiledFor(row.flow_id, row.flow_version).catch(() => null);
  // Proposals an agent made in one of this run's steps, waiting for a person (see agent.runSkill).
  const agentApprovals = await sql<AgentApprovalRow>(ctx.services.db.orm.em.fork(),
    `select p.id, p.agent_id, a.name as agent_name, p.node_id, p.tool, p.args, p.reason, p.created_at
       from agent_approvals p join agents a on a.id = p.agent_id
      where p.run_id = ? and p.user_id = ? and p.status = 'pending' order by p.created_at, p.id`, [id, ctx.user.id]);
  return runView(row, compiled, agentApprovals);
}

export const runsRouter = router({
  /**
   * Starts a run of the deployed version (or a saved draft with `draft: true`) with a test payload.
   * The payload is validated against the trigger's event schema.
   */
  start: authedProcedure
    .input(z.object({
      docId: IdSchema,
      triggerNodeId: IdSchema.optional(),
      payload: z.record(z.string(), z.unknown()).default({}),
      version: z.number().int().positive().optional(),
      draft: z.boolean().default(false),
    }))
    .mutation(async ({ ctx, input }) => {
      const { flows, host } = hostOf(ctx.services);
      const f = await flows.find(ctx.em, ctx.user.id, input.docId);
      // `draft` tests the latest saved version even when an older one is deployed.
      const version = input.version ?? (input.draft ? f.current_version : f.deployed_version);
      if (!version) throw new SwitchyardError('INVALID_STATE', 'Deploy the flow first, or run the saved draft');
      // A version deploy did not pass: an installed template's flow may not do more than its install was granted (issue 12).
      if (version !== f.deployed_version) {
        const ungranted = (await templatePermissionDiagnostics(ctx.em as never, ctx.user.id, await flows.exportDocument(ctx.user.id, input.docId, version))).filter((d) => d.severity === 'error');
        if (ungranted.length) throw new SwitchyardError('FORBIDDEN', ungranted[0]!.message, { issues: ungranted.map((d) => ({ path: d.path, message: d.message, code: 'permission-not-granted' })) });
      }
      const compiled = await host.compiledFor(f.id, version);
      const trigger = input.triggerNodeId
        ? compiled.triggers.find((t) => t.nodeId === input.triggerNodeId)
        : (compiled.triggers.find((t) => t.type === 'trigger.manual') ?? compiled.triggers[0]);
      if (!trigger) throw new SwitchyardError('BAD_INPUT', `"${input.triggerNodeId}" is not a trigger of this flow`, { issues: [{ path: ['triggerNodeId'], message: 'Not a trigger of this flow' }] });
      let payload: unknown = input.payload;
      const schema = trigger.listensTo ? PAYLOADS[trigger.listensTo] : undefined;
      if (schema) {
        const parsed = schema.safeParse(input.payload);
        if (!parsed.success) throw new SwitchyardError('BAD_INPUT', `The test ${trigger.listensTo} event is not valid`, { issues: issuesFromZod(parsed.error.issues).map((i) => ({ ...i, path: ['payload', ...i.path] })) });
        payload = parsed.data;
      }
      const { runId } = await host.startRun({
        userId: ctx.user.id, flowId: f.id, version, triggerNodeId: trigger.nodeId,
        trigger: { type: trigger.listensTo ?? (trigger.type === 'trigger.manual' ? 'manual' : trigger.type), eventId: null, payload },
      });
      await host.flush(runId);
      return { runId, version, triggerNodeId: trigger.nodeId };
    }),

  get: authedProcedure.input(runId).query(({ ctx, input }) => loadRunView(ctx, input.runId)),

  /**
   * Live run state over SSE: the current view first, then a new view after every persisted
   * transition, until the run ends. Updates that arrive during a read are coalesced.
   */
  watch: authedProcedure.input(runId).subscription(async function* ({ ctx, input, signal }) {
    const { host } = hostOf(ctx.services);
    let dirty = true;
    let wake: (() => void) | null = null;
    const onRun = (changed: string) => {
      if (changed !== input.runId) return;
      dirty = true;
      wake?.();
    };
    // 'changed' fires for transitions stored by this process and, on PostgreSQL, by any other (NOTIFY).
    host.updates.on('changed', onRun);
    // An agent's proposals in this run (made or decided) change the view without a transition.
    const agentEvents = ctx.services.agents?.events;
    agentEvents?.on('run', onRun);
    const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
    try {
      while (!signal?.aborted) {
        if (!dirty) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        if (signal?.aborted) break;
        dirty = false;
        const view = await loadRunView(ctx, input.runId);
        yield view;
        if (['completed', 'failed', 'skipped', 'cancelled', 'parked'].includes(view.status)) break;
      }
    } finally {
      host.updates.off('changed', onRun);
      agentEvents?.off('run', onRun);
    }
  }),

  /** Newest first, `limit` per page; pass `nextCursor` back as `cursor` for the next page (`before` still filters by time). */
  list: authedProcedure
    .input(z.object({
      docId: IdSchema.optional(),
      status: z.enum(RUN_STATUSES).optional(),
      limit: z.number().int().min(1).max(200).default(50),
      before: z.string().datetime({ offset: true }).optional(),
      cursor: z.string().max(500).optional(),
    }).default({ limit: 50 }))
    .query(async ({ ctx, input }) => {
      // A running run whose agent step waits on a person's decision is 'waiting', as in runs.get.
      const after = input.cursor === undefined ? null : decodeTimeCursor(input.cursor);
      const rows = await sql<RunRow & { doc_id: string; flow_name: string; cursor_at: string }>(ctx.em,
        `select * from (
           select r.id, r.started_at::text as cursor_at, r.flow_id, r.flow_version, r.reason, r.error, r.trigger_node_id, r.started_at, r.updated_at, r.finished_at,
                  f.doc_id, f.name as flow_name, r.trigger->>'type' as trigger_type,
                  case when r.status = 'running' and exists (select 1 from agent_approvals p where p.run_id = r.id and p.status = 'pending')
                       then 'waiting' else r.status end as status
             from runs r join flows f on f.id = r.flow_id
            where r.user_id = ? and (?::text is null or f.doc_id = ?) and (?::timestamptz is null or r.started_at < ?::timestamptz)) x
          where (?::text is null or x.status = ?)
            and (?::timestamptz is null or (x.started_at, x.id) < (?::timestamptz, ?::uuid))
          order by x.started_at desc, x.id desc limit ?`,
        [ctx.user.id, input.docId ?? null, input.docId ?? null, input.before ?? null, input.before ?? null, input.status ?? null, input.status ?? null,
          after?.at ?? null, after?.at ?? null, after?.id ?? null, input.limit + 1]);
      const end = rows.length > input.limit ? rows[input.limit - 1] : undefined;
      return {
        nextCursor: end ? encodeTimeCursor(end.cursor_at, end.id) : null,
        items: rows.slice(0, input.limit).map((r) => ({
          id: r.id, docId: r.doc_id, flowName: r.flow_name, flowVersion: r.flow_version, status: r.status, reason: r.reason, error: r.error,
          triggerType: (r as unknown as { trigger_type: string }).trigger_type,
          startedAt: new Date(r.started_at).toISOString(), finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
        })),
      };
    }),

  journal: authedProcedure
    .input(runId.extend({ afterSeq: z.number().int().nonnegative().default(0), limit: z.number().int().min(1).max(1000).default(500) }))
    .query(async ({ ctx, input }) => {
      const own = await hostOf(ctx.services).host.store.get(ctx.user.id, input.runId);
      if (!own) throw new SwitchyardError('NOT_FOUND', 'Run not found');
      const rows = await sql<{ seq: number; at: Date; kind: string; event_type: string | null; node_id: string | null; value: unknown; checkpoint: boolean; data: unknown }>(ctx.em,
        `select seq, at, kind, event_type, node_id, coalesce(value, snapshot->'value') as value, snapshot is not null as checkpoint, data
           from run_journal where run_id = ? and seq > ? order by seq limit ?`,
        [input.runId, input.afterSeq, input.limit]);
      // `state`: the active node states at that step, one entry per node whatever the machine's nesting (null without a snapshot).
      const stateOf = (value: unknown) => (value && typeof value === 'object' ? nodeStatesOf(value) : null);
      // `checkpoint`: the row holds the full snapshot; other state rows hold a delta from an earlier row.
      return { items: rows.map((r) => ({ seq: r.seq, at: new Date(r.at).toISOString(), kind: r.kind, eventType: r.event_type, nodeId: r.node_id, state: stateOf(r.value), checkpoint: r.checkpoint, data: r.data as JsonValue })) };
    }),

  cancel: authedProcedure.input(runId).mutation(async ({ ctx, input }) => {
    // Sent through a process that does not own the run, the cancel is applied by the owner shortly.
    const { forwarded } = await hostOf(ctx.services).host.cancel(ctx.user.id, input.runId);
    return { runId: input.runId, status: forwarded ? ('cancelling' as const) : ('cancelled' as const) };
  }),

  approve: authedProcedure.input(decision).mutation(({ ctx, input }) =>
    hostOf(ctx.services).host.approve(ctx.user.id, input.runId, { ...(input.nodeId ? { nodeId: input.nodeId } : {}), ...(input.comment ? { comment: input.comment } : {}), by: ctx.user.name })),

  reject: authedProcedure.input(decision).mutation(({ ctx, input }) =>
    hostOf(ctx.services).host.reject(ctx.user.id, input.runId, { ...(input.nodeId ? { nodeId: input.nodeId } : {}), ...(input.comment ? { comment: input.comment } : {}), by: ctx.user.name })),
});
