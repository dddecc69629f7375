import jsep from 'jsep';

/**
 * The safe expression language used by conditions, filters and `{{ }}` templates.
 * jsep parses; this file evaluates a small, closed subset over plain data: literals, names,
 * member access on own properties, arithmetic, comparison, logic, ternary and a fixed set of
 * functions. No eval, no prototype access, no calls on values.
 */
export type Scope = Readonly<Record<string, unknown>>;

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const MAX_NODES = 500;

type Fn = (...args: unknown[]) => unknown;
const str = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

const FUNCTIONS: Record<string, Fn> = {
  lower: (v) => str(v).toLowerCase(),
  upper: (v) => str(v).toUpperCase(),
  trim: (v) => str(v).trim(),
  contains: (h, n) => (Array.isArray(h) ? h.includes(n) : str(h).toLowerCase().includes(str(n).toLowerCase())),
  startsWith: (h, n) => str(h).toLowerCase().startsWith(str(n).toLowerCase()),
  endsWith: (h, n) => str(h).toLowerCase().endsWith(str(n).toLowerCase()),
  len: (v) => (Array.isArray(v) ? v.length : typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  json: (v) => JSON.stringify(v ?? null),
  number: (v) => Number(v),
  string: str,
  round: (v, d) => {
    const p = 10 ** Number(d ?? 0);
    return Math.round(Number(v) * p) / p;
  },
  min: (...a) => Math.min(...a.map(Number)),
  max: (...a) => Math.max(...a.map(Number)),
  coalesce: (...a) => a.find((v) => v !== null && v !== undefined && v !== ''),
  domain: (v) => str(v).split('@')[1]?.toLowerCase() ?? '',
  firstName: (v) => str(v).trim().split(/\s+/)[0] ?? '',
  /** A list as text: its items (objects as JSON) between `sep` (", " by default); one value as itself. */
  join: (list, sep) => (Array.isArray(list) ? list.map(str).join(sep === undefined || sep === null ? ', ' : str(sep)) : str(list)),
};
export const EXPRESSION_FUNCTIONS = Object.keys(FUNCTIONS);
/** Own names only: `toString`, `constructor` and the rest of Object.prototype are not functions here. */
const isFunction = (name: string) => Object.prototype.hasOwnProperty.call(FUNCTIONS, name);

const cache = new Map<string, jsep.Expression>();

/** Parses (and caches) an expression; throws ExpressionError with a readable message. */
export function parseExpression(source: string): jsep.Expression {
  const hit = cache.get(source);
  if (hit) return hit;
  let ast: jsep.Expression;
  try {
    ast = jsep(source);
  } catch (e) {
    throw new ExpressionError(`Cannot read expression: ${(e as Error).message}`);
  }
  let count = 0;
  const check = (n: jsep.Expression): void => {
    if (++count > MAX_NODES) throw new ExpressionError('Expression is too long');
    switch (n.type) {
      case 'Literal':
        return;
      case 'Identifier':
        if (FORBIDDEN_KEYS.has((n as jsep.Identifier).name)) throw new ExpressionError('That name is not accessible');
        return;
      case 'ThisExpression':
        throw new ExpressionError('"this" is not available');
      case 'MemberExpression': {
        const m = n as jsep.MemberExpression;
        check(m.object);
        if (m.computed) check(m.property);
        else if (FORBIDDEN_KEYS.has((m.property as jsep.Identifier).name)) throw new ExpressionError('That property is not accessible');
        return;
      }
      case 'CallExpression': {
        const c = n as jsep.CallExpression;
        if (c.callee.type !== 'Identifier' || !isFunction((c.callee as jsep.Identifier).name))
          throw new ExpressionError(`Unknown function; available: ${EXPRESSION_FUNCTIONS.join(', ')}`);
        c.arguments.forEach(check);
        return;
      }
      case 'BinaryExpression':
      case 'LogicalExpression': {
        const b = n as jsep.BinaryExpression;
        check(b.left);
        check(b.right);
        return;
      }
      case 'UnaryExpression':
        check((n as jsep.UnaryExpression).argument);
        return;
      case 'ConditionalExpression': {
        const c = n as jsep.ConditionalExpression;
        check(c.test);
        check(c.consequent);
        check(c.alternate);
        return;
      }
      case 'ArrayExpression':
        (n as jsep.ArrayExpression).elements.forEach((e) => e && check(e));
        return;
      case 'Compound':
        throw new ExpressionError('Write a single expression');
      default:
        throw new ExpressionError(`"${n.type}" is not supported in expressions`);
    }
  };
  check(ast);
  if (cache.size > 5000) cache.clear();
  cache.set(source, ast);
  return ast;
}

const own = (obj: unknown, key: string | number): unknown => {
  if (obj === null || obj === undefined) return undefined;
  if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) throw new ExpressionError('That property is not accessible');
  if ((Array.isArray(obj) || typeof obj === 'string') && key === 'length') return obj.length;
  if (typeof obj !== 'object' && typeof obj !== 'string') return undefined;
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string | number, unknown>)[key] : undefined;
};

