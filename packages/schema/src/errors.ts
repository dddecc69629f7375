/**
 * The project's one error hierarchy. Every failure that crosses a module boundary is a
 * `SwitchyardError` with a literal `code`; the runtime maps codes to tRPC codes in exactly one
 * place (apps/runtime/src/errors.ts). `cause` is kept for logs, never shown to clients.
 */
export const ERROR_CODES = [
  'BAD_INPUT', // schema validation failed (zod issues attached)
  'NOT_FOUND',
  'CONFLICT', // optimistic version mismatch, duplicate id
  'UNAUTHORIZED',
  'FORBIDDEN',
  'INVALID_DOCUMENT', // a flow document that fails compilation with errors
  'INVALID_STATE', // e.g. approving a run that is not waiting for approval
  'OUTBOUND_BLOCKED', // outbound guard refused a target
  'OUTBOUND_FAILED', // the remote answered with an error or timed out
  'RATE_LIMITED',
  'UNAVAILABLE', // the change could not be stored (database refused or unreachable); nothing was applied, try again
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One validation problem, zod-style: where (`path`) and what (`message`). */
export interface ErrorIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

export class SwitchyardError extends Error {
  override readonly name = 'SwitchyardError';
  readonly code: ErrorCode;
  readonly issues: ErrorIssue[];
  /** Retrying the same input cannot succeed (Temporal's non-retryable failure). */
  readonly nonRetryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; issues?: ErrorIssue[]; nonRetryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options.issues ?? [];
    this.nonRetryable = options.nonRetryable ?? (code !== 'OUTBOUND_FAILED' && code !== 'INTERNAL' && code !== 'UNAVAILABLE');
  }
}

export const isSwitchyardError = (e: unknown): e is SwitchyardError => e instanceof SwitchyardError;

/** Turns zod issues (v4 `error.issues`) into our issue shape. */
export function issuesFromZod(issues: readonly { path: readonly PropertyKey[]; message: string; code?: string }[]): ErrorIssue[] {
  return issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? p : String(p))),
    message: i.message,
    ...(i.code ? { code: i.code } : {}),
  }));
}
