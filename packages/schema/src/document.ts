import { z } from 'zod';

/** Ids are used as XState state keys and in expressions, so they stay plain. */
export const IdSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'Use 1-64 letters, digits, "-" or "_", starting with a letter');

export const FLOW_KINDS = ['workflow', 'behavior', 'plan'] as const;
export const FlowKindSchema = z.enum(FLOW_KINDS);
export type FlowKind = z.infer<typeof FlowKindSchema>;

export const PositionSchema = z.object({ x: z.number().finite(), y: z.number().finite() });

export const FlowNodeSchema = z.object({
  id: IdSchema,
  type: z.string().min(1).max(100),
  typeVersion: z.number().int().positive().default(1),
  /** Display name on the canvas; edges never refer to it (n8n's rename bugs). */
  label: z.string().max(200).optional(),
  position: PositionSchema.default({ x: 0, y: 0 }),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type FlowNode = z.infer<typeof FlowNodeSchema>;

export const FlowEdgeSchema = z.object({
  id: IdSchema,
  source: IdSchema,
  sourceHandle: z.string().min(1).max(64).default('out'),
  target: IdSchema,
  targetHandle: z.string().min(1).max(64).default('in'),
});
export type FlowEdge = z.infer<typeof FlowEdgeSchema>;

export const FlowSettingsSchema = z
  .object({
    /** Default timezone for schedule triggers and business-hours checks. */
    timezone: z.string().max(64).optional(),
    /**
     * Behaviors: who it runs for. `owner` (absent): the user who deployed it. `everyone`: every
     * active user of the instance, each in their own scope (only the instance owner may deploy it).
     */
    audience: z.enum(['owner', 'everyone']).optional(),
  })
  .default({});

export const SCHEMA_VERSION = 1 as const;

export const FlowDocumentSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  id: IdSchema,
  kind: FlowKindSchema,
  name: z.string().trim().min(1, 'Give the flow a name').max(200),
  description: z.string().max(5000).default(''),
  version: z.number().int().nonnegative().default(0),
  nodes: z.array(FlowNodeSchema).max(5000),
  edges: z.array(FlowEdgeSchema).max(20000),
  settings: FlowSettingsSchema,
});
export type FlowDocument = z.infer<typeof FlowDocumentSchema>;
/** What a client may send: defaults not yet applied. */
export type FlowDocumentInput = z.input<typeof FlowDocumentSchema>;
