import type { EntityManager } from '@mikro-orm/postgresql';
import {
  SwitchyardError, TOOL_PERMISSIONS, permissionCovered, permissionLabel,
  type AgentTool, type Diagnostic,
} from '@switchyard/schema';
import { sqlOne } from '../host/db';
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

/**
 * Diagnostics for a flow installed from a template whose document now needs more than the
 * install granted (an edit added a Send email node, a webhook to another host, an agent with more
 * tools). `flows.validate` shows them on the node; `flows.deploy` refuses until they are granted.
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
  const nodes = (document as { nodes?: unknown }).nodes;
  if (!Array.isArray(nodes)) return [];
  const out: Diagnostic[] = [];
  for (const [index, node] of (nodes as { id?: unknown; type?: unknown; params?: { agentId?: unknown; agent?: unknown } }[]).entries()) {
    if (!node || typeof node.id !== 'string') continue;
    const needed = documentPermissions({ nodes: [node] });
    const agentId = node.type === 'agent.runSkill' ? node.params?.agentId : node.type === 'plan.step' ? node.params?.agent : null;
    if (typeof agentId === 'string' && /^[0-9a-f-]{36}$/i.test(agentId)) {
      const agent = await sqlOne<{ tools: string[] }>(em, 'select tools from agents where id = ? and user_id = ? and deleted_at is null', [agentId, userId]);
      if (agent) needed.push(...toolPermissions(agent.tools));
    }
    const missing = [...new Set(needed)].filter((p) => !permissionCovered(install.granted, p));
    if (missing.length) {
      out.push({
        code: 'invalid-params', severity: 'error', nodeId: node.id, path: ['nodes', index],
        message: `Installed from the template "${install.template_id}" without ${missing.map((p) => `"${p}" (${permissionLabel(p)})`).join(', ')}: grant ${missing.length === 1 ? 'it' : 'them'} on the Installed tab before deploying`,
      });
    }
  }
  return out;
}

