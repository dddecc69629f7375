import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  SwitchyardError, TemplateSchema, compareSemver, permissionCovered,
  type FlowDocument, type Template, type TemplateCategory,
} from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import {
  bindBundle, checkBundle, computePermissions, diagnosticsOf, documentPermissions, sortPermissions, stripSecrets, toolPermissions, uncovered, validateVariables,
} from './bundle';
import { nodeNeeds } from './grants';
import { diffBundles, mergeDocuments, type BundleDiff, type MergeConflict } from './upgrade';

export const TEMPLATE_SORTS = ['relevance', 'popular', 'rating', 'newest'] as const;
export type TemplateSort = (typeof TEMPLATE_SORTS)[number];

export interface TemplatesDeps {
  em: () => EntityManager;
  now: () => string;
  /** Where the built-in templates live (the repository's `templates/`). */
  builtinDir: string;
  deployFlow: (userId: string, docId: string) => Promise<unknown>;
  removeFlow: (userId: string, docId: string) => Promise<unknown>;
  removeAgent: (userId: string, agentId: string) => Promise<unknown>;
  afterDeploy: () => Promise<void>;
  log?: { warn(obj: unknown, msg: string): void; error(obj: unknown, msg: string): void };
}

interface TemplateRow {
  id: string; source: 'builtin' | 'user'; owner_id: string | null; name: string; description: string; category: TemplateCategory; tags: string[];
  author: string; latest_version: string; permissions: string[]; install_count: number; rating_sum: number; rating_count: number; published: boolean;
  created_at: Date; updated_at: Date;
}
interface InstallRow {
  id: string; user_id: string; template_id: string; version: string; name: string; variables: Record<string, unknown>; granted: string[];
  created_at: Date; updated_at: Date;
}
interface ItemRow { install_id: string; kind: 'agent' | 'flow'; ref: string; resource_id: string; base_version: number | null; base_document: FlowDocument | null }

const iso = (d: Date | string) => new Date(d).toISOString();
const semverParts = (v: string) => v.split('.').map(Number) as [number, number, number];
const notFound = () => new SwitchyardError('NOT_FOUND', 'No such template');
const rating = (t: Pick<TemplateRow, 'rating_sum' | 'rating_count'>) => ({
  average: t.rating_count ? Math.round((t.rating_sum / t.rating_count) * 10) / 10 : 0, count: t.rating_count,
});

/** A flow reduced to what a card's preview draws: nodes with positions and categories, edges. */
export function previewOf(doc: FlowDocument) {
  return {
    id: doc.id, kind: doc.kind, name: doc.name,
    nodes: doc.nodes.slice(0, 60).map((n) => ({ id: n.id, type: n.type, label: n.label ?? null, x: n.position.x, y: n.position.y })),
    edges: doc.edges.slice(0, 120).map((e) => ({ source: e.source, target: e.target })),
  };
}

/** Search cursors: the sort key and the id of the last item, base64url JSON; a forged one is BAD_INPUT. */
const encodeCursor = (k: number, id: string) => Buffer.from(JSON.stringify([k, id])).toString('base64url');
function decodeCursor(cursor: string): { k: number; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && Number.isFinite(v[0]) && typeof v[1] === 'string' && v[1].length <= 64) return { k: v[0], id: v[1] };
  } catch { /* falls through */ }
  throw new SwitchyardError('BAD_INPUT', 'Invalid cursor', { issues: [{ path: ['cursor'], message: 'Invalid cursor' }] });
}

/** A doc id free for this user: the template's own, else with -2, -3... (ids stay within 64 characters). */
async function freeDocId(tx: EntityManager, userId: string, base: string, taken: Set<string>): Promise<string> {
  for (let n = 1; n < 1000; n++) {
    const suffix = n === 1 ? '' : `-${n}`;
    const id = `${base.slice(0, 64 - suffix.length)}${suffix}`;
    if (taken.has(id)) continue;
    const row = await sqlOne(tx, 'select 1 from flows where user_id = ? and doc_id = ? and deleted_at is null', [userId, id]);
    if (!row) {
      taken.add(id);
      return id;
    }
  }
  throw new SwitchyardError('CONFLICT', `Too many flows named "${base}"`);
}

