import { z } from 'zod';
import { isValidTimezone, parseDuration, validateCron } from '../time';
import type { DiagnosticCode } from '../diagnostics';

export const NODE_CATEGORIES = ['trigger', 'condition', 'action', 'agent', 'flow'] as const;
export type NodeCategory = (typeof NODE_CATEGORIES)[number];

/**
 * What flows along an edge. `inherit` (outputs only) means "whatever came in", so a condition
 * between an email trigger and a reply action keeps the email type.
 */
export const DATA_TYPES = ['any', 'email', 'contact', 'inherit'] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** The type a node with `inherit` outputs passes on: what all its inputs agree on, else `any`. */
export const joinDataTypes = (types: readonly DataType[]): DataType =>
  types.length > 0 && types.every((t) => t === types[0]) ? types[0]! : 'any';

/** The one typing rule for edges, used by the compiler and by the canvas while a connection is drawn. */
export const portAccepts = (want: DataType, got: DataType): boolean =>
  want === 'any' || want === 'inherit' || got === 'any' || got === 'inherit' || want === got;

export interface PortSpec {
  id: string;
  label: string;
  dataType: DataType;
}

export interface NodeKindSpec<T extends string = string, P extends z.ZodType = z.ZodType> {
  type: T;
  typeVersion: number;
  category: NodeCategory;
  label: string;
  description: string;
  params: P;
  inputs: PortSpec[];
  outputs: PortSpec[];
  /** Domain event a trigger listens to. */
  listensTo?: DomainEventType;
  /** Params holding a bare expression (not a `{{ }}` template). */
  expressionParams?: string[];
  /** Writes something a person can see (the effect ledger keys it). */
  effect?: boolean;
}

export const DOMAIN_EVENT_TYPES = ['email.received', 'email.sent', 'contact.created', 'user.login', 'notification.acted'] as const;
export type DomainEventType = (typeof DOMAIN_EVENT_TYPES)[number];

export const defineNodeKind = <const T extends string, P extends z.ZodType>(spec: NodeKindSpec<T, P>) => spec;

/** Attaches the diagnostic code a failed refinement should surface as. */
export const issue = (code: DiagnosticCode, message: string) => ({ message, params: { diagnostic: code } });

export const durationString = (fallback?: string) => {
  const s = z.string().trim().refine((v) => parseDuration(v) !== null, issue('invalid-duration', 'Use a duration like "1 hour", "30 minutes" or "2d"'));
  return fallback === undefined ? s : s.default(fallback);
};

export const cronString = () =>
  z.string().trim().superRefine((v, ctx) => {
    const problem = validateCron(v);
    if (problem) ctx.addIssue({ code: 'custom', ...issue('invalid-cron', problem) });
  });

export const timezoneString = (fallback?: string) => {
  const s = z.string().trim().refine(isValidTimezone, issue('invalid-timezone', 'Unknown timezone (use an IANA name like "America/New_York")'));
  return fallback === undefined ? s : s.default(fallback);
};

/** `{{ expression }}` templates are allowed in any string param marked with this. */
export const template = (max = 10_000) => z.string().max(max);

export const RetryPolicySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(10).default(1),
    backoffMs: z.number().int().min(0).max(3_600_000).default(1000),
    factor: z.number().min(1).max(10).default(2),
  })
  .default({ maxAttempts: 1, backoffMs: 1000, factor: 2 });

/** Every action carries the same failure policy: retry with backoff, then stop or continue. */
export const actionPolicy = {
  continueOnError: z.boolean().default(false).describe('Continue the flow when this action fails'),
  retry: RetryPolicySchema,
};

export const IN: PortSpec = { id: 'in', label: 'In', dataType: 'any' };
export const OUT: PortSpec = { id: 'out', label: 'Out', dataType: 'inherit' };
