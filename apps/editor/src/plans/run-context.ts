import { templateExpressions } from '@switchyard/actors';
import type { FlowDocument } from '@switchyard/schema';
import { z } from 'zod';

/**
 * What a plan reads from its run's context (`{{ context.<key> }}` in its steps' params), as the
 * fields of the canvas's Run plan dialog, and the context those fields make. Kept apart from
 * React so it is tested on its own.
 */

/** How a context value is entered: a contact picked from the CRM, a line of text, or a JSON object (for `context.<key>.<field>`). */
export type ContextFieldKind = 'contact' | 'text' | 'json';

export interface ContextField {
  key: string;
  kind: ContextFieldKind;
  /** The steps (result names) that read it, in the plan's order. */
  steps: string[];
}

const CONTEXT_REF = /(?<![\w$.])context\s*\.\s*([A-Za-z_$][\w$]*)(\s*\.\s*[A-Za-z_$]|\s*\[)?/g;
const MAX_KEYS = 20;
export const MAX_CONTEXT_VALUE = 2000;

const isContactKey = (key: string) => /contactid$/i.test(key);

function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

/** Every context key the plan's steps read, in the order they first appear, with how to enter it. */
export function contextFieldsOf(document: Pick<FlowDocument, 'nodes'>): ContextField[] {
  const fields = new Map<string, ContextField>();
  for (const node of document.nodes) {
    if (node.type !== 'plan.step') continue;
    const step = typeof node.params.name === 'string' && node.params.name ? node.params.name : node.id;
    for (const text of stringsIn(node.params.params)) {
      for (const expr of templateExpressions(text)) {
        for (const m of expr.matchAll(CONTEXT_REF)) {
          const key = m[1]!;
          const deep = Boolean(m[2]);
          const field = fields.get(key) ?? { key, kind: isContactKey(key) ? 'contact' : 'text', steps: [] };
          // A key read deeper (`context.deal.amount`) needs an object; a contact id stays an id.
          if (deep && field.kind === 'text') field.kind = 'json';
          if (!field.steps.includes(step)) field.steps.push(step);
          fields.set(key, field);
        }
      }
    }
  }
  return [...fields.values()].slice(0, MAX_KEYS);
}

const textValue = z.string().trim().min(1, 'Enter a value').max(MAX_CONTEXT_VALUE, `At most ${MAX_CONTEXT_VALUE} characters`);
const contactValue = z.string().trim().min(1, 'Pick a contact');
const jsonValue = textValue.transform((text, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'Not valid JSON, e.g. {"amount": 1200}' });
    return z.NEVER;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'Enter a JSON object, e.g. {"amount": 1200}' });
    return z.NEVER;
  }
  return parsed as Record<string, unknown>;
});

const schemaOf = (kind: ContextFieldKind) => (kind === 'contact' ? contactValue : kind === 'json' ? jsonValue : textValue);

/**
 * The run's context from the dialog's values: every field is required (a step reading a missing
 * key would fail), text is trimmed, JSON fields must hold an object. Errors are by key.
 */
export function runContextOf(fields: readonly ContextField[], values: Readonly<Record<string, string>>):
  | { ok: true; context: Record<string, unknown> }
  | { ok: false; errors: Record<string, string> } {
  const context: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const r = schemaOf(f.kind).safeParse(values[f.key] ?? '');
    if (r.success) context[f.key] = r.data;
    else errors[f.key] = r.error.issues[0]?.message ?? 'Invalid value';
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, context };
}

/** "contactId" → "Contact", "dealNotes" → "Deal notes": a field's label from its key. */
export function labelOfKey(key: string): string {
  const base = isContactKey(key) && key.length > 'contactid'.length ? key.slice(0, -2) : isContactKey(key) ? 'contact' : key;
  const words = base.replace(/[_-]+/g, ' ').replace(/([a-z0-9])([A-Z])/g, '$1 $2').trim().toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
}
