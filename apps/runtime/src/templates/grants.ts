import type { EntityManager } from '@mikro-orm/postgresql';
import {
  ANY_AGENT, SwitchyardError, TOOL_PERMISSIONS, permissionCovered, permissionLabel,
  type AgentTool, type Diagnostic,
} from '@switchyard/schema';
import { sql, sqlOne } from '../host/db';
import { documentPermissions, toolPermissions } from './bundle';

/**
 * Run-time enforcement of what an installer granted a template (issue 12). An agent the install
 * created may use a tool only when its permission was granted; the dispatcher asks this before
 * every tool call and refuses with FORBIDDEN. Null: the agent was not installed from a template.
 */
export async function templateGrantOf(em: EntityManager, agentId: string) {
  const row = await sqlOne<{ granted: string[]; name: string; template_id: string; version: string }>(em,
    `select i.granted, i.name, i.template_id, i.version from template_install_items it join template_installs i on i.id = it.install_id
      where it.kind = 'agent' and it.resource_id = ? and i.uninstalled_at is null limit 1`, [agentId]);
  if (!row) return null;
  return {
    granted: row.granted,
    /** Throws FORBIDDEN when the tool needs a permission the install was not granted. */
    check(tool: string, agentName: string, onRefused?: (reason: string) => void) {
      const needed = TOOL_PERMISSIONS[tool as AgentTool];
      if (!needed || permissionCovered(row.granted, needed)) return;
      const reason = `not granted: ${needed}`;
      onRefused?.(reason);
      throw new SwitchyardError('FORBIDDEN',
        `Agent "${agentName}" was installed from ${row.template_id}@${row.version} without the permission "${needed}" (${permissionLabel(needed)}), which the tool "${tool}" needs: grant it on the Installed tab`,
        { issues: [{ path: ['tool'], message: `Needs ${needed}`, code: 'permission-not-granted' }] });
    },
  };
}

/** The agent a node asks for, if any: a Run agent skill node's, a plan step's, a for-each's that runs a skill per item. */
export function agentOfNode(node: { type?: unknown; params?: Record<string, unknown> } | null | undefined): unknown {
  if (!node) return null;
  if (node.type === 'agent.runSkill') return node.params?.agentId;
  if (node.type === 'plan.step') return node.params?.agent;
  if (node.type === 'flow.forEach' && node.params?.action === 'agent.runSkill') return (node.params.with as Record<string, unknown> | undefined)?.agentId;
  return null;
}

/**
 * What each node of a flow needs: its own permissions and, for a node that asks an agent, the
 * permissions of that agent's tools (`agentTools` first, for agents whose tools are about to
 * change, else the caller's agent as stored). A plan step for any capable agent may be given any
 * of the caller's agents with its skill, so it needs what each of them may use.
 */
export async function nodeNeeds(em: EntityManager, userId: string, document: unknown, agentTools: Record<string, readonly string[]> = {}) {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const out: { nodeId: string; index: number; needed: string[] }[] = [];
  for (const [index, node] of (nodes as { id?: unknown; type?: unknown; params?: Record<string, unknown> }[]).entries()) {
    if (!node || typeof node.id !== 'string') continue;
    const needed = documentPermissions({ nodes: [node] });
    const agentId = agentOfNode(node);
    if (typeof agentId === 'string' && /^[0-9a-f-]{36}$/i.test(agentId)) {
      const tools = agentTools[agentId] ?? (await sqlOne<{ tools: string[] }>(em, 'select tools from agents where id = ? and user_id = ? and deleted_at is null', [agentId, userId]))?.tools;
      if (tools) needed.push(...toolPermissions(tools));
    } else if (node.type === 'plan.step' && (agentId ?? ANY_AGENT) === ANY_AGENT && typeof node.params?.skill === 'string') {
      const capable = await sql<{ tools: string[] }>(em, 'select tools from agents where user_id = ? and deleted_at is null and skills @> ?::jsonb', [userId, JSON.stringify([node.params.skill])]);
      for (const { tools } of capable) needed.push(...toolPermissions(tools));
    }
    out.push({ nodeId: node.id, index, needed: [...new Set(needed)] });
  }
  return out;
}

/**
 * Diagnostics for a flow or plan installed from a template whose document now needs more than the
 * install granted (an edit added a Send email node, a webhook to another host, an agent with more
 * tools). `flows.validate` shows them on the node; `flows.deploy` refuses until they are granted,
 * `runs.start` refuses to run such a version as a draft, and `plans.run` refuses such a plan.
 */
export async function templatePermissionDiagnostics(em: EntityManager, userId: string, document: unknown): Promise<Diagnostic[]> {
  const docId = (document as { id?: unknown } | null)?.id;
  if (typeof docId !== 'string') return [];
  const install = await sqlOne<{ granted: string[]; template_id: string }>(em,
    `select i.granted, i.template_id from flows f
       join template_install_items it on it.kind = 'flow' and it.resource_id = f.id::text
       join template_installs i on i.id = it.install_id and i.uninstalled_at is null
      where f.user_id = ? and f.doc_id = ? and f.deleted_at is null limit 1`, [userId, docId]);
  if (!install) return [];
  const plan = (document as { kind?: unknown }).kind === 'plan';
  const out: Diagnostic[] = [];
  for (const { nodeId, index, needed } of await nodeNeeds(em, userId, document)) {
    const missing = needed.filter((p) => !permissionCovered(install.granted, p));
    if (missing.length) {
      out.push({
        code: 'invalid-params', severity: 'error', nodeId, path: ['nodes', index],
        message: `Installed from the template "${install.template_id}" without ${missing.map((p) => `"${p}" (${permissionLabel(p)})`).join(', ')}: grant ${missing.length === 1 ? 'it' : 'them'} on the Installed tab before ${plan ? 'running it' : 'deploying'}`,
      });
    }
  }
  return out;
}

/**
 * `plans.run`'s gate (issue 12): a plan installed from a template, saved or given inline under its
 * id, that needs more than the install granted is refused with FORBIDDEN naming the permission,
 * until `templates.grant` allows it. Without a plan to look at it leaves the refusal to the service.
 */
export async function refusePlanPastGrant(
  em: EntityManager, userId: string, input: { docId?: string | undefined; version?: number | undefined; document?: unknown },
  exportDocument: (docId: string, version?: number) => Promise<unknown>,
): Promise<void> {
  const document = input.document !== undefined ? input.document : input.docId ? await exportDocument(input.docId, input.version) : null;
  const ungranted = (await templatePermissionDiagnostics(em, userId, document)).filter((d) => d.severity === 'error');
  if (ungranted.length) {
    throw new SwitchyardError('FORBIDDEN', ungranted[0]!.message, { issues: ungranted.map((d) => ({ path: d.path, message: d.message, code: 'permission-not-granted' })) });
  }
}
