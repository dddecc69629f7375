import type { z } from 'zod';
import type { SkillManifest } from '@switchyard/schema';

/** A contact as skills see it. */
export interface SkillContact {
  id: string;
  name: string;
  email: string;
  company: string;
  title: string;
  relationshipStrength: number;
  lastInteractionAt: string | null;
  tags: string[];
  notes: string;
}

export interface SkillEmail {
  id: string;
  threadId: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string[];
  subject: string;
  body: string;
  at: string;
}

export interface WebResult {
  title: string;
  url: string;
  snippet: string;
}

export interface SocialProfile {
  provider: string;
  handle: string | null;
  headline: string | null;
  signals: string[];
}

export interface CalendarEvent {
  id: string;
  title: string;
  startsAt: string;
  endsAt: string;
  attendees: string[];
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  arguments: unknown;
}

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * One model call. `offline` is the deterministic answer used when no model is configured: every
 * skill knows how to do its job without a model, the model only does it better.
 */
export interface LlmRequest<T> {
  purpose: string;
  system: string;
  messages: LlmMessage[];
  /** Structured output, validated (one repair retry) before it reaches the skill. */
  schema?: { name: string; zod: z.ZodType<T> };
  tools?: ToolSpec[];
  /** The prompt includes content nobody vetted (email bodies, web results). */
  untrusted?: boolean;
  offline: () => { text: string; data?: T };
}

export interface LlmResult<T> {
  text: string;
  data: T | undefined;
  toolCalls: ToolCall[];
  model: string;
}

/**
 * Everything a skill may touch. The runtime implements it per request, behind the agent's tool
 * allow-list and the per-run caps; tests use a fake. No Node built-ins, no database here.
 */
export interface SkillPorts {
  now(): number;
  crm: {
    getContact(id: string): Promise<SkillContact | null>;
    findContactByEmail(email: string): Promise<SkillContact | null>;
    searchEmails(q: { address?: string; threadId?: string; limit: number }): Promise<SkillEmail[]>;
  };
  memory: {
    remember(key: string, value: unknown, ttlSeconds?: number): Promise<void>;
    recall(key: string): Promise<unknown>;
    addInteraction(entityType: string, entityId: string, data: Record<string, unknown>): Promise<void>;
  };
  llm: { complete<T>(req: LlmRequest<T>): Promise<LlmResult<T>> };
  web: { search(q: { query: string; limit: number }): Promise<WebResult[]> };
  social: { enrich(q: { contact: SkillContact; providers: string[] }): Promise<SocialProfile[]> };
  calendar: { list(q: { from: string; to: string }): Promise<CalendarEvent[]> };
  /** Visible effects. Each one is exactly-once in the runtime and may wait for approval. */
  effects: {
    createDraft(d: { to: string[]; subject: string; body: string; threadId?: string; contactId?: string }): Promise<EffectOutcome>;
    sendEmail(e: { to: string[]; subject: string; body: string; threadId?: string }): Promise<EffectOutcome>;
    scheduleFollowUp(f: { email: string; dueAt: string; note: string }): Promise<EffectOutcome>;
    createCalendarEvent(e: { title: string; startsAt: string; endsAt: string; attendees: string[]; description: string }): Promise<EffectOutcome>;
  };
  /** Runs a tool call a model asked for; the dispatcher decides whether it may run. */
  tools: { available(): ToolSpec[]; invoke(call: ToolCall): Promise<{ ok: boolean; result?: unknown; refused?: string }> };
}

/** `done`: it happened; `pending`: it waits for a person's approval; `refused`: not allowed. */
export type EffectOutcome =
  | { status: 'done'; id: string | null }
  | { status: 'pending'; approvalId: string }
  | { status: 'refused'; reason: string };

export interface SkillContext {
  userId: string;
  agent: { id: string; name: string; systemPrompt: string; personalityPrompt: string };
  /** The event that started the workflow, when a workflow asked. */
  trigger?: unknown;
  ports: SkillPorts;
}

export interface SkillResult {
  success: boolean;
  output: unknown;
  error?: string;
  sideEffects?: { type: string; data: unknown }[];
  suggestedNextSteps?: string[];
}

/** A manifest plus its implementation. */
export interface Skill<P extends z.ZodType = z.ZodType> extends SkillManifest<P> {
  execute(params: z.output<P>, ctx: SkillContext): Promise<SkillResult>;
}

export const defineSkill = <P extends z.ZodType>(s: Skill<P>): Skill => s as unknown as Skill;
