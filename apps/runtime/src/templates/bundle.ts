import { analyzePlan, compile, createBuiltinSkillRegistry } from '@switchyard/actors';
import {
  AgentCreateSchema, DEFAULT_PERSONALITY, NODE_PERMISSIONS, PERMISSIONS, PersonalitySchema, SwitchyardError, TOOL_PERMISSIONS,
  TemplateSchema, assertJsonLimits, issuesFromZod, permissionCovered,
  type AgentCreate, type AgentTool, type ErrorIssue, type FlowDocument, type Template, type TemplateVariable,
} from '@switchyard/schema';

/** A flow's problems: plans go through the plan analyser (they have no trigger), other kinds through the compiler. */
export const diagnosticsOf = (doc: FlowDocument) => (doc.kind === 'plan' ? analyzePlan(doc).diagnostics : compile(doc).diagnostics);

/** A bundle's JSON may not exceed this (a flow document is far smaller; a 10 MB one is refused). */
export const MAX_BUNDLE_BYTES = 2 * 1024 * 1024;

const skills = createBuiltinSkillRegistry();
const VAR_REF = /@\{var\.([A-Za-z][A-Za-z0-9_-]{0,63})\}/g;
const AGENT_REF = /^@\{agent\.([A-Za-z][A-Za-z0-9_-]{0,63})\}$/;

const bad = (message: string, issues: ErrorIssue[] = []) => new SwitchyardError('BAD_INPUT', message, { issues: issues.length ? issues : [{ path: [], message }] });

/** The permission a webhook URL needs: its host when the URL is literal, any host when it is a `{{ }}` template. */
export function webhookPermission(url: unknown): string {
  if (typeof url !== 'string' || url.includes('{{') || url.includes('@{')) return 'webhooks.call';
  try {
    const u = new URL(url);
    return `webhook:${u.host.toLowerCase()}`;
  } catch {
    return 'webhooks.call';
  }
}

/** What one flow document needs: its nodes' permissions (agents' tools are counted separately). */
export function documentPermissions(doc: unknown): string[] {
  const out = new Set<string>();
  const nodes = (doc as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  for (const n of nodes as { type?: unknown; params?: Record<string, unknown> }[]) {
    if (!n || typeof n.type !== 'string') continue;
    for (const p of NODE_PERMISSIONS[n.type] ?? []) out.add(p);
    if (n.type === 'action.webhook') out.add(webhookPermission(n.params?.url));
    // A for-each needs what its action needs (a webhook: its host), a wait what its event reveals.
    if (n.type === 'flow.forEach' && typeof n.params?.action === 'string') {
      for (const p of NODE_PERMISSIONS[n.params.action] ?? []) out.add(p);
      if (n.params.action === 'action.webhook') out.add(webhookPermission((n.params.with as Record<string, unknown> | undefined)?.url));
    }
    if (n.type === 'flow.waitForEvent') {
      const event = n.params?.event ?? 'email.received';
      if (event === 'email.received' || event === 'email.sent') out.add('email.read');
      if (event === 'contact.created') out.add('contacts.read');
    }
  }
  return sortPermissions([...out]);
}

export function toolPermissions(tools: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of tools) {
    const p = TOOL_PERMISSIONS[t as AgentTool];
    if (p) out.add(p);
  }
  return sortPermissions([...out]);
}

/** Named permissions in catalog order, then webhook hosts alphabetically. */
export function sortPermissions(ps: string[]): string[] {
  const order = (p: string) => {
    const i = (PERMISSIONS as readonly string[]).indexOf(p);
    return i < 0 ? PERMISSIONS.length : i;
  };
  return [...new Set(ps)].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}

/** Everything a bundle's flows and agents use: what an installer must grant. */
export function computePermissions(t: Pick<Template, 'documents' | 'agents'>): string[] {
  return sortPermissions([...t.documents.flatMap(documentPermissions), ...t.agents.flatMap((a) => toolPermissions(a.tools))]);
}

/** The permissions in `needed` that `grant` does not cover. */
export const uncovered = (needed: readonly string[], grant: readonly string[]) => needed.filter((p) => !permissionCovered(grant, p));

/** A value to compile with when the installer's is not known yet (publishing, loading). */
function sampleValue(v: TemplateVariable): unknown {
  if (v.default !== undefined) return v.default;
  switch (v.type) {
    case 'string': case 'text': return 'example';
    case 'email': return 'someone@example.com';
    case 'timezone': return 'UTC';
    case 'number': return v.min ?? 0;
    case 'boolean': return false;
    case 'select': return v.options?.[0] ?? '';
    case 'personality': return DEFAULT_PERSONALITY;
  }
}