const looseEqual = (a: unknown, b: unknown) => (a === b ? true : a == null || b == null ? a == b : typeof a === 'object' || typeof b === 'object' ? false : String(a) === String(b));

function evaluate(n: jsep.Expression, scope: Scope): unknown {
  switch (n.type) {
    case 'Literal':
      return (n as jsep.Literal).value;
    case 'Identifier': {
      const name = (n as jsep.Identifier).name;
      if (name === 'true') return true;
      if (name === 'false') return false;
      if (name === 'null') return null;
      return own(scope, name);
    }
    case 'MemberExpression': {
      const m = n as jsep.MemberExpression;
      const obj = evaluate(m.object, scope);
      const key = m.computed ? evaluate(m.property, scope) : (m.property as jsep.Identifier).name;
      if (typeof key !== 'string' && typeof key !== 'number') return undefined;
      return own(obj, key);
    }
    case 'CallExpression': {
      const c = n as jsep.CallExpression;
      const fn = FUNCTIONS[(c.callee as jsep.Identifier).name]!;
      return fn(...c.arguments.map((a) => evaluate(a, scope)));
    }
    case 'LogicalExpression':
    case 'BinaryExpression': {
      const b = n as jsep.BinaryExpression;
      if (b.operator === '&&') return truthy(evaluate(b.left, scope)) ? evaluate(b.right, scope) : evaluate(b.left, scope);
      if (b.operator === '||') {
        const l = evaluate(b.left, scope);
        return truthy(l) ? l : evaluate(b.right, scope);
      }
      if (b.operator === '??') {
        const l = evaluate(b.left, scope);
        return l ?? evaluate(b.right, scope);
      }
      const l = evaluate(b.left, scope) as never;
      const r = evaluate(b.right, scope) as never;
      switch (b.operator) {
        case '==': return looseEqual(l, r);
        case '!=': return !looseEqual(l, r);
        case '===': return l === r;
        case '!==': return l !== r;
        case '<': return l < r;
        case '<=': return l <= r;
        case '>': return l > r;
        case '>=': return l >= r;
        case '+': return typeof l === 'number' && typeof r === 'number' ? l + r : str(l) + str(r);
        case '-': return Number(l) - Number(r);
        case '*': return Number(l) * Number(r);
        case '/': return Number(l) / Number(r);
        case '%': return Number(l) % Number(r);
        default: throw new ExpressionError(`Operator "${b.operator}" is not supported`);
      }
    }
    case 'UnaryExpression': {
      const u = n as jsep.UnaryExpression;
      const v = evaluate(u.argument, scope);
      switch (u.operator) {
        case '!': return !truthy(v);
        case '-': return -Number(v);
        case '+': return Number(v);
        default: throw new ExpressionError(`Operator "${u.operator}" is not supported`);
      }
    }
    case 'ConditionalExpression': {
      const c = n as jsep.ConditionalExpression;
      return truthy(evaluate(c.test, scope)) ? evaluate(c.consequent, scope) : evaluate(c.alternate, scope);
    }
    case 'ArrayExpression':
      return (n as jsep.ArrayExpression).elements.map((e) => (e ? evaluate(e, scope) : null));
    default:
      throw new ExpressionError(`"${n.type}" is not supported in expressions`);
  }
}

export const truthy = (v: unknown): boolean => (Array.isArray(v) ? v.length > 0 : Boolean(v));

/** Evaluates an expression against plain data. Throws ExpressionError on bad syntax. */
export function evaluateExpression(source: string, scope: Scope): unknown {
  return evaluate(parseExpression(source), scope);
}

const TEMPLATE_RE = /\{\{([\s\S]*?)\}\}/g;

/** Every `{{ expr }}` in a string. */
export function templateExpressions(text: string): string[] {
  return [...text.matchAll(TEMPLATE_RE)].map((m) => m[1]!.trim());
}

/**
 * Renders `{{ expr }}` placeholders. A string that is exactly one placeholder keeps the value's
 * type (so `{{ trigger.to }}` stays an array); otherwise values are stringified in place.
 */
export function renderTemplate(text: string, scope: Scope): unknown {
  const whole = /^\s*\{\{([\s\S]*?)\}\}\s*$/.exec(text);
  if (whole && !whole[1]!.includes('}}')) return evaluateExpression(whole[1]!.trim(), scope);
  return text.replace(TEMPLATE_RE, (_, expr: string) => str(evaluateExpression(expr.trim(), scope)));
}

/** Renders templates in every string of a params object (deep). */
export function renderParams<T>(value: T, scope: Scope): T {
  if (typeof value === 'string') return (value.includes('{{') ? renderTemplate(value, scope) : value) as T;
  if (Array.isArray(value)) return value.map((v) => renderParams(v, scope)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderParams(v, scope);
    return out as T;
  }
  return value;
}
