import { z } from 'zod';
import { SkillIdSchema } from './agent';
import type { Diagnostic } from './diagnostics';

export { ANY_AGENT, StepNameSchema, planStepNode } from './nodes/plan';

/**
 * The most steps one plan may have. A flow document may hold 5,000 nodes, but a plan's checks and
 * its machine (one parallel region per step) grow faster than its steps: `plans.run`,
 * `plans.validate`, `flows.validate` and the canvas refuse a bigger plan with one diagnostic.
 */
export const MAX_PLAN_STEPS = 100;

/** The size rule of plans: one diagnostic on `nodes` for a plan of more than `MAX_PLAN_STEPS` steps, or null. */
export function planSizeProblem(document: unknown): Diagnostic | null {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes) || nodes.length <= MAX_PLAN_STEPS) return null;
  return { code: 'invalid-document', severity: 'error', message: `A plan holds at most ${MAX_PLAN_STEPS} steps (this one has ${nodes.length}): split it into smaller plans`, path: ['nodes'] };
}

/**
 * The longest wait between two attempts of a plan step: the most a timer can hold (2^31-1 ms,
 * about 24.8 days). A longer `setTimeout` fires at once, so a bigger backoff would retry at once.
 */
export const MAX_PLAN_BACKOFF_MS = 2_147_483_647;

/** `plans.fromTask` input: a task in plain words and optional context (the seed's CoordinationTask). */
export const PlanTaskSchema = z.object({
  description: z.string().trim().min(1, 'Describe the task').max(5000),
  context: z.record(z.string(), z.unknown()).default({}),
});
export type PlanTask = z.input<typeof PlanTaskSchema>;

/**
 * What the task analysis (the model's structured output, or the offline analyser) returns: the
 * skills needed, how they depend on each other and a rough duration (seed days 5-6).
 */
export const TaskAnalysisSchema = z.object({
  requiredSkills: z.array(z.object({
    /** Result name of the step (`research`, `email`). */
    name: z.string().regex(/^[a-z][A-Za-z0-9_]{0,63}$/),
    skill: SkillIdSchema,
    /** Names of the steps this one needs first. */
    dependsOn: z.array(z.string()).max(50).default([]),
    params: z.record(z.string(), z.unknown()).default({}),
    critical: z.boolean().default(true),
  })).min(1).max(50),
  sequencing: z.enum(['parallel', 'sequential', 'mixed']),
  estimatedDurationMinutes: z.number().min(0).max(10_000),
});
export type TaskAnalysis = z.output<typeof TaskAnalysisSchema>;

export const PLAN_RUN_STATUSES = ['running', 'success', 'failed', 'cancelled'] as const;
export type PlanRunStatus = (typeof PLAN_RUN_STATUSES)[number];

export const PLAN_STEP_STATUSES = ['pending', 'running', 'done', 'failed', 'skipped', 'cancelled'] as const;
export type PlanStepStatus = (typeof PLAN_STEP_STATUSES)[number];

/** A plan run's outcome, in the seed's shape. */
export interface PlanOutcome {
  status: PlanRunStatus;
  /** Output of every step that finished, by result name. */
  results: Record<string, unknown>;
  errors: { step: string; message: string; critical: boolean }[];
  /** Milliseconds from start to end. */
  duration: number;
  summary: string;
}