const isTimezone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/**
 * The installer's values checked against the variables' schema, defaults filled in. Unknown keys
 * are refused (a typo should not be silently ignored). Throws BAD_INPUT with one issue per field.
 */
export function validateVariables(vars: readonly TemplateVariable[], input: Record<string, unknown>): Record<string, unknown> {
  const issues: ErrorIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) if (!vars.some((v) => v.key === key)) issues.push({ path: ['variables', key], message: `Unknown variable "${key}"` });
  for (const v of vars) {
    const at = (message: string) => issues.push({ path: ['variables', v.key], message });
    let value = input[v.key];
    // The installer's text is data: `{{ }}` would be evaluated when the flow runs, `@{ }` read as a reference.
    if (typeof value === 'string' && /\{\{|\}\}|@\{/.test(value)) {
      at(`${v.label} may not contain {{, }} or @{ (they would be read as an expression or a reference)`);
      continue;
    }
    if (value === undefined || value === '' || value === null) {
      if (v.default !== undefined) value = v.default;
      else if (v.required) {
        at(`${v.label} is required`);
        continue;
      } else continue;
    }
    switch (v.type) {
      case 'string': case 'text':
        if (typeof value !== 'string' || value.length > (v.type === 'text' ? 10_000 : 500)) at(`${v.label} must be text up to ${v.type === 'text' ? 10_000 : 500} characters`);
        break;
      case 'email':
        if (typeof value !== 'string' || !/^[^\s@]{1,200}@[^\s@]{1,200}\.[^\s@]{1,50}$/.test(value)) at(`${v.label} must be an email address`);
        break;
      case 'timezone':
        if (typeof value !== 'string' || value.length > 64 || !isTimezone(value)) at(`${v.label} must be a timezone like Europe/Paris`);
        break;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) at(`${v.label} must be a number`);
        else if (v.min !== undefined && value < v.min) at(`${v.label} must be at least ${v.min}`);
        else if (v.max !== undefined && value > v.max) at(`${v.label} must be at most ${v.max}`);
        break;
      case 'boolean':
        if (typeof value !== 'boolean') at(`${v.label} must be yes or no`);
        break;
      case 'select':
        if (typeof value !== 'string' || !(v.options ?? []).includes(value)) at(`${v.label} must be one of ${(v.options ?? []).join(', ')}`);
        break;
      case 'personality': {
        const p = PersonalitySchema.safeParse(value);
        if (!p.success) at(`${v.label}: each trait is a number from 0 to 1`);
        else value = p.data;
        break;
      }
    }
    out[v.key] = value;
  }
  if (issues.length) throw bad(issues[0]!.message, issues);
  return out;
}

/** Replaces `@{var.x}` (typed when the whole string) and `@{agent.ref}` (the agent's id) everywhere. */
function bindValue(value: unknown, vars: Record<string, unknown>, agentIds: Record<string, string>): unknown {
  if (typeof value === 'string') {
    const agent = AGENT_REF.exec(value);
    if (agent) return agentIds[agent[1]!] ?? value;
    const whole = /^@\{var\.([A-Za-z][A-Za-z0-9_-]{0,63})\}$/.exec(value);
    if (whole) return vars[whole[1]!] ?? '';
    return value.replace(VAR_REF, (_m, key: string) => {
      const v = vars[key];
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => bindValue(v, vars, agentIds));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bindValue(v, vars, agentIds)]));
  return value;
}

export interface BoundBundle {
  agents: (AgentCreate & { ref: string })[];
  documents: FlowDocument[];
}

/** The bundle with the installer's values and agent ids in place of its symbolic references. */
export function bindBundle(t: Template, values: Record<string, unknown>, agentIds: Record<string, string>): BoundBundle {
  const agents = t.agents.map((a) => {
    const bound = bindValue(a, values, agentIds) as Record<string, unknown>;
    const parsed = AgentCreateSchema.safeParse({ ...bound, personality: { ...DEFAULT_PERSONALITY, ...(bound.personality as object) } });
    if (!parsed.success) throw bad(`Agent "${a.name}" is not valid`, issuesFromZod(parsed.error.issues).map((i) => ({ ...i, path: ['agents', a.ref, ...i.path] })));
    return { ...parsed.data, ref: a.ref };
  });
  const documents = t.documents.map((d) => {
    const doc = bindValue(d, values, agentIds) as FlowDocument;
    const nodes = doc.nodes.map((n) => {
      const params = { ...n.params };
      for (const v of t.variables) {
        for (const target of v.targets) if (target.document === d.id && target.node === n.id && values[v.key] !== undefined) params[target.param] = values[v.key];
      }
      return { ...n, params };
    });
    return { ...doc, nodes };
  });
  return { agents, documents };
}

