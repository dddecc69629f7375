import { z } from 'zod';
import { compile } from '@switchyard/actors';
import { FlowDocumentSchema, FlowKindSchema, IdSchema, SwitchyardError } from '@switchyard/schema';
import { authedProcedure, router } from '../trpc';
import { hostOf } from '../host/wiring';
import { agentsOf } from '../agents/wiring';
import { plansOf } from '../plans/wiring';
import { templatePermissionDiagnostics } from '../templates/grants';

const docRef = z.object({ docId: IdSchema, version: z.number().int().positive().optional() });

export const flowsRouter = router({
  /** Newest first, `limit` (default 100) per page; pass `nextCursor` back as `cursor` for the next page. */
  list: authedProcedure
    .input(z.object({
      kind: FlowKindSchema.optional(),
      search: z.string().max(200).optional(),
      limit: z.number().int().min(1).max(200).default(100),
      cursor: z.string().max(500).optional(),
    }).optional())
    .query(({ ctx, input }) => hostOf(ctx.services).flows.list(ctx.user.id, input ?? {})),

  get: authedProcedure.input(docRef).query(({ ctx, input }) => hostOf(ctx.services).flows.get(ctx.user.id, input.docId, input.version)),

  /** Saves a new version (no-op when unchanged). Graph problems are returned, not refused: drafts may be incomplete. */
  save: authedProcedure
    .input(z.object({ document: FlowDocumentSchema, expectedVersion: z.number().int().nonnegative().optional(), note: z.string().max(500).optional() }))
    .mutation(({ ctx, input }) =>
      hostOf(ctx.services).flows.save(ctx.user.id, input.document, {
        ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
        ...(input.note ? { note: input.note } : {}),
      })),

  /** Diagnostics for any document, even one that does not parse. */
  validate: authedProcedure.input(z.object({ document: z.unknown() })).mutation(async ({ ctx, input }) => (
    // A plan: the plan analyser with the caller's agents (cycles, references, agents, skills), and its install's grant.
    (input.document as { kind?: unknown } | null)?.kind === 'plan' ? { diagnostics: [...(await plansOf(ctx.services).validate(ctx.user.id, input.document)),
      ...(await templatePermissionDiagnostics(ctx.services.db.orm.em.fork() as never, ctx.user.id, input.document))] } : {
    // The compiler is pure; what depends on the caller's agents (tools, skills) is added here.
    diagnostics: [...compile(input.document).diagnostics, ...(await agentsOf(ctx.services).flowDiagnostics(ctx.user.id, input.document)),
      // A flow installed from a template may not need more than the install granted (issue 12).
      ...(await templatePermissionDiagnostics(ctx.services.db.orm.em.fork() as never, ctx.user.id, input.document))],
  })),

  compile: authedProcedure
    .input(z.union([z.object({ document: z.unknown() }), docRef]))
    .mutation(async ({ ctx, input }) => {
      const document = 'docId' in input ? await hostOf(ctx.services).flows.exportDocument(ctx.user.id, input.docId, input.version) : input.document;
      const { machine, diagnostics } = compile(document);
      return { machine, diagnostics };
    }),

  deploy: authedProcedure.input(docRef).mutation(async ({ ctx, input }) => {
    // A `Run agent skill` node whose agent lacks the skill or its tools is refused before anything is deployed.
    const document = await hostOf(ctx.services).flows.exportDocument(ctx.user.id, input.docId, input.version);
    if ((document as { kind?: unknown }).kind === 'plan') throw new SwitchyardError('INVALID_STATE', 'Plans are not deployed: run them (plans.run, or Run on the canvas)');
    const agentProblems = [...(await agentsOf(ctx.services).flowDiagnostics(ctx.user.id, document)),
      ...(await templatePermissionDiagnostics(ctx.services.db.orm.em.fork() as never, ctx.user.id, document))].filter((d) => d.severity === 'error');
    if (agentProblems.length) {
      throw new SwitchyardError('INVALID_DOCUMENT', agentProblems[0]!.message, { issues: agentProblems.map((d) => ({ path: d.path, message: d.message, code: d.code })) });
    }
    const result = await hostOf(ctx.services).flows.deploy(ctx.user.id, input.docId, input.version);
    await hostOf(ctx.services).scheduler.sync();
    return result;
  }),

  /** Starts nothing new; runs already going finish (`activeRuns` counts them). */
  undeploy: authedProcedure.input(z.object({ docId: IdSchema })).mutation(async ({ ctx, input }) => {
    const result = await hostOf(ctx.services).flows.undeploy(ctx.user.id, input.docId);
    await hostOf(ctx.services).scheduler.sync();
    return result;
  }),

  /** Deletes the flow and cancels its active runs (journaled like runs.cancel); the id can be reused. */
  delete: authedProcedure.input(z.object({ docId: IdSchema })).mutation(async ({ ctx, input }) => {
    const { flows, host, scheduler } = hostOf(ctx.services);
    // The runs are this flow's (the caller's): a behavior for everyone has one per user, each cancelled as its user's.
    const result = await flows.remove(ctx.user.id, input.docId, (runId, runUserId) => host.cancel(runUserId, runId));
    await scheduler.sync();
    return result;
  }),

  /** A new signing secret for a webhook trigger (its URL stays); returned once, here. */
  rotateWebhookSecret: authedProcedure
    .input(z.object({ docId: IdSchema, nodeId: IdSchema }))
    .mutation(({ ctx, input }) => hostOf(ctx.services).flows.rotateWebhookSecret(ctx.user.id, input.docId, input.nodeId)),

  /** Newest first, `limit` (default 100) per page; `nextCursor` continues with older versions. */
  versions: authedProcedure
    .input(z.object({ docId: IdSchema, limit: z.number().int().min(1).max(200).default(100), cursor: z.string().max(100).optional() }))
    .query(({ ctx, input }) => hostOf(ctx.services).flows.versions(ctx.user.id, input.docId, input)),

  export: authedProcedure.input(docRef).query(async ({ ctx, input }) => ({ document: await hostOf(ctx.services).flows.exportDocument(ctx.user.id, input.docId, input.version) })),

  /** Imports a document; an existing id is a CONFLICT unless `replace` saves it as a new version. */
  import: authedProcedure
    .input(z.object({ document: FlowDocumentSchema, replace: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => hostOf(ctx.services).flows.save(ctx.user.id, input.document, { createOnly: !input.replace, note: 'Imported' })),
});
