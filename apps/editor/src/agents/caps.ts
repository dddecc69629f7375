import { AgentCapsSchema, DEFAULT_AGENT_CAPS, type AgentCaps } from '@switchyard/schema';
import { fieldsOf } from '../editor/param-fields';

export type CapKey = keyof AgentCaps;

export interface CapField {
  key: CapKey;
  label: string;
  /** The schema's description: what one unit of the limit is ("Model calls per run"). */
  help: string;
  min: number;
  max: number;
  defaultValue: number;
}

const LABEL: Record<CapKey, string> = { maxSteps: 'Model steps', maxToolCalls: 'Tool calls', maxTokens: 'Tokens' };
const isCapKey = (key: string): key is CapKey => key in LABEL;

/** The agent's limits as the schema defines them: bounds, defaults and help text come from there. */
export const CAP_FIELDS: readonly CapField[] = fieldsOf(AgentCapsSchema).flatMap((f) =>
  f.kind === 'number' && isCapKey(f.key)
    ? [{ key: f.key, label: LABEL[f.key], help: f.description ?? '', min: f.min ?? 1, max: f.max ?? Number.MAX_SAFE_INTEGER, defaultValue: DEFAULT_AGENT_CAPS[f.key] }]
    : [],
);

const fmt = (n: number) => n.toLocaleString('en-US');

/** What is wrong with what was typed into a limit's field, or null when it is a valid value. */
export function capIssue(field: Pick<CapField, 'min' | 'max'>, raw: string): string | null {
  const text = raw.trim();
  const n = Number(text);
  if (text === '' || !/^\d+$/.test(text) || n < field.min || n > field.max) return `Enter a whole number from ${fmt(field.min)} to ${fmt(field.max)}.`;
  return null;
}

export type CapsText = Record<CapKey, string>;

export const capsText = (caps: AgentCaps): CapsText => ({ maxSteps: String(caps.maxSteps), maxToolCalls: String(caps.maxToolCalls), maxTokens: String(caps.maxTokens) });

/** The typed limits, or the problems by key when any field is not a valid value. */
export function parseCaps(text: CapsText): { ok: true; caps: AgentCaps } | { ok: false; issues: Partial<Record<CapKey, string>> } {
  const issues: Partial<Record<CapKey, string>> = {};
  for (const f of CAP_FIELDS) {
    const problem = capIssue(f, text[f.key]);
    if (problem) issues[f.key] = problem;
  }
  if (Object.keys(issues).length) return { ok: false, issues };
  return { ok: true, caps: { maxSteps: Number(text.maxSteps), maxToolCalls: Number(text.maxToolCalls), maxTokens: Number(text.maxTokens) } };
}
