import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ExpressionError, evaluateExpression, renderTemplate } from './expression';

const scope = { trigger: { from: 'Alice@Acme.test', subject: 'Hi', to: ['a', 'b'], isImportant: true, n: 3 }, nodes: { a: { title: 'T' } } };

describe('expression language', () => {
  it('evaluates member access, logic, comparison, ternary and functions', () => {
    expect(evaluateExpression('trigger.isImportant && trigger.n > 2', scope)).toBe(true);
    expect(evaluateExpression('domain(trigger.from)', scope)).toBe('acme.test');
    expect(evaluateExpression('contains(trigger.subject, "hi") ? "yes" : "no"', scope)).toBe('yes');
    expect(evaluateExpression('trigger.to[1]', scope)).toBe('b');
    expect(evaluateExpression('trigger.to.length + 1', scope)).toBe(3);
    expect(evaluateExpression('trigger.missing.deeper', scope)).toBeUndefined();
  });

  it('renders templates keeping the type of a lone placeholder', () => {
    expect(renderTemplate('Re: {{ trigger.subject }}', scope)).toBe('Re: Hi');
    expect(renderTemplate('{{ trigger.to }}', scope)).toEqual(['a', 'b']);
    expect(renderTemplate('{{ nodes.a.title }} and {{ trigger.n }}', scope)).toBe('T and 3');
  });

  it('join: a list as readable text, a lone value as itself, nothing as empty', () => {
    const data = { ...scope, research: { insights: ['CTO at Acme', 'Strong relationship (0.80)'], mixed: [1, null, { a: 1 }, 'x'], none: [] } };
    expect(evaluateExpression('join(research.insights, "; ")', data)).toBe('CTO at Acme; Strong relationship (0.80)');
    expect(evaluateExpression('join(research.insights)', data)).toBe('CTO at Acme, Strong relationship (0.80)');
    expect(evaluateExpression('join(research.mixed, " | ")', data)).toBe('1 |  | {"a":1} | x');
    expect(evaluateExpression('join(research.none)', data)).toBe('');
    expect(evaluateExpression('join(trigger.subject)', data)).toBe('Hi');
    expect(evaluateExpression('join(trigger.missing, "-")', data)).toBe('');
    expect(renderTemplate('Found: {{ join(research.insights, "; ") }}.', data)).toBe('Found: CTO at Acme; Strong relationship (0.80).');
    // Without it, a list mixed with text is JSON.
    expect(renderTemplate('Found: {{ research.insights }}', data)).toBe('Found: ["CTO at Acme","Strong relationship (0.80)"]');
  });

  it('functions are its own list: names from Object.prototype are unknown functions', () => {
    for (const bad of ['constructor("x")', 'toString()', 'valueOf()', 'hasOwnProperty("trigger")', '__lookupGetter__("x")', 'isPrototypeOf(trigger)']) {
      expect(() => evaluateExpression(bad, scope), bad).toThrow(/^Unknown function; available: .*\bjoin\b/);
    }
  });

  it('refuses code: prototypes, constructors, this, unknown functions, calls on values', () => {
    for (const bad of ['constructor', 'trigger.constructor', 'trigger["__proto__"]', 'this', 'process.exit()', 'trigger.subject.toUpperCase()', 'a = 1', 'a; b']) {
      expect(() => evaluateExpression(bad, scope), bad).toThrow(ExpressionError);
    }
  });

  it('never throws anything but ExpressionError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (src) => {
        try {
          evaluateExpression(src, scope);
        } catch (e) {
          expect(e).toBeInstanceOf(ExpressionError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
