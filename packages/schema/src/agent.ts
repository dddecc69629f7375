import { z } from 'zod';

/** The six personality traits, each 0..1 (seed days 8-9). */
export const PERSONALITY_TRAITS = ['formality', 'enthusiasm', 'brevity', 'proactivity', 'creativity', 'empathy'] as const;
export type PersonalityTrait = (typeof PERSONALITY_TRAITS)[number];

const trait = z.number().min(0).max(1).default(0.5);

export const PersonalitySchema = z.object({
  formality: trait.describe('Casual (0) to formal (1)'),
  enthusiasm: trait.describe('Reserved (0) to enthusiastic (1)'),
  brevity: trait.describe('Verbose (0) to concise (1)'),
  proactivity: trait.describe('Reactive (0) to proactive (1)'),
  creativity: trait.describe('Conventional (0) to creative (1)'),
  empathy: trait.describe('Logical (0) to empathetic (1)'),
});
export type Personality = z.output<typeof PersonalitySchema>;
export const DEFAULT_PERSONALITY: Personality = PersonalitySchema.parse({});

/**
 * Feedback a person gives on an agent's answer, and the trait it moves (seed days 8-9: each item
 * moves one trait by 0.1, clamped to 0..1).
 */
export const FEEDBACK_ADJUSTMENTS = {
  'too-formal': { trait: 'formality', delta: -0.1 },
  'too-casual': { trait: 'formality', delta: 0.1 },
  'too-long': { trait: 'brevity', delta: 0.1 },
  'too-short': { trait: 'brevity', delta: -0.1 },
  'too-enthusiastic': { trait: 'enthusiasm', delta: -0.1 },
  'too-flat': { trait: 'enthusiasm', delta: 0.1 },
  'too-pushy': { trait: 'proactivity', delta: -0.1 },
  'too-passive': { trait: 'proactivity', delta: 0.1 },
  'too-creative': { trait: 'creativity', delta: -0.1 },
  'too-generic': { trait: 'creativity', delta: 0.1 },
  'too-cold': { trait: 'empathy', delta: 0.1 },
  'too-emotional': { trait: 'empathy', delta: -0.1 },
} as const satisfies Record<string, { trait: PersonalityTrait; delta: number }>;
export type FeedbackType = keyof typeof FEEDBACK_ADJUSTMENTS;
export const FEEDBACK_TYPES = Object.keys(FEEDBACK_ADJUSTMENTS) as [FeedbackType, ...FeedbackType[]];

/**
 * Tools an agent may be allowed to use. The runtime's dispatcher refuses any call outside an
 * agent's allow-list, whatever a prompt or a model says.
 */
export const AGENT_TOOLS = [
  'getContact', 'searchEmails', 'searchWeb', 'enrichContact', 'memory',
  'createDraft', 'sendEmail', 'updateContact', 'createTask', 'scheduleFollowUp',
  'readCalendar', 'createCalendarEvent',
] as const;
export type AgentTool = (typeof AGENT_TOOLS)[number];

/** Tools whose use a person sees outside the studio: proposed after untrusted input, they wait for approval. */
export const EXTERNAL_TOOLS: readonly AgentTool[] = ['sendEmail', 'updateContact', 'createCalendarEvent'];

/** Agents are rows with server-made ids (uuids). */
export const AgentIdSchema = z.string().trim().min(1).max(100);

export const SkillIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'Lowercase letters, digits and "-"');

/**
 * Per-run limits on what an agent may spend. A workflow run's agent steps share them; a direct
 * request (chat, `agents.runSkill`) has its own.
 */
const capFields = {
  maxSteps: z.number().int().min(1).max(100).describe('Model calls per run'),
  maxToolCalls: z.number().int().min(1).max(1000).describe('Tool calls per request'),
  maxTokens: z.number().int().min(1000).max(1_000_000).describe('Prompt and completion tokens per run'),
};
export const AgentCapsSchema = z.object({
  maxSteps: capFields.maxSteps.default(12),
  maxToolCalls: capFields.maxToolCalls.default(100),
  maxTokens: capFields.maxTokens.default(60_000),
});
export type AgentCaps = z.output<typeof AgentCapsSchema>;
export const DEFAULT_AGENT_CAPS: AgentCaps = AgentCapsSchema.parse({});

const agentFields = {
  name: z.string().trim().min(1, 'Give the agent a name').max(100),
  description: z.string().max(2000).default(''),
  systemPrompt: z.string().max(20_000).default(''),
  skills: z.array(SkillIdSchema).max(50).default([]),
  tools: z.array(z.enum(AGENT_TOOLS)).max(AGENT_TOOLS.length).default([]),
  personality: PersonalitySchema.prefault({}),
  caps: AgentCapsSchema.prefault({}),
  active: z.boolean().default(true),
};

export const AgentSchema = z.object({ id: AgentIdSchema, ...agentFields });
export type Agent = z.output<typeof AgentSchema>;

export const AgentCreateSchema = z.object(agentFields);
export type AgentCreate = z.input<typeof AgentCreateSchema>;

export const AgentUpdateSchema = z.object({
  id: AgentIdSchema,
  name: agentFields.name.optional(),
  description: z.string().max(2000).optional(),
  systemPrompt: z.string().max(20_000).optional(),
  skills: z.array(SkillIdSchema).max(50).optional(),
  tools: z.array(z.enum(AGENT_TOOLS)).max(AGENT_TOOLS.length).optional(),
  // Partial updates name only what changes: no defaults here, or unnamed fields would be reset.
  personality: z.object(Object.fromEntries(PERSONALITY_TRAITS.map((t) => [t, z.number().min(0).max(1)])) as Record<PersonalityTrait, z.ZodNumber>).partial().optional(),
  caps: z.object(capFields).partial().optional(),
  active: z.boolean().optional(),
});
export type AgentUpdate = z.input<typeof AgentUpdateSchema>;

export const AGENT_STATES = ['idle', 'working', 'waiting_approval', 'error'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
