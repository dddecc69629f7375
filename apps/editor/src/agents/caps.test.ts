import { DEFAULT_AGENT_CAPS } from '@switchyard/schema';
import { describe, expect, it } from 'vitest';
import { CAP_FIELDS, capIssue, capsText, parseCaps } from './caps';

describe('agent limits in the form', () => {
  it('takes bounds, defaults and help text from the schema', () => {
    expect(CAP_FIELDS.map((f) => [f.key, f.min, f.max, f.defaultValue])).toEqual([
      ['maxSteps', 1, 100, 12],
      ['maxToolCalls', 1, 1000, 100],
      ['maxTokens', 1000, 1_000_000, 60_000],
    ]);
    expect(CAP_FIELDS.map((f) => f.help.toLowerCase())).toEqual(['model calls per run', 'tool calls per request', 'prompt and completion tokens per run']);
  });

  it('explains what a valid value is for empty, fractional and out-of-range input', () => {
    const steps = CAP_FIELDS[0]!;
    expect(capIssue(steps, '12')).toBeNull();
    for (const bad of ['', '0', '101', '1.5', '-3', 'lots']) expect(capIssue(steps, bad)).toBe('Enter a whole number from 1 to 100.');
    expect(capIssue(CAP_FIELDS[2]!, '999')).toBe('Enter a whole number from 1,000 to 1,000,000.');
  });

  it('parses the three fields or reports each bad one', () => {
    expect(parseCaps(capsText(DEFAULT_AGENT_CAPS))).toEqual({ ok: true, caps: DEFAULT_AGENT_CAPS });
    expect(parseCaps({ maxSteps: '0', maxToolCalls: '5', maxTokens: '' })).toEqual({
      ok: false,
      issues: { maxSteps: 'Enter a whole number from 1 to 100.', maxTokens: 'Enter a whole number from 1,000 to 1,000,000.' },
    });
  });
});
