import { z } from 'zod';
import { IdSchema, PermissionSchema, SemverSchema, TEMPLATE_CATEGORIES } from '@switchyard/schema';
import { authedProcedure, router } from '../trpc';
import { TEMPLATE_SORTS } from '../templates/templates.service';
import { templatesOf } from '../templates/wiring';

const InstallId = z.string().uuid();
const Permissions = z.array(PermissionSchema).max(50);
const Variables = z.record(z.string().max(64), z.unknown());

/**
 * `templates.*`, the marketplace: every user sees built-in and published templates; installs,
 * ratings and unpublished templates are per user (another user's install id is NOT_FOUND).
 */
export const templatesRouter = router({
  /** Text search (name, tags, description; exact name first), filters, sort, `nextCursor` paging. */
  search: authedProcedure
    .input(z.object({
      query: z.string().max(200).optional(),
      category: z.enum(TEMPLATE_CATEGORIES).optional(),
      minRating: z.number().min(0).max(5).optional(),
      /** Only templates that need no more than these permissions. */
      permissions: Permissions.optional(),
      sort: z.enum(TEMPLATE_SORTS).optional(),
      /** Only the caller's own published (or unpublished) templates. */
      mine: z.boolean().optional(),
      limit: z.number().int().min(1).max(100).default(24),
      cursor: z.string().max(500).optional(),
    }).prefault({}))
    .query(({ ctx, input }) => templatesOf(ctx.services).search(ctx.user.id, input)),

  get: authedProcedure.input(z.object({ id: IdSchema })).query(({ ctx, input }) => templatesOf(ctx.services).get(ctx.user.id, input.id)),

  /** All or nothing: agents and flows in one transaction; `acceptPermissions` must cover the template's. */
  install: authedProcedure
    .input(z.object({
      id: IdSchema,
      version: SemverSchema.optional(),
      name: z.string().trim().max(100).optional(),
      variables: Variables.default({}),
      acceptPermissions: Permissions,
      deploy: z.boolean().default(false),
    }))
    .mutation(({ ctx, input }) => templatesOf(ctx.services).install(ctx.user.id, input)),

  installed: authedProcedure
    .input(z.object({ templateId: IdSchema.optional() }).prefault({}))
    .query(({ ctx, input }) => templatesOf(ctx.services).installed(ctx.user.id, input)),

  /** `dryRun` returns the diff and conflicts only; a rise in permissions needs `acceptPermissions`. */
  upgrade: authedProcedure
    .input(z.object({
      installId: InstallId,
      version: SemverSchema.optional(),
      variables: Variables.optional(),
      acceptPermissions: Permissions.optional(),
      dryRun: z.boolean().default(false),
    }))
    .mutation(({ ctx, input }) => templatesOf(ctx.services).upgrade(ctx.user.id, input)),

  /** More permissions for an install (an edited flow that needs them may then deploy). */
  grant: authedProcedure
    .input(z.object({ installId: InstallId, permissions: Permissions.min(1) }))
    .mutation(({ ctx, input }) => templatesOf(ctx.services).grant(ctx.user.id, input)),

  uninstall: authedProcedure.input(z.object({ installId: InstallId })).mutation(({ ctx, input }) => templatesOf(ctx.services).uninstall(ctx.user.id, input)),

  /** A bundle as JSON, or one made from the caller's own flows and agents. */
  publish: authedProcedure
    .input(z.union([
      z.object({ bundle: z.unknown() }),
      z.object({
        id: IdSchema,
        name: z.string().trim().min(1).max(200),
        description: z.string().max(2000).optional(),
        category: z.enum(TEMPLATE_CATEGORIES),
        tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
        author: z.string().trim().min(1).max(100).optional(),
        version: SemverSchema,
        changelog: z.string().max(5000).optional(),
        docs: z.string().max(50_000).optional(),
        flows: z.array(IdSchema).max(20).default([]),
        agents: z.array(z.string().uuid()).max(10).default([]),
      }),
    ]))
    .mutation(({ ctx, input }) => templatesOf(ctx.services).publish(ctx.user.id, input)),

  unpublish: authedProcedure.input(z.object({ id: IdSchema })).mutation(({ ctx, input }) => templatesOf(ctx.services).unpublish(ctx.user.id, input)),

  rate: authedProcedure
    .input(z.object({ id: IdSchema, stars: z.number().int().min(1).max(5), review: z.string().trim().max(5000).optional() }))
    .mutation(({ ctx, input }) => templatesOf(ctx.services).rate(ctx.user.id, input)),
});
