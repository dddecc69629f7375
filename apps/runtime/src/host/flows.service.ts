import { randomBytes, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { analyzePlan, compile, stableStringify } from '@switchyard/actors';
import { FlowDocumentSchema, SwitchyardError, hasErrors, issuesFromZod, planSizeProblem, type Diagnostic, type FlowDocument } from '@switchyard/schema';
import { sql, sqlOne } from './db';
import { decodeTimeCursor, encodeTimeCursor } from './time-cursor';

export interface FlowRow {
  id: string;
  user_id: string;
  doc_id: string;
  kind: FlowDocument['kind'];
  name: string;
  description: string;
  current_version: number;
  status: 'draft' | 'deployed';
  deployed_version: number | null;
  created_at: Date;
  updated_at: Date;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export const flowSummary = (f: FlowRow, lastRun: { id: string; status: string; started_at: Date } | null = null) => ({
  id: f.id, docId: f.doc_id, kind: f.kind, name: f.name, description: f.description, status: f.status,
  version: f.current_version, deployedVersion: f.deployed_version, createdAt: iso(f.created_at)!, updatedAt: iso(f.updated_at)!,
  lastRun: lastRun ? { id: lastRun.id, status: lastRun.status, startedAt: iso(lastRun.started_at)! } : null,
});

/** Parses a client document; failures are BAD_INPUT with zod paths under `document`. */
export function parseDocument(input: unknown): FlowDocument {
  const r = FlowDocumentSchema.safeParse(input);
  if (!r.success) throw new SwitchyardError('BAD_INPUT', 'The flow document is not valid', { issues: issuesFromZod(r.error.issues).map((i) => ({ ...i, path: ['document', ...i.path] })) });
  return r.data;
}

const newWebhookSecret = () => randomBytes(24).toString('base64url');

const diagnosticIssues = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error').map((d) => ({ path: d.path, message: d.message, code: d.code }));

/**
 * A plan is checked by the plan analyser (it has steps, not triggers); every other kind by the compiler.
 * A plan over the size rule is that one diagnostic and is not analysed (its checks grow faster than its steps).
 */
const draftDiagnostics = (doc: FlowDocument): Diagnostic[] => {
  if (doc.kind !== 'plan') return compile(doc).diagnostics;
  const tooBig = planSizeProblem(doc);
  return tooBig ? [tooBig] : analyzePlan(doc).diagnostics;
};

/** Flows with immutable versions: every save that changes the document adds a version. */
export function createFlowService(deps: { em: () => EntityManager; now: () => string; webhookBase?: () => string }) {
  async function find(em: EntityManager, userId: string, docId: string, lock = false): Promise<FlowRow> {
    const f = await sqlOne<FlowRow>(em, `select * from flows where user_id = ? and doc_id = ? and deleted_at is null${lock ? ' for update' : ''}`, [userId, docId]);
    if (!f) throw new SwitchyardError('NOT_FOUND', `Flow "${docId}" not found`);
    return f;
  }

  async function document(em: EntityManager, flowId: string, version: number): Promise<FlowDocument> {
    const row = await sqlOne<{ document: FlowDocument }>(em, 'select document from flow_versions where flow_id = ? and version = ?', [flowId, version]);
    if (!row) throw new SwitchyardError('NOT_FOUND', `Version ${version} not found`);
    return row.document;
  }

  /** Absolute when the server knows its base URL (it does once listening). */
  const hookUrl = (triggerId: string) => `${deps.webhookBase?.() ?? ''}/hooks/${triggerId}`;

  /** The webhook row of a trigger node (the newest, for flows deployed before URLs were stable). */
  async function webhookOf(em: EntityManager, flowId: string, nodeId: string) {
    return sqlOne<{ id: string; active: boolean }>(em,
      `select id, active from flow_triggers where flow_id = ? and node_id = ? and kind = 'webhook' order by created_at desc, id limit 1`, [flowId, nodeId]);
  }

  async function activeRunIds(em: EntityManager, flowId: string) {
    return (await activeRuns(em, flowId)).map((r) => r.id);
  }
  /** A behavior for everyone has a machine per user: each run is cancelled as its own user's. */
  async function activeRuns(em: EntityManager, flowId: string) {
    return sql<{ id: string; user_id: string }>(em, `select id, user_id from runs where flow_id = ? and status in ('running', 'waiting') order by started_at`, [flowId]);
  }

  /** Cancels every active run of a flow; a run that ended meanwhile is not an error. */
  async function cancelAll(flowId: string, cancel: (runId: string, userId: string) => Promise<unknown>) {
    let n = 0;
    for (const { id: runId, user_id: userId } of await activeRuns(deps.em(), flowId)) {
      try {
        await cancel(runId, userId);
        n++;
      } catch (e) {
        if (!(e instanceof SwitchyardError && e.code === 'INVALID_STATE')) throw e;
      }
    }
    return n;
  }

  async function lastRuns(userId: string, flowIds: string[]) {
    if (flowIds.length === 0) return new Map<string, { id: string; status: string; started_at: Date }>();
    const rows = await sql<{ flow_id: string; id: string; status: string; started_at: Date }>(deps.em(),
      `select distinct on (flow_id) flow_id, id, status, started_at from runs
        where user_id = ? and flow_id in (${flowIds.map(() => '?').join(',')}) order by flow_id, started_at desc`, [userId, ...flowIds]);
    return new Map(rows.map((r) => [r.flow_id, r]));
  }

  async function save(userId: string, input: unknown, opts: { expectedVersion?: number; note?: string; replace?: boolean; createOnly?: boolean } = {}) {
    const doc = parseDocument(input);
    const diagnostics = draftDiagnostics(doc);
    return deps.em().transactional(async (tx) => {
      const existing = await sqlOne<FlowRow>(tx, 'select * from flows where user_id = ? and doc_id = ? and deleted_at is null for update', [userId, doc.id]);
      if (existing && opts.createOnly) throw new SwitchyardError('CONFLICT', `A flow with id "${doc.id}" exists already`);
      if (existing && opts.expectedVersion !== undefined && existing.current_version !== opts.expectedVersion) {
        throw new SwitchyardError('CONFLICT', `The flow changed since you opened it (version ${existing.current_version}, you had ${opts.expectedVersion})`);
      }
      const at = deps.now();
      let flow = existing;
      if (!flow) {
        // The id is free again once its flow is deleted: a new flow row takes it. A deleted row that
        // runs still point at stays as their history's anchor; one without runs is purged.
        await sql(tx, `delete from flows f where f.user_id = ? and f.doc_id = ? and f.deleted_at is not null
                         and not exists (select 1 from runs r where r.flow_id = f.id)`, [userId, doc.id]);
        flow = (await sqlOne<FlowRow>(tx,
          `insert into flows (id, user_id, doc_id, kind, name, description, current_version, status, deployed_version, created_at, updated_at)
           values (?, ?, ?, ?, ?, ?, 0, 'draft', null, ?, ?) returning *`,
          [randomUUID(), userId, doc.id, doc.kind, doc.name, doc.description, at, at]))!;
      } else {
        const current = await document(tx, flow.id, flow.current_version).catch(() => null);
        const same = current && stableStringify({ ...current, version: 0 }) === stableStringify({ ...doc, version: 0 });
        if (same) return { flow: flowSummary(flow), version: flow.current_version, diagnostics, changed: false };
      }
      const version = flow.current_version + 1;
      const stored = { ...doc, version };
      await sql(tx, 'insert into flow_versions (flow_id, version, document, note, created_at) values (?, ?, ?, ?, ?)', [flow.id, version, stored, opts.note ?? null, at]);
      const updated = (await sqlOne<FlowRow>(tx,
        'update flows set kind = ?, name = ?, description = ?, current_version = ?, updated_at = ? where id = ? returning *',
        [doc.kind, doc.name, doc.description, version, at, flow.id]))!;
      return { flow: flowSummary(updated), version, diagnostics, changed: true };
    });
  }

  return {
    find,
    save,
    /** Newest first, a page at a time: `nextCursor` (null on the last page) continues after the last row. */
    async list(userId: string, filter: { kind?: string; search?: string; limit?: number; cursor?: string } = {}) {
      const limit = filter.limit ?? 100;
      const after = filter.cursor === undefined ? null : decodeTimeCursor(filter.cursor);
      const like = `%${(filter.search ?? '').replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      // The cursor holds updated_at as PostgreSQL's text, so microseconds survive the round trip.
      const rows = await sql<FlowRow & { cursor_at: string }>(deps.em(),
        `select *, updated_at::text as cursor_at from flows where user_id = ? and deleted_at is null
           and (?::text is null or kind = ?) and (?::text is null or name ilike ? or doc_id ilike ?)
           and (?::timestamptz is null or (updated_at, id) < (?::timestamptz, ?::uuid))
         order by updated_at desc, id desc limit ?`,
        [userId, filter.kind ?? null, filter.kind ?? null, filter.search ?? null, like, like, after?.at ?? null, after?.at ?? null, after?.id ?? null, limit + 1]);
      const flows = rows.slice(0, limit);
      const last = await lastRuns(userId, flows.map((f) => f.id));
      const end = flows[flows.length - 1];
      return {
        items: flows.map((f) => flowSummary(f, last.get(f.id) ?? null)),
        nextCursor: rows.length > limit && end ? encodeTimeCursor(end.cursor_at, end.id) : null,
      };
    },
    async get(userId: string, docId: string, version?: number) {
      const em = deps.em();
      const f = await find(em, userId, docId);
      const doc = await document(em, f.id, version ?? f.current_version);
      const triggers = await sql<{ id: string; node_id: string; kind: string }>(em,
        `select id, node_id, kind from flow_triggers where flow_id = ? and active and kind = 'webhook'`, [f.id]);
      return {
        flow: flowSummary(f, (await lastRuns(userId, [f.id])).get(f.id) ?? null),
        document: doc,
        diagnostics: draftDiagnostics(doc),
        webhooks: triggers.map((t) => ({ nodeId: t.node_id, url: hookUrl(t.id) })),
      };
    },
    /** Newest first, a page at a time; the cursor is the last version returned. */
    async versions(userId: string, docId: string, page: { limit?: number; cursor?: string } = {}) {
      const em = deps.em();
      const f = await find(em, userId, docId);
      const limit = page.limit ?? 100;
      const before = page.cursor === undefined ? null : Number(page.cursor);
      if (before !== null && !(Number.isSafeInteger(before) && before > 0 && String(before) === page.cursor)) {
        throw new SwitchyardError('BAD_INPUT', 'Invalid cursor', { issues: [{ path: ['cursor'], message: 'Invalid cursor' }] });
      }
      const rows = await sql<{ version: number; note: string | null; created_at: Date; name: string; nodes: number }>(em,
        `select version, note, created_at, document->>'name' as name, jsonb_array_length(document->'nodes') as nodes
           from flow_versions where flow_id = ? and (?::int is null or version < ?) order by version desc limit ?`, [f.id, before, before, limit + 1]);
      const items = rows.slice(0, limit).map((r) => ({ version: r.version, note: r.note, createdAt: iso(r.created_at)!, name: r.name, nodes: Number(r.nodes), deployed: r.version === f.deployed_version }));
      return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.version) : null };
    },
    /** Deploys a saved version: refused while it has compile errors; nothing changes then. */
    async deploy(userId: string, docId: string, version?: number) {
      return deps.em().transactional(async (tx) => {
        const f = await find(tx, userId, docId, true);
        const v = version ?? f.current_version;
        const doc = await document(tx, f.id, v);
        const { machine, diagnostics } = compile(doc);
        if (!machine || hasErrors(diagnostics)) {
          throw new SwitchyardError('INVALID_DOCUMENT', `Fix ${diagnostics.filter((d) => d.severity === 'error').length} problem(s) before deploying`, { issues: diagnosticIssues(diagnostics) });
        }
        // A behavior for everyone runs in every user's data: only the instance owner may deploy one.
        const audience = machine.audience === 'everyone' ? 'everyone' : 'owner';
        if (audience === 'everyone') {
          const who = await sqlOne<{ name: string }>(tx, 'select name from users where id = ?', [userId]);
          if (who?.name !== 'owner') {
            throw new SwitchyardError('FORBIDDEN', 'Only the instance owner can deploy a behavior for everyone', { issues: [{ path: ['settings', 'audience'], message: 'Deploy it for yourself (audience "owner") or ask the instance owner' }] });
          }
        }
        const at = deps.now();
        await sql(tx, 'update flow_triggers set active = false where flow_id = ?', [f.id]);
        const webhooks: { nodeId: string; url: string; secret: string | null }[] = [];
        for (const t of machine.triggers) {
          const kind = t.listensTo ? 'event' : t.type === 'trigger.schedule' ? 'schedule' : t.type === 'trigger.condition' ? 'condition' : t.type === 'trigger.webhook' ? 'webhook' : 'manual';
          if (kind === 'webhook') {
            // A webhook's URL and secret belong to its trigger node: a redeploy (of any version) keeps
            // them, so senders are not broken by it; only rotateWebhookSecret changes the secret.
            const hook = await webhookOf(tx, f.id, t.nodeId);
            if (hook) {
              await sql(tx, 'update flow_triggers set version = ?, filters = ?, audience = ?, active = true where id = ?', [v, t.params, audience, hook.id]);
              webhooks.push({ nodeId: t.nodeId, url: hookUrl(hook.id), secret: null });
              continue;
            }
          }
          const id = randomUUID();
          const secret = kind === 'webhook' ? newWebhookSecret() : null;
          await sql(tx,
            `insert into flow_triggers (id, flow_id, user_id, version, node_id, kind, event_type, filters, cron, timezone, webhook_secret, audience, active, created_at)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?)`,
            [id, f.id, userId, v, t.nodeId, kind, t.listensTo, t.params, (t.params.cron as string | undefined) ?? null, (t.params.timezone as string | undefined) ?? null, secret, audience, at]);
          // The secret is shown once, when it is created; it is never read back.
          if (secret) webhooks.push({ nodeId: t.nodeId, url: hookUrl(id), secret });
        }
        const updated = (await sqlOne<FlowRow>(tx, `update flows set status = 'deployed', deployed_version = ?, updated_at = ? where id = ? returning *`, [v, at, f.id]))!;
        return { flow: flowSummary(updated), version: v, webhooks };
      });
    },
    /**
     * Stops starting runs (event, schedule and webhook triggers go inactive; manual runs need a
     * deploy or `draft`). Runs already going are left to finish: `activeRuns` says how many.
     */
    async undeploy(userId: string, docId: string) {
      return deps.em().transactional(async (tx) => {
        const f = await find(tx, userId, docId, true);
        await sql(tx, 'update flow_triggers set active = false where flow_id = ?', [f.id]);
        const updated = (await sqlOne<FlowRow>(tx, `update flows set status = 'draft', deployed_version = null, updated_at = ? where id = ? returning *`, [deps.now(), f.id]))!;
        return { flow: flowSummary(updated), activeRuns: (await activeRunIds(tx, f.id)).length };
      });
    },
    /**
     * Deletes a flow and cancels its active runs (each cancel is journaled by the host like
     * `runs.cancel`). Order matters for a crash midway: the flow is first undeployed, then its runs
     * are cancelled, and only then is it marked deleted, so an interrupted delete leaves a visible,
     * undeployed flow to delete again, never a deleted flow with runs still going. Runs started in
     * the meantime (a manual draft run) are cancelled by a last pass once no new one can start.
     */
    async remove(userId: string, docId: string, cancel: (runId: string, runUserId: string) => Promise<unknown>) {
      const f = await deps.em().transactional(async (tx) => {
        const row = await find(tx, userId, docId, true);
        await sql(tx, 'update flow_triggers set active = false where flow_id = ?', [row.id]);
        await sql(tx, `update flows set status = 'draft', deployed_version = null, updated_at = ? where id = ?`, [deps.now(), row.id]);
        return row;
      });
      let cancelledRuns = await cancelAll(f.id, cancel);
      await deps.em().transactional(async (tx) => {
        await find(tx, userId, docId, true);
        await sql(tx, 'update flows set deleted_at = ? where id = ?', [deps.now(), f.id]);
      });
      cancelledRuns += await cancelAll(f.id, cancel);
      return { docId, deleted: true, cancelledRuns };
    },
    /** A new secret for a webhook trigger node; its URL stays. The old secret stops working at once. */
    async rotateWebhookSecret(userId: string, docId: string, nodeId: string) {
      return deps.em().transactional(async (tx) => {
        const f = await find(tx, userId, docId, true);
        const hook = await webhookOf(tx, f.id, nodeId);
        if (!hook) {
          throw new SwitchyardError('NOT_FOUND', `"${nodeId}" is not a deployed webhook trigger of this flow`, { issues: [{ path: ['nodeId'], message: 'Deploy a flow with this webhook trigger first' }] });
        }
        const secret = newWebhookSecret();
        await sql(tx, 'update flow_triggers set webhook_secret = ? where id = ?', [secret, hook.id]);
        // Deliveries signed with the old secret are not replays of the new one: start a fresh record.
        await sql(tx, 'delete from webhook_deliveries where trigger_id = ?', [hook.id]);
        return { nodeId, url: hookUrl(hook.id), secret, active: hook.active };
      });
    },
    async exportDocument(userId: string, docId: string, version?: number) {
      const em = deps.em();
      const f = await find(em, userId, docId);
      return document(em, f.id, version ?? f.current_version);
    },
  };
}
export type FlowService = ReturnType<typeof createFlowService>;
