import { analyzePlan, compile, type CompileResult } from '@switchyard/actors';

/**
 * The canvas's check of a draft: a plan by the plan analyser (steps and dependencies; it has no
 * trigger to miss), anything else by the compiler. Same shape as `compile`, so the editor's
 * session can use either.
 */
export function checkDraft(document: unknown): CompileResult {
  if ((document as { kind?: unknown } | null)?.kind !== 'plan') return compile(document);
  const a = analyzePlan(document);
  return { machine: null, diagnostics: a.diagnostics, document: a.document };
}
