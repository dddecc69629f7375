export const DIAGNOSTIC_CODES = [
  'invalid-document',
  'duplicate-id',
  'unknown-node-type',
  'invalid-params',
  'invalid-expression',
  'invalid-cron',
  'invalid-timezone',
  'invalid-duration',
  'invalid-interval',
  'dangling-edge',
  'unknown-handle',
  'missing-trigger',
  'unreachable-node',
  'cycle',
  'port-type-mismatch',
  'kind-not-allowed',
  /** A node of a for-each's branch (run once per item) also takes input from outside that branch. */
  'foreach-body-entry',
] as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

/** A compile problem, pinned to the node (or edge) at fault so the editor can show it there. */
export interface Diagnostic {
  code: DiagnosticCode;
  severity: 'error' | 'warning';
  message: string;
  nodeId?: string;
  edgeId?: string;
  /** Path inside the document, e.g. ['nodes', 3, 'params', 'cron']. */
  path: (string | number)[];
}

export const hasErrors = (ds: readonly Diagnostic[]): boolean => ds.some((d) => d.severity === 'error');
