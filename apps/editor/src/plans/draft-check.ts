import { analyzePlan, compile, type CompileResult } from '@switchyard/actors';
import { planSizeProblem } from '@switchyard/schema';

/**
 * The canvas's check of a draft: a plan by the plan analyser (steps and dependencies; it has no
 * trigger to miss; at most `MAX_PLAN_STEPS` steps), anything else by the compiler. Same shape as `compile`, so the editor's
 * session can use either.
 */
export function checkDraft(document: unknown): CompileResult {
  if ((document as { kind?: unknown } | null)?.kind !== 'plan') return compile(document);
  // A plan bigger than a plan may be is one problem, and is not analysed (as in the runtime).
  const tooBig = planSizeProblem(document);
  if (tooBig) return { machine: null, diagnostics: [tooBig], document: null };
  const a = analyzePlan(document);
  return { machine: null, diagnostics: a.diagnostics, document: a.document };
}