export function createTemplatesService(deps: TemplatesDeps) {
  async function visible(em: EntityManager, userId: string, id: string, lock = false): Promise<TemplateRow> {
    const t = await sqlOne<TemplateRow>(em, `select * from templates where id = ? and (published or owner_id = ?)${lock ? ' for update' : ''}`, [id, userId]);
    if (!t) throw notFound();
    return t;
  }

  async function versionOf(em: EntityManager, templateId: string, version: string): Promise<{ template: Template; permissions: string[]; created_at: Date }> {
    const row = await sqlOne<{ bundle: unknown; permissions: string[]; created_at: Date }>(em, 'select bundle, permissions, created_at from template_versions where template_id = ? and version = ?', [templateId, version]);
    if (!row) throw new SwitchyardError('NOT_FOUND', `Version ${version} not found`);
    return { template: TemplateSchema.parse(row.bundle), permissions: row.permissions, created_at: row.created_at };
  }

  /** Adds a checked bundle as a new template or a new (higher) version of one. */
  async function store(tx: EntityManager, checked: ReturnType<typeof checkBundle>, source: 'builtin' | 'user', ownerId: string | null) {
    const t = checked.template;
    const at = deps.now();
    const existing = await sqlOne<TemplateRow>(tx, 'select * from templates where id = ? for update', [t.id]);
    if (existing) {
      if (existing.source !== source || (source === 'user' && existing.owner_id !== ownerId)) {
        throw new SwitchyardError('CONFLICT', `The template id "${t.id}" is taken: choose another`, { issues: [{ path: ['id'], message: 'Taken' }] });
      }
      if (compareSemver(t.version, existing.latest_version) <= 0) {
        throw new SwitchyardError('CONFLICT', `Version ${t.version} does not rise above ${existing.latest_version}`, { issues: [{ path: ['version'], message: `Use a version above ${existing.latest_version}` }] });
      }
    }
    const [major, minor, patch] = semverParts(t.version);
    if (!existing) {
      await sql(tx, `insert into templates (id, source, owner_id, name, description, category, tags, author, latest_version, permissions, published, created_at, updated_at)
                     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?, ?)`,
      [t.id, source, ownerId, t.name, t.description, t.category, t.tags, t.author, t.version, t.requiredPermissions, at, at]);
    }
    await sql(tx, `insert into template_versions (template_id, version, major, minor, patch, bundle, permissions, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)`,
      [t.id, t.version, major, minor, patch, t, t.requiredPermissions, at]);
    if (existing) {
      await sql(tx, `update templates set name = ?, description = ?, category = ?, tags = ?, author = ?, latest_version = ?, permissions = ?, published = true, updated_at = ? where id = ?`,
        [t.name, t.description, t.category, t.tags, t.author, t.version, t.requiredPermissions, at, t.id]);
    }
    return { id: t.id, version: t.version, permissions: t.requiredPermissions };
  }

  let builtins: Promise<void> | null = null;
  /**
   * Loads `templates/*.json` into the catalog: new ones are added, one whose version rose gets
   * the new version; a broken file is logged and skipped (the catalog keeps what it had).
   */
  async function loadBuiltins(): Promise<{ added: string[]; upgraded: string[]; skipped: string[] }> {
    const result = { added: [] as string[], upgraded: [] as string[], skipped: [] as string[] };
    let files: string[] = [];
    try {
      files = readdirSync(deps.builtinDir).filter((f) => f.endsWith('.json')).sort();
    } catch (e) {
      deps.log?.warn({ err: e, dir: deps.builtinDir }, 'no built-in templates folder');
    }
    for (const f of files) {
      let checked: ReturnType<typeof checkBundle>;
      try {
        checked = checkBundle(JSON.parse(readFileSync(`${deps.builtinDir}/${f}`, 'utf8')));
      } catch (e) {
        deps.log?.error({ err: e, file: f }, 'built-in template refused');
        result.skipped.push(f);
        continue;
      }
      await deps.em().transactional(async (tx) => {
        const row = await sqlOne<TemplateRow>(tx, 'select * from templates where id = ? for update', [checked.template.id]);
        if (row && (row.source !== 'builtin' || compareSemver(checked.template.version, row.latest_version) <= 0)) return;
        await store(tx, checked, 'builtin', null);
        (row ? result.upgraded : result.added).push(checked.template.id);
      });
    }
    return result;
  }
  const ready = () => (builtins ??= loadBuiltins().then(() => undefined, (e: unknown) => {
    builtins = null;
    throw e;
  }));

  async function itemsOf(em: EntityManager, installIds: string[]) {
    if (!installIds.length) return [];
    return sql<ItemRow & { name: string | null; doc_id: string | null; status: string | null; current_version: number | null; tools: string[] | null; flow_id: string | null; flow_kind: FlowDocument['kind'] | null }>(em,
      `select i.*, coalesce(a.name, f.name) as name, a.tools, f.id as flow_id, f.kind as flow_kind, f.doc_id, f.status, f.current_version
         from template_install_items i
         left join agents a on i.kind = 'agent' and a.id::text = i.resource_id and a.deleted_at is null
         left join flows f on i.kind = 'flow' and f.id::text = i.resource_id and f.deleted_at is null
        where i.install_id in (${installIds.map(() => '?').join(',')}) order by i.kind, i.ref`, installIds);
  }

  async function installView(em: EntityManager, inst: InstallRow) {
    const t = await sqlOne<TemplateRow>(em, 'select * from templates where id = ?', [inst.template_id]);
    const items = await itemsOf(em, [inst.id]);
    // What its agents and the current versions of its flows use beyond the grant (edits, added tools).
    const used: string[] = [];
    for (const i of items) {
      if (i.kind === 'agent' && i.tools) used.push(...toolPermissions(i.tools));
      if (i.kind === 'flow' && i.flow_id && i.current_version) {
        const doc = await sqlOne<{ document: FlowDocument }>(em, 'select document from flow_versions where flow_id = ? and version = ?', [i.flow_id, i.current_version]);
        for (const n of doc ? await nodeNeeds(em, inst.user_id, doc.document) : []) used.push(...n.needed);
      }
    }
    return {
      id: inst.id, templateId: inst.template_id, templateName: t?.name ?? inst.template_id, name: inst.name, version: inst.version,
      installedFrom: `${inst.template_id}@${inst.version}`,
      latestVersion: t?.latest_version ?? inst.version,
      updateAvailable: !!t && t.published && compareSemver(t.latest_version, inst.version) > 0,
      variables: inst.variables, granted: inst.granted,
      /** Permissions its agents or its flows as they are now need but were not granted: grant them (`templates.grant`) to deploy or use them. */
      missing: uncovered(sortPermissions(used), inst.granted),
      createdAt: iso(inst.created_at), updatedAt: iso(inst.updated_at),
      agents: items.filter((i) => i.kind === 'agent' && i.name !== null).map((i) => ({ ref: i.ref, id: i.resource_id, name: i.name! })),
      flows: items.filter((i) => i.kind === 'flow' && i.doc_id !== null).map((i) => ({ ref: i.ref, docId: i.doc_id!, kind: i.flow_kind!, name: i.name!, status: i.status!, version: i.current_version! })),
    };
  }

  async function install(tx: EntityManager, userId: string) {
    return async (inst: string) => {
      const row = await sqlOne<InstallRow>(tx, 'select * from template_installs where id = ? and user_id = ? and uninstalled_at is null for update', [inst, userId]);
      if (!row) throw new SwitchyardError('NOT_FOUND', 'No such installed template');
      return row;
    };
  }

  async function insertAgent(tx: EntityManager, userId: string, id: string, a: ReturnType<typeof bindBundle>['agents'][number], at: string) {
    await sql(tx,
      `insert into agents (id, user_id, name, description, system_prompt, skills, tools, personality, caps, active, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, userId, a.name, a.description ?? '', a.systemPrompt ?? '', [...new Set(a.skills ?? [])], [...new Set(a.tools ?? [])], a.personality ?? {}, a.caps ?? {}, a.active ?? true, at, at]);
  }

  async function insertFlow(tx: EntityManager, userId: string, doc: FlowDocument, note: string, at: string) {
    const flowId = randomUUID();
    await sql(tx, `delete from flows f where f.user_id = ? and f.doc_id = ? and f.deleted_at is not null and not exists (select 1 from runs r where r.flow_id = f.id)`, [userId, doc.id]);
    await sql(tx,
      `insert into flows (id, user_id, doc_id, kind, name, description, current_version, status, deployed_version, created_at, updated_at)
       values (?, ?, ?, ?, ?, ?, 1, 'draft', null, ?, ?)`, [flowId, userId, doc.id, doc.kind, doc.name, doc.description, at, at]);
    await sql(tx, 'insert into flow_versions (flow_id, version, document, note, created_at) values (?, ?, ?, ?, ?)', [flowId, 1, { ...doc, version: 1 }, note, at]);
    return flowId;
  }

  /** The name a created flow or agent gets: the installer's name, with the part's own when there are several. */
  const partName = (installName: string, templateName: string, own: string, several: boolean) =>
    (!several && own === templateName ? installName : installName === templateName ? own : `${installName} · ${own}`).slice(0, 100);

  async function deployAll(userId: string, docIds: string[]) {
    const deployed: string[] = [];
    const failed: { docId: string; message: string }[] = [];
    for (const docId of docIds) {
      try {
        await deps.deployFlow(userId, docId);
        deployed.push(docId);
      } catch (e) {
        failed.push({ docId, message: e instanceof Error ? e.message : String(e) });
      }
    }
    if (deployed.length) await deps.afterDeploy();
    return { deployed, failed };
  }

  const service = {
    ready,
    loadBuiltins,
    /** Text search with relevance, filters and a sort; a page at a time (`nextCursor`). */
    async search(userId: string, input: {
      query?: string | undefined; category?: TemplateCategory | undefined; minRating?: number | undefined; permissions?: string[] | undefined;
      sort?: TemplateSort | undefined; mine?: boolean | undefined; limit?: number | undefined; cursor?: string | undefined;
    }) {
      await ready();
      const q = input.query?.trim() ? input.query.trim().toLowerCase() : null;
      const sort: TemplateSort = input.sort ?? (q ? 'relevance' : 'popular');
      const limit = input.limit ?? 24;
      const esc = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
      const contains = q ? `%${esc(q)}%` : null;
      const prefix = q ? `${esc(q)}%` : null;
      const key = {
        relevance: 'relevance * 10000000 + install_count',
        popular: 'install_count',
        rating: 'avg_rating * 1000000000 + rating_count',
        newest: 'floor(extract(epoch from created_at) * 1000)',
      }[sort];
      const after = input.cursor ? decodeCursor(input.cursor) : null;
      const rows = await sql<TemplateRow & { k: number; relevance: number; documents: FlowDocument[]; agents: { name: string }[] }>(deps.em(),
        `with scored as (
           select t.*,
             case when t.rating_count = 0 then 0 else t.rating_sum::float8 / t.rating_count end as avg_rating,
             case when ?::text is null then 0
                  when lower(t.name) = ? then 6
                  when lower(t.name) like ? then 5
                  when lower(t.name) like ? then 4
                  when exists (select 1 from jsonb_array_elements_text(t.tags) tag where lower(tag) = ?) then 3
                  when lower(t.tags::text) like ? then 2
                  when lower(t.description) like ? then 1
                  else 0 end as relevance
           from templates t
           where (t.published or t.owner_id = ?) and (not ?::boolean or t.owner_id = ?)
         ), keyed as (
           select s.*, (${key})::float8 as k from scored s
           where (?::text is null or s.relevance > 0)
             and (?::text is null or s.category = ?)
             and (?::float8 is null or s.avg_rating >= ?)
             and (?::jsonb is null or ?::jsonb @> s.permissions)
         )
         select keyed.*, v.bundle->'documents' as documents, v.bundle->'agents' as agents
           from keyed join template_versions v on v.template_id = keyed.id and v.version = keyed.latest_version
          where (?::float8 is null or keyed.k < ? or (keyed.k = ? and keyed.id > ?))
          order by keyed.k desc, keyed.id asc limit ?`,
        [q, q, prefix, contains, q, contains, contains, userId, !!input.mine, userId,
          q, input.category ?? null, input.category ?? null, input.minRating ?? null, input.minRating ?? null,
          input.permissions ?? null, input.permissions ?? null,
          after?.k ?? null, after?.k ?? null, after?.k ?? null, after?.id ?? null, limit + 1]);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((t) => ({
          id: t.id, name: t.name, description: t.description, category: t.category, tags: t.tags, author: t.author, version: t.latest_version,
          permissions: t.permissions, installs: t.install_count, rating: rating(t), source: t.source, mine: t.owner_id === userId, published: t.published,
          relevance: Number(t.relevance), createdAt: iso(t.created_at),
          previews: (t.documents ?? []).map((d) => previewOf(d)),
          agents: (t.agents ?? []).map((a) => a.name),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor(Number(last.k), last.id) : null,
      };
    },

    /** One template: its latest bundle, every version with its changelog, reviews, the caller's rating and installs. */
    async get(userId: string, id: string) {
      await ready();
      const em = deps.em();
      const t = await visible(em, userId, id);
      const latest = await versionOf(em, id, t.latest_version);
      const versions = await sql<{ version: string; permissions: string[]; created_at: Date; changelog: { version: string; notes: string; date?: string }[] | null }>(em,
        `select version, permissions, created_at, bundle->'changelog' as changelog from template_versions where template_id = ? order by major desc, minor desc, patch desc`, [id]);
      const reviews = await sql<{ stars: number; review: string; updated_at: Date; user_name: string; user_id: string }>(em,
        `select r.stars, r.review, r.updated_at, u.name as user_name, r.user_id from template_ratings r join users u on u.id = r.user_id
          where r.template_id = ? order by r.updated_at desc limit 50`, [id]);
      const installs = await sql<InstallRow>(em, 'select * from template_installs where template_id = ? and user_id = ? and uninstalled_at is null order by created_at desc', [id, userId]);
      const mine = reviews.find((r) => r.user_id === userId);
      return {
        id: t.id, name: t.name, description: t.description, category: t.category, tags: t.tags, author: t.author, version: t.latest_version,
        source: t.source, mine: t.owner_id === userId, published: t.published, installs: t.install_count, rating: rating(t),
        permissions: latest.permissions, variables: latest.template.variables, docs: latest.template.docs,
        agents: latest.template.agents.map((a) => ({ ref: a.ref, name: a.name, description: a.description, skills: a.skills, tools: a.tools, toolPermissions: toolPermissions(a.tools) })),
        flows: latest.template.documents.map((d) => ({ ...previewOf(d), description: d.description, permissions: documentPermissions(d) })),
        versions: versions.map((v) => ({
          version: v.version, createdAt: iso(v.created_at), permissions: v.permissions,
          notes: (v.changelog ?? []).find((c) => c.version === v.version)?.notes ?? '',
        })),
        reviews: reviews.map((r) => ({ stars: r.stars, review: r.review, author: r.user_name, updatedAt: iso(r.updated_at), mine: r.user_id === userId })),
        myRating: mine ? { stars: mine.stars, review: mine.review } : null,
        installed: await Promise.all(installs.map((i) => installView(em, i))),
      };
    },

    /**
     * Installs a template in one transaction: agents and flows are created (all or nothing), the
     * install count rises (on the user's first install of it) and the install remembers `<template>@<version>`, the values and the
     * permissions granted. Deploying (optional) follows the commit, flow by flow.
     */
    async install(userId: string, input: { id: string; version?: string | undefined; name?: string | undefined; variables?: Record<string, unknown> | undefined; acceptPermissions: string[]; deploy?: boolean | undefined }) {
      await ready();
      const t = await visible(deps.em(), userId, input.id);
      const version = input.version ?? t.latest_version;
      const { template, permissions } = await versionOf(deps.em(), t.id, version);
      const values = validateVariables(template.variables, input.variables ?? {});
      const agentIds = Object.fromEntries(template.agents.map((a) => [a.ref, randomUUID()]));
      const bound = bindBundle(template, values, agentIds);
      // What the bound flows and agents use (a variable can hold a webhook URL) must be declared and accepted.
      const used = computePermissions({ documents: bound.documents, agents: template.agents });
      const notDeclared = uncovered(used, permissions);
      if (notDeclared.length) {
        throw new SwitchyardError('FORBIDDEN', `The template's permissions do not cover what its flows use: ${notDeclared.join(', ')}`, { issues: notDeclared.map((p) => ({ path: ['variables'], message: `Needs ${p}` })) });
      }
      const notAccepted = uncovered(permissions, input.acceptPermissions);
      if (notAccepted.length) {
        throw new SwitchyardError('FORBIDDEN', `Accept the permissions this template needs: ${notAccepted.join(', ')}`, { issues: notAccepted.map((p) => ({ path: ['acceptPermissions'], message: `Accept ${p}` })) });
      }
      for (const doc of bound.documents) {
        const errors = diagnosticsOf(doc).filter((d) => d.severity === 'error');
        if (errors.length) throw new SwitchyardError('INVALID_DOCUMENT', `Flow "${doc.name}" does not compile with these values: ${errors[0]!.message}`, { issues: errors.map((d) => ({ path: d.path, message: d.message, code: d.code })) });
      }
      const name = (input.name?.trim() || template.name).slice(0, 100);
      const several = template.agents.length + template.documents.length > 1;
      const granted = sortPermissions(permissions.filter((p) => permissionCovered(input.acceptPermissions, p)));
      const installId = randomUUID();
      const created = await deps.em().transactional(async (tx) => {
        const at = deps.now();
        for (const a of bound.agents) await insertAgent(tx, userId, agentIds[a.ref]!, { ...a, name: partName(name, template.name, a.name, template.agents.length > 1) }, at);
        await sql(tx, `insert into template_installs (id, user_id, template_id, version, name, variables, granted, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [installId, userId, t.id, version, name, values, granted, at, at]);
        for (const a of bound.agents) {
          await sql(tx, 'insert into template_install_items (install_id, kind, ref, resource_id) values (?, ?, ?, ?)', [installId, 'agent', a.ref, agentIds[a.ref]]);
        }
        const taken = new Set<string>();
        const docIds: string[] = [];
        for (const [i, raw] of bound.documents.entries()) {
          const doc = { ...raw, id: await freeDocId(tx, userId, raw.id, taken), name: partName(name, template.name, raw.name, several).slice(0, 200) };
          const flowId = await insertFlow(tx, userId, doc, `Installed from ${t.id}@${version}`, at);
          await sql(tx, 'insert into template_install_items (install_id, kind, ref, resource_id, base_version, base_document) values (?, ?, ?, ?, ?, ?)',
            [installId, 'flow', template.documents[i]!.id, flowId, 1, { ...doc, version: 1 }]);
          // Plans are run, not deployed.
          if (doc.kind !== 'plan') docIds.push(doc.id);
        }
        // The count is of installers: a user's first install raises it, installing again does not
        // (a concurrent second install waits on the first one's row and then inserts nothing).
        const first = await sqlOne(tx, 'insert into template_installers (template_id, user_id, first_installed_at) values (?, ?, ?) on conflict do nothing returning user_id', [t.id, userId, at]);
        if (first) await sql(tx, 'update templates set install_count = install_count + 1 where id = ?', [t.id]);
        return docIds;
      });
      const deployment = input.deploy ? await deployAll(userId, created) : { deployed: [], failed: [] };
      return { install: await installView(deps.em(), (await (await install(deps.em(), userId))(installId))), ...deployment };
    },

    async installed(userId: string, input: { templateId?: string | undefined } = {}) {
      await ready();
      const em = deps.em();
      const rows = await sql<InstallRow>(em, `select * from template_installs where user_id = ? and uninstalled_at is null and (?::text is null or template_id = ?) order by created_at desc limit 500`,
        [userId, input.templateId ?? null, input.templateId ?? null]);
      return { items: await Promise.all(rows.map((r) => installView(em, r))) };
    },

    /**
     * Upgrades an install to a newer version (default: the latest). `dryRun` only returns the
     * diff and conflicts. The installer's values are kept (new variables take `variables` or
     * their defaults); edits the user made to a flow are kept where the new version did not
     * change the same node (conflicts keep the user's node and are listed). New flow versions are
     * saved, and deployed flows redeployed: running runs finish on their pinned machines.
     */
    async upgrade(userId: string, input: { installId: string; version?: string | undefined; variables?: Record<string, unknown> | undefined; acceptPermissions?: string[] | undefined; dryRun?: boolean | undefined }) {
      await ready();
      const em = deps.em();
      const inst = await (await install(em, userId))(input.installId);
      const t = await visible(em, userId, inst.template_id).catch(async () => {
        // An unpublished template still upgrades installs to versions it already had.
        const row = await sqlOne<TemplateRow>(em, 'select * from templates where id = ?', [inst.template_id]);
        if (!row) throw notFound();
        return row;
      });
      const target = input.version ?? t.latest_version;
      if (compareSemver(target, inst.version) <= 0) throw new SwitchyardError('INVALID_STATE', `Installed version ${inst.version} is already at or above ${target}`);
      const from = await versionOf(em, t.id, inst.version);
      const to = await versionOf(em, t.id, target);
      const kept = Object.fromEntries(Object.entries(inst.variables).filter(([k]) => to.template.variables.some((v) => v.key === k)));
      const values = validateVariables(to.template.variables, { ...kept, ...(input.variables ?? {}) });
      const items = await sql<ItemRow>(em, 'select * from template_install_items where install_id = ?', [inst.id]);
      const agentIds: Record<string, string> = Object.fromEntries(items.filter((i) => i.kind === 'agent').map((i) => [i.ref, i.resource_id]));
      for (const a of to.template.agents) agentIds[a.ref] ??= randomUUID();
      const bound = bindBundle(to.template, values, agentIds);
      const diff: BundleDiff = diffBundles(from.template, to.template, from.permissions, to.permissions);
      const grant = sortPermissions([...inst.granted, ...(input.acceptPermissions ?? [])]);
      const needs = [...to.permissions];
      // Three-way merge per flow: the version the install wrote, the user's current one, the new one.
      const plans: { ref: string; doc: FlowDocument; item: ItemRow | null; current: { docId: string; version: number; status: string } | null; conflicts: MergeConflict[] }[] = [];
      for (const doc of bound.documents) {
        const item = items.find((i) => i.kind === 'flow' && i.ref === doc.id) ?? null;
        const flow = item ? await sqlOne<{ id: string; doc_id: string; current_version: number; status: string }>(em, 'select id, doc_id, current_version, status from flows where id = ? and deleted_at is null', [item.resource_id]) : null;
        if (!item || !flow) {
          plans.push({ ref: doc.id, doc, item: null, current: null, conflicts: [] });
          continue;
        }
        const mine = (await sqlOne<{ document: FlowDocument }>(em, 'select document from flow_versions where flow_id = ? and version = ?', [flow.id, flow.current_version]))!.document;
        const merged = mergeDocuments(item.base_document ?? mine, mine, { ...doc, id: flow.doc_id, name: mine.name });
        plans.push({ ref: doc.id, doc: merged.document, item, current: { docId: flow.doc_id, version: flow.current_version, status: flow.status }, conflicts: merged.conflicts });
      }
      const conflicts = plans.flatMap((p) => p.conflicts.map((c) => ({ flow: p.doc.name, ...c })));
      // The merged flows keep the user's own edits: what those need (a Send email node added after
      // the install) must be granted too, or the upgrade would deploy it past the grant.
      const agentTools = Object.fromEntries(bound.agents.map((a) => [agentIds[a.ref]!, a.tools ?? []]));
      for (const p of plans) for (const n of await nodeNeeds(em, userId, p.doc, agentTools)) needs.push(...n.needed);
      const needAcceptance = uncovered(sortPermissions(needs), grant);
      // The changelog entries of the versions this upgrade crosses, newest first.
      const notes = to.template.changelog.filter((c) => compareSemver(c.version, inst.version) > 0 && compareSemver(c.version, target) <= 0)
        .sort((a, b) => compareSemver(b.version, a.version)).map((c) => ({ version: c.version, notes: c.notes }));
      const preview = { from: inst.version, to: target, diff, conflicts, needAcceptance, variables: values, notes };
      if (input.dryRun) return { ...preview, upgraded: false as const, install: await installView(em, inst), deployed: [] as string[], failed: [] as { docId: string; message: string }[] };
      if (needAcceptance.length) {
        throw new SwitchyardError('FORBIDDEN', `Version ${target} needs more permissions: accept ${needAcceptance.join(', ')} first`, { issues: needAcceptance.map((p) => ({ path: ['acceptPermissions'], message: `Accept ${p}` })) });
      }
      for (const p of plans) {
        const errors = diagnosticsOf(p.doc).filter((d) => d.severity === 'error');
        if (errors.length) throw new SwitchyardError('INVALID_DOCUMENT', `Flow "${p.doc.name}" does not compile after the upgrade: ${errors[0]!.message}`, { issues: errors.map((d) => ({ path: d.path, message: d.message, code: d.code })) });
      }
      const redeploy: string[] = [];
      await deps.em().transactional(async (tx) => {
        const at = deps.now();
        const locked = await (await install(tx, userId))(inst.id);
        if (locked.version !== inst.version) throw new SwitchyardError('CONFLICT', 'The install changed meanwhile: try again');
        for (const a of bound.agents) {
          const existing = items.find((i) => i.kind === 'agent' && i.ref === a.ref);
          const live = existing ? await sqlOne(tx, 'select 1 from agents where id = ? and user_id = ? and deleted_at is null', [existing.resource_id, userId]) : null;
          if (live) {
            // The agent's name and personality are the installer's; what it can do follows the template.
            await sql(tx, 'update agents set description = ?, system_prompt = ?, skills = ?, tools = ?, updated_at = ? where id = ? and user_id = ?',
              [a.description ?? '', a.systemPrompt ?? '', [...new Set(a.skills ?? [])], [...new Set(a.tools ?? [])], at, agentIds[a.ref], userId]);
          } else if (!existing) {
            await insertAgent(tx, userId, agentIds[a.ref]!, { ...a, name: partName(inst.name, to.template.name, a.name, to.template.agents.length > 1) }, at);
            await sql(tx, 'insert into template_install_items (install_id, kind, ref, resource_id) values (?, ?, ?, ?)', [inst.id, 'agent', a.ref, agentIds[a.ref]]);
          }
        }
        const taken = new Set<string>();
        for (const p of plans) {
          if (!p.item || !p.current) {
            const doc = { ...p.doc, id: await freeDocId(tx, userId, p.doc.id, taken), name: partName(inst.name, to.template.name, p.doc.name, true).slice(0, 200) };
            const flowId = await insertFlow(tx, userId, doc, `Installed from ${t.id}@${target}`, at);
            await sql(tx, `insert into template_install_items (install_id, kind, ref, resource_id, base_version, base_document) values (?, ?, ?, ?, ?, ?)
                           on conflict (install_id, kind, ref) do update set resource_id = excluded.resource_id, base_version = excluded.base_version, base_document = excluded.base_document`,
            [inst.id, 'flow', p.ref, flowId, 1, { ...doc, version: 1 }]);
            continue;
          }
          const version = p.current.version + 1;
          const stored = { ...p.doc, version };
          await sql(tx, 'insert into flow_versions (flow_id, version, document, note, created_at) values (?, ?, ?, ?, ?)', [p.item.resource_id, version, stored, `Upgraded to ${t.id}@${target}`, at]);
          await sql(tx, 'update flows set kind = ?, name = ?, description = ?, current_version = ?, updated_at = ? where id = ?', [stored.kind, stored.name, stored.description, version, at, p.item.resource_id]);
          await sql(tx, 'update template_install_items set base_version = ?, base_document = ? where install_id = ? and kind = ? and ref = ?', [version, stored, inst.id, 'flow', p.ref]);
          if (p.current.status === 'deployed') redeploy.push(p.current.docId);
        }
        await sql(tx, 'update template_installs set version = ?, variables = ?, granted = ?, updated_at = ? where id = ?', [target, values, sortPermissions([...new Set([...grant])]), at, inst.id]);
      });
      const deployment = await deployAll(userId, redeploy);
      return { ...preview, upgraded: true as const, install: await installView(deps.em(), (await (await install(deps.em(), userId))(inst.id))), ...deployment };
    },

    /** Grants more permissions to an install (so an edited flow that needs them may deploy). */
    async grant(userId: string, input: { installId: string; permissions: string[] }) {
      await ready();
      return deps.em().transactional(async (tx) => {
        const inst = await (await install(tx, userId))(input.installId);
        const granted = sortPermissions([...inst.granted, ...input.permissions]);
        await sql(tx, 'update template_installs set granted = ?, updated_at = ? where id = ?', [granted, deps.now(), inst.id]);
        return installView(tx, { ...inst, granted });
      });
    },

    /** Deletes what the install created (flows with their active runs cancelled, agents) and forgets it. */
    async uninstall(userId: string, input: { installId: string }) {
      await ready();
      const em = deps.em();
      const inst = await (await install(em, userId))(input.installId);
      const items = await itemsOf(em, [inst.id]);
      let flows = 0;
      let agents = 0;
      for (const i of items) {
        try {
          if (i.kind === 'flow' && i.doc_id) {
            await deps.removeFlow(userId, i.doc_id);
            flows++;
          } else if (i.kind === 'agent' && i.name !== null) {
            await deps.removeAgent(userId, i.resource_id);
            agents++;
          }
        } catch (e) {
          if (!(e instanceof SwitchyardError && e.code === 'NOT_FOUND')) throw e;
        }
      }
      await sql(em, 'update template_installs set uninstalled_at = ?, updated_at = ? where id = ?', [deps.now(), deps.now(), inst.id]);
      return { id: inst.id, uninstalled: true as const, flows, agents };
    },

    /**
     * Publishes a bundle, or a bundle made from the caller's own flows and agents (agent ids
     * become `@{agent.<ref>}`, secret webhook headers are stripped, permissions are computed).
     * Checked like a built-in: it must compile and carry no secrets; a new version must rise.
     */
    async publish(userId: string, input: PublishInput) {
      await ready();
      let raw: unknown;
      let stripped: string[] = [];
      if ('bundle' in input) raw = input.bundle;
      else {
        const made = await bundleFromOwn(userId, input);
        raw = made.bundle;
        stripped = made.stripped;
      }
      const checked = checkBundle(raw);
      const result = await deps.em().transactional((tx) => store(tx, checked, 'user', userId));
      return { ...result, stripped };
    },

    async unpublish(userId: string, input: { id: string }) {
      await ready();
      return deps.em().transactional(async (tx) => {
        const t = await sqlOne<TemplateRow>(tx, 'select * from templates where id = ? and owner_id = ? for update', [input.id, userId]);
        if (!t) throw notFound();
        await sql(tx, 'update templates set published = false, updated_at = ? where id = ?', [deps.now(), t.id]);
        return { id: t.id, published: false as const };
      });
    },

    /** One rating per user per template (changeable), 1-5 stars with optional text. */
    async rate(userId: string, input: { id: string; stars: number; review?: string | undefined }) {
      await ready();
      return deps.em().transactional(async (tx) => {
        const t = await visible(tx, userId, input.id, true);
        if (t.owner_id === userId) throw new SwitchyardError('FORBIDDEN', 'You cannot rate your own template');
        const at = deps.now();
        await sql(tx, `insert into template_ratings (template_id, user_id, stars, review, created_at, updated_at) values (?, ?, ?, ?, ?, ?)
                       on conflict (template_id, user_id) do update set stars = excluded.stars, review = excluded.review, updated_at = excluded.updated_at`,
        [t.id, userId, input.stars, input.review ?? '', at, at]);
        const agg = (await sqlOne<{ s: string; c: string }>(tx, 'select coalesce(sum(stars), 0) as s, count(*) as c from template_ratings where template_id = ?', [t.id]))!;
        await sql(tx, 'update templates set rating_sum = ?, rating_count = ? where id = ?', [Number(agg.s), Number(agg.c), t.id]);
        return { id: t.id, stars: input.stars, rating: rating({ rating_sum: Number(agg.s), rating_count: Number(agg.c) }) };
      });
    },
  };

  /** A bundle from the caller's flows (current versions) and agents. */
  async function bundleFromOwn(userId: string, input: Extract<PublishInput, { flows: string[] }>) {
    const em = deps.em();
    const stripped: string[] = [];
    const agentRows = input.agents.length
      ? await sql<{ id: string; name: string; description: string; system_prompt: string; skills: string[]; tools: string[]; personality: Record<string, number>; caps: Record<string, number> }>(em,
        `select id, name, description, system_prompt, skills, tools, personality, caps from agents where user_id = ? and deleted_at is null and id::text in (${input.agents.map(() => '?').join(',')})`, [userId, ...input.agents])
      : [];
    if (agentRows.length !== new Set(input.agents).size) throw new SwitchyardError('NOT_FOUND', 'No such agent');
    const refOf = new Map<string, string>();
    for (const [i, a] of agentRows.entries()) {
      const slug = a.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
      refOf.set(a.id, /^[a-z]/.test(slug) ? `${slug}-${i + 1}` : `agent-${i + 1}`);
    }
    const documents: FlowDocument[] = [];
    for (const docId of input.flows) {
      const f = await sqlOne<{ id: string; current_version: number }>(em, 'select id, current_version from flows where user_id = ? and doc_id = ? and deleted_at is null', [userId, docId]);
      if (!f) throw new SwitchyardError('NOT_FOUND', `Flow "${docId}" not found`);
      const doc = (await sqlOne<{ document: FlowDocument }>(em, 'select document from flow_versions where flow_id = ? and version = ?', [f.id, f.current_version]))!.document;
      const nodes = doc.nodes.map((n) => {
        const param = n.type === 'agent.runSkill' ? 'agentId' : n.type === 'plan.step' ? 'agent' : null;
        if (!param) return n;
        const ref = refOf.get(String(n.params[param]));
        if (!ref) throw new SwitchyardError('BAD_INPUT', `Flow "${doc.name}" asks an agent you did not include (or "any"): choose one of the template's agents for step ${n.id}`, { issues: [{ path: ['agents'], message: `Include the agent of node ${n.id}` }] });
        return { ...n, params: { ...n.params, [param]: `@{agent.${ref}}` } };
      });
      const s = stripSecrets({ ...doc, nodes, version: 1 });
      stripped.push(...s.stripped);
      documents.push(s.document);
    }
    const agents = agentRows.map((a) => ({
      ref: refOf.get(a.id)!, name: a.name, description: a.description, systemPrompt: a.system_prompt, skills: a.skills, tools: a.tools,
      personality: a.personality, caps: a.caps,
    }));
    const bundle = {
      id: input.id, name: input.name, description: input.description ?? '', category: input.category, tags: input.tags ?? [],
      author: input.author ?? 'You', version: input.version, changelog: input.changelog ? [{ version: input.version, notes: input.changelog }] : [],
      variables: [], documents, agents, docs: input.docs ?? '',
      requiredPermissions: computePermissions({ documents, agents: agents as never }),
    };
    // Earlier versions' changelog entries are kept with the new one.
    const prev = await sqlOne<{ bundle: Template }>(em, `select v.bundle from templates t join template_versions v on v.template_id = t.id and v.version = t.latest_version where t.id = ? and t.owner_id = ?`, [input.id, userId]);
    if (prev) bundle.changelog = [...bundle.changelog, ...prev.bundle.changelog.filter((c) => c.version !== input.version)];
    return { bundle, stripped };
  }

  return service;
}

export type PublishInput =
  | { bundle: unknown }
  | { id: string; name: string; description?: string | undefined; category: TemplateCategory; tags?: string[] | undefined; author?: string | undefined; version: string; changelog?: string | undefined; docs?: string | undefined; flows: string[]; agents: string[] };

export type TemplatesService = ReturnType<typeof createTemplatesService>;
