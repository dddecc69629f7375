import { z } from 'zod';
import { AGENT_TOOLS, AgentCapsSchema, PersonalitySchema, SkillIdSchema, type AgentTool } from './agent';
import { FlowDocumentSchema, IdSchema } from './document';

/**
 * What a template's flows and agents may do on the installer's behalf. Computed from the nodes
 * and agent tools a bundle uses (never typed by hand), accepted explicitly at install and
 * enforced at run time. `webhook:<host>` allows calling one host; `webhooks.call` any host.
 */
export const PERMISSIONS = [
  'email.read', 'email.draft', 'email.send', 'tasks.write', 'contacts.read', 'contacts.write',
  'notifications.write', 'webhooks.call', 'memory.write', 'calendar.read', 'calendar.write', 'agents.run',
] as const;
export type NamedPermission = (typeof PERMISSIONS)[number];
export const WEBHOOK_PERMISSION = /^webhook:[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/;
export const PermissionSchema = z.union([z.enum(PERMISSIONS), z.string().regex(WEBHOOK_PERMISSION, 'Use a known permission or webhook:<host>')]);
export type Permission = z.infer<typeof PermissionSchema>;

/** Each permission in words, for the install wizard and the detail page. */
export const PERMISSION_LABELS: Record<NamedPermission, string> = {
  'email.read': 'Read your emails',
  'email.draft': 'Write email drafts for you to review',
  'email.send': 'Send emails in your name',
  'tasks.write': 'Create tasks and follow-ups',
  'contacts.read': 'Read your contacts',
  'contacts.write': 'Change your contacts',
  'notifications.write': 'Send you notifications',
  'webhooks.call': 'Call any web address',
  'memory.write': 'Remember things in an agent\'s memory',
  'calendar.read': 'Read your calendar',
  'calendar.write': 'Create calendar events and invites',
  'agents.run': 'Ask your agents to run skills',
};
export const permissionLabel = (p: string): string =>
  (PERMISSION_LABELS as Record<string, string>)[p] ?? (p.startsWith('webhook:') ? `Call ${p.slice('webhook:'.length)}` : p);

/** Whether a grant covers a permission (`webhooks.call` covers every `webhook:<host>`). */
export const permissionCovered = (grant: readonly string[], p: string): boolean =>
  grant.includes(p) || (p.startsWith('webhook:') && grant.includes('webhooks.call'));

/** The permission each agent tool needs (null: nothing outside the studio). */
export const TOOL_PERMISSIONS: Record<AgentTool, NamedPermission | null> = {
  getContact: 'contacts.read', searchEmails: 'email.read', searchWeb: null, enrichContact: 'contacts.read', memory: 'memory.write',
  createDraft: 'email.draft', sendEmail: 'email.send', updateContact: 'contacts.write', createTask: 'tasks.write',
  scheduleFollowUp: 'tasks.write', readCalendar: 'calendar.read', createCalendarEvent: 'calendar.write',
};

/** The permissions each node kind needs; `action.webhook` adds `webhook:<host>` from its URL. */
export const NODE_PERMISSIONS: Record<string, readonly NamedPermission[]> = {
  'trigger.emailReceived': ['email.read'],
  'trigger.emailSent': ['email.read'],
  'trigger.contactCreated': ['contacts.read'],
  // Its check counts unread emails, follow-ups and contacts, and hands the figures to the flow.
  'trigger.condition': ['email.read', 'contacts.read'],
  'condition.contactExists': ['contacts.read'],
  'action.sendEmail': ['email.send'],
  'action.draftReply': ['email.read', 'email.draft'],
  'action.createTask': ['tasks.write'],
  'action.updateContact': ['contacts.write'],
  'action.sendNotification': ['notifications.write'],
  'action.scheduleFollowUp': ['tasks.write'],
  'action.setMemory': ['memory.write'],
  'agent.runSkill': ['agents.run'],
  'plan.step': ['agents.run'],
  'crm.findContacts': ['contacts.read'],
  'crm.findFollowUps': ['contacts.read', 'email.read'],
  'crm.hasRecentEmail': ['email.read'],
};

export const TEMPLATE_CATEGORIES = ['email', 'sales', 'productivity', 'scheduling', 'support', 'other'] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

export const SemverSchema = z.string().regex(/^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/, 'Use semantic versions like 1.0.0');

/** Compares two semantic versions: negative when a < b. */
export function compareSemver(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/**
 * A value the installer fills. Documents and agents refer to it as `@{var.<key>}`: a string that
 * is exactly the reference takes the typed value, one that contains it gets the value as text.
 */
export const TemplateVariableSchema = z.object({
  key: IdSchema,
  label: z.string().trim().min(1).max(100),
  description: z.string().max(500).default(''),
  type: z.enum(['string', 'text', 'email', 'timezone', 'number', 'boolean', 'select', 'personality']),
  required: z.boolean().default(true),
  default: z.unknown().optional(),
  min: z.number().finite().optional(),
  max: z.number().finite().optional(),
  options: z.array(z.string().max(100)).max(50).optional(),
  /**
   * Typed node params the value replaces (a duration, a timezone, a number): the document keeps a
   * valid default there, so it compiles as it is, and installing writes the installer's value.
   */
  targets: z.array(z.object({ document: IdSchema, node: IdSchema, param: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/) })).max(20).default([]),
});
export type TemplateVariable = z.output<typeof TemplateVariableSchema>;

const ref = z.string().regex(/^@\{var\.[A-Za-z][A-Za-z0-9_-]{0,63}\}$/, 'A variable reference like @{var.personality}');

/**
 * An agent a template creates. `ref` is how the bundle's documents name it (`@{agent.<ref>}` in an
 * `agent.runSkill` node's agentId); installing binds it to the new agent's id.
 */
export const TemplateAgentSchema = z.object({
  ref: IdSchema,
  name: z.string().trim().min(1).max(100),
  description: z.string().max(2000).default(''),
  systemPrompt: z.string().max(20_000).default(''),
  skills: z.array(SkillIdSchema).max(50).default([]),
  tools: z.array(z.enum(AGENT_TOOLS)).max(AGENT_TOOLS.length).default([]),
  personality: z.union([ref, PersonalitySchema.partial()]).default({}),
  caps: AgentCapsSchema.partial().default({}),
});
export type TemplateAgent = z.output<typeof TemplateAgentSchema>;

export const ChangelogEntrySchema = z.object({
  version: SemverSchema,
  date: z.string().max(40).optional(),
  notes: z.string().max(5000),
});

const templateFields = {
  id: IdSchema,
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000),
  category: z.enum(TEMPLATE_CATEGORIES),
  tags: z.array(z.string().trim().toLowerCase().min(1).max(40)).max(20).default([]),
  author: z.string().trim().min(1).max(100),
  version: SemverSchema,
  changelog: z.array(ChangelogEntrySchema).max(200).default([]),
  /** Checked against what the flows and agents use: a bundle that needs more is refused. */
  requiredPermissions: z.array(PermissionSchema).max(50).default([]),
  variables: z.array(TemplateVariableSchema).max(50).default([]),
  /** Flows of any kind (workflow, behavior, plan). */
  documents: z.array(FlowDocumentSchema).max(20).default([]),
  agents: z.array(TemplateAgentSchema).max(10).default([]),
  /** Markdown, rendered without HTML (a renderer that cannot run script). */
  docs: z.string().max(50_000).default(''),
};

/** A gallery entry: flows and agents plus the variables the installer fills, permissions and docs. */
export const TemplateSchema = z.object(templateFields).superRefine((t, ctx) => {
  if (t.documents.length + t.agents.length === 0) ctx.addIssue({ code: 'custom', path: ['documents'], message: 'A template holds at least one flow or agent' });
  const dup = (xs: string[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  const d = dup(t.documents.map((x) => x.id));
  if (d) ctx.addIssue({ code: 'custom', path: ['documents'], message: `Two flows have the id "${d}"` });
  const a = dup(t.agents.map((x) => x.ref));
  if (a) ctx.addIssue({ code: 'custom', path: ['agents'], message: `Two agents have the ref "${a}"` });
  const v = dup(t.variables.map((x) => x.key));
  if (v) ctx.addIssue({ code: 'custom', path: ['variables'], message: `Two variables have the key "${v}"` });
});
export type Template = z.output<typeof TemplateSchema>;
export type TemplateInput = z.input<typeof TemplateSchema>;
