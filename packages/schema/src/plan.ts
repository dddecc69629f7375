import { z } from 'zod';
import { SkillIdSchema } from './agent';

export { ANY_AGENT, StepNameSchema, planStepNode } from './nodes/plan';

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