/** Values to compile a bundle with before anyone installs it. */
export const sampleValues = (t: Template) => Object.fromEntries(t.variables.map((v) => [v.key, sampleValue(v)]));
const sampleAgentIds = (t: Template) => Object.fromEntries(t.agents.map((a, i) => [a.ref, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`]));

/** Keys whose string value is a secret wherever they sit (headers, nested params, a for-each's `with`). */
const SECRET_KEY = /(secret|passw(or)?d|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|authori[sz]ation|(^|[-_])auth($|[-_])|^x-.*-signature$|credential|cookie|session[-_]?id)/i;
/** Query parameters that carry a key in a URL (`?key=…`, `?sig=…`) besides the names above. */
const SECRET_PARAM = /^(key|sig)$/i;
const SECRET_VALUE = new RegExp([
  /\bsk-[A-Za-z0-9_-]{16,}/, /\bghp_[A-Za-z0-9]{20,}/, /\bgithub_pat_[A-Za-z0-9_]{20,}/, /\bxox[abpr]-[A-Za-z0-9-]{10,}/, /\bAKIA[0-9A-Z]{16}\b/,
  /\bBearer\s+[A-Za-z0-9._~+/-]{12,}/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  // Incoming-webhook URLs are secrets themselves (whoever has one can post).
  /hooks\.slack\.com\/services\/[A-Za-z0-9]+\/[A-Za-z0-9]+\/[A-Za-z0-9]+/, /discord(app)?\.com\/api\/webhooks\/\d+\/[\w-]{20,}/,
].map((r) => r.source).join('|'));
/** Written by the installer or filled at run time, not a value carried in the bundle. */
const isReference = (v: string) => v.includes('@{var.') || v.includes('{{');

/** A URL carrying credentials: a user or password in it, or a query parameter named like a secret. */
function urlHasSecret(v: string): boolean {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v.trim())) return false;
  try {
    const u = new URL(v.trim());
    if (u.username || u.password) return true;
    for (const [k, x] of u.searchParams) if ((SECRET_KEY.test(k) || SECRET_PARAM.test(k)) && x.trim() && !isReference(x)) return true;
  } catch { /* not a URL */ }
  return false;
}

/** Paths of secrets in a value: sensitive keys with a non-empty value, or strings that look like keys or tokens. */
export function findSecrets(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    if (typeof v === 'string') {
      if (SECRET_VALUE.test(v) || urlHasSecret(v)) out.push(p);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_KEY.test(k) && typeof x === 'string' && x.trim() && !isReference(x)) out.push([...p, k]);
        else walk(x, [...p, k]);
      }
    }
  };
  walk(value, path);
  return out;
}

/**
 * Removes secret-bearing webhook headers from a flow (publishing from one's own flows strips them):
 * a Call webhook node's, and those of a for-each that calls a webhook per item. Other secrets
 * (a key in a URL, a token in a body) are not guessed at: `checkBundle` refuses them with their paths.
 */
export function stripSecrets(doc: FlowDocument): { document: FlowDocument; stripped: string[] } {
  const stripped: string[] = [];
  const strip = (n: FlowDocument['nodes'][number], headers: unknown) => Object.fromEntries(Object.entries((headers ?? {}) as Record<string, unknown>).filter(([k, v]) => {
    const secret = SECRET_KEY.test(k) || (typeof v === 'string' && SECRET_VALUE.test(v));
    if (secret) stripped.push(`${doc.name} › ${n.label ?? n.id} › header ${k}`);
    return !secret;
  }));
  const nodes = doc.nodes.map((n) => {
    if (n.type === 'action.webhook') return { ...n, params: { ...n.params, headers: strip(n, n.params.headers) } };
    const each = n.params.with as Record<string, unknown> | undefined;
    if (n.type === 'flow.forEach' && n.params.action === 'action.webhook' && each && typeof each === 'object' && each.headers) {
      return { ...n, params: { ...n.params, with: { ...each, headers: strip(n, each.headers) } } };
    }
    return n;
  });
  return { document: { ...doc, nodes }, stripped };
}

/** Raw HTML that could run script: script, iframe, object and embed tags, event handler attributes (quoted or not), javascript: and vbscript: URLs. */
const HTML_SCRIPT = /<\s*(script|iframe|object|embed)\b|<[a-z][^>]*\son[a-z]+\s*=|(javascript|vbscript)\s*:/i;

export interface CheckedBundle {
  template: Template;
  /** What the flows and agents use. */
  permissions: string[];
}

/**
 * Everything a bundle must pass before it enters the catalog: size, schema, docs without script,
 * no secrets, known skills, every flow compiling (with sample variable values), and declared
 * permissions covering what the flows and agents use. Typed errors: BAD_INPUT with issues, or
 * INVALID_DOCUMENT for compile errors.
 */
export function checkBundle(raw: unknown): CheckedBundle {
  assertJsonLimits(raw);
  let size = 0;
  try {
    size = JSON.stringify(raw)?.length ?? 0;
  } catch {
    throw bad('The template is not JSON');
  }
  if (size > MAX_BUNDLE_BYTES) throw bad(`The template is too large (${Math.round(size / 1024)} KB; at most ${MAX_BUNDLE_BYTES / 1024 / 1024} MB)`);
  const parsed = TemplateSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = issuesFromZod(parsed.error.issues);
    throw bad(`The template is not valid: ${issues[0]?.path.join('.') || 'template'}: ${issues[0]?.message ?? ''}`, issues);
  }
  const t = parsed.data;
  if (HTML_SCRIPT.test(t.docs)) throw bad('The docs may not contain script, event handlers or javascript: links', [{ path: ['docs'], message: 'Remove the HTML script' }]);
  const secrets = findSecrets({ documents: t.documents, agents: t.agents, variables: t.variables });
  if (secrets.length) {
    throw bad('The template carries secrets (tokens, API keys or passwords): remove them or make them variables', secrets.map((p) => ({ path: p, message: 'Looks like a secret' })));
  }
  for (const [i, a] of t.agents.entries()) {
    for (const [j, s] of a.skills.entries()) {
      const skill = skills.get(s);
      if (!skill) throw bad(`Agent "${a.name}": unknown skill "${s}"`, [{ path: ['agents', i, 'skills', j], message: `Unknown skill "${s}"` }]);
      const missing = skill.requiredTools.filter((tool) => !a.tools.includes(tool as AgentTool));
      if (missing.length) throw bad(`Agent "${a.name}": the skill ${skill.name} needs the tools ${missing.join(', ')}`, [{ path: ['agents', i, 'tools'], message: `Add ${missing.join(', ')}` }]);
    }
  }
  const bound = bindBundle(t, sampleValues(t), sampleAgentIds(t));
  for (const [i, doc] of bound.documents.entries()) {
    const errors = diagnosticsOf(doc).filter((d) => d.severity === 'error');
    if (errors.length) {
      throw new SwitchyardError('INVALID_DOCUMENT', `Flow "${doc.name}" does not compile: ${errors[0]!.message}`, {
        issues: errors.map((d) => ({ path: ['documents', i, ...d.path], message: d.message, code: d.code })),
      });
    }
    for (const [j, n] of doc.nodes.entries()) {
      // Run agent skill nodes, plan steps and for-eaches that run a skill name the bundle's own
      // agents, so their tools are counted (a variable may not choose the agent).
      const path = n.type === 'agent.runSkill' ? ['agentId'] : n.type === 'plan.step' ? ['agent'] : n.type === 'flow.forEach' && n.params.action === 'agent.runSkill' ? ['with', 'agentId'] : null;
      if (!path) continue;
      const at = (node: { params: Record<string, unknown> }) => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), node.params);
      const agentId = at(n);
      const ref = at(t.documents[i]!.nodes[j]!);
      const original = t.documents[i]!;
      const targeted = t.variables.some((v) => v.targets.some((x) => x.document === original.id && x.node === n.id && x.param === path[0]));
      if (typeof ref !== 'string' || !AGENT_REF.test(ref) || agentId === ref || targeted) {
        throw bad(`Flow "${doc.name}": a step that asks an agent must name one of the template's agents as @{agent.<ref>}`, [{ path: ['documents', i, 'nodes', j, 'params', ...path], message: 'Use @{agent.<ref>}' }]);
      }
    }
  }
  const permissions = computePermissions(t);
  const missing = uncovered(permissions, t.requiredPermissions);
  if (missing.length) {
    throw bad(`The template's flows and agents need permissions it does not declare: ${missing.join(', ')}`, missing.map((p) => ({ path: ['requiredPermissions'], message: `Missing ${p}` })));
  }
  return { template: { ...t, requiredPermissions: sortPermissions([...t.requiredPermissions, ...permissions]) }, permissions };
}
