import { z } from 'zod';

/**
 * Inspector fields from a node kind's zod params schema, through zod 4's own JSON Schema
 * conversion (input side, so defaults show as placeholders and optional stays optional).
 */

export type Field =
  | { kind: 'text'; key: string; label: string; description?: string; placeholder?: string; required: boolean; multiline: boolean }
  | { kind: 'number'; key: string; label: string; description?: string; placeholder?: string; required: boolean; integer: boolean; min?: number; max?: number }
  | { kind: 'boolean'; key: string; label: string; description?: string; defaultValue: boolean | undefined }
  | { kind: 'enum'; key: string; label: string; description?: string; options: string[]; defaultValue: string | undefined; required: boolean }
  | { kind: 'list'; key: string; label: string; description?: string; itemType: 'string' | 'number'; placeholder?: string }
  | { kind: 'object'; key: string; label: string; description?: string; fields: Field[] }
  /** A list of small records (a notification's action buttons): one row of simple controls per item. */
  | { kind: 'objectList'; key: string; label: string; description?: string; itemFields: ItemField[]; maxItems?: number }
  | { kind: 'json'; key: string; label: string; description?: string; placeholder?: string };

/** The controls a row of an object list can hold. */
export type ItemField = Extract<Field, { kind: 'text' | 'number' | 'boolean' | 'enum' }>;

const isItemField = (f: Field): f is ItemField => f.kind === 'text' || f.kind === 'number' || f.kind === 'boolean' || f.kind === 'enum';

/** What people read first in a row: its label or name, then the rest in schema order. */
const ROW_FIRST = ['label', 'name', 'title'];

/** The part of JSON Schema the inspector reads (what zod 4's `toJSONSchema` writes). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  maxItems?: number;
  additionalProperties?: unknown;
}

/** `dueIn` -> "Due in", `maxAttempts` -> "Max attempts". */
export function humanize(key: string): string {
  const words = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const LONG_TEXT = new Set(['body', 'description', 'details', 'instructions', 'value', 'note', 'appendNote']);

const placeholderOf = (value: unknown): string | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);

function fieldOf(key: string, schema: JsonSchema, required: boolean): Field {
  const base = { key, label: humanize(key), ...(schema.description ? { description: schema.description } : {}) };
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (schema.enum && schema.enum.every((v) => typeof v === 'string')) {
    return { ...base, kind: 'enum', options: schema.enum as string[], defaultValue: typeof schema.default === 'string' ? schema.default : undefined, required };
  }
  switch (type) {
    case 'string':
      return {
        ...base, kind: 'text', required,
        multiline: LONG_TEXT.has(key) || (schema.maxLength ?? 0) > 2000,
        ...(placeholderOf(schema.default) ? { placeholder: placeholderOf(schema.default)! } : {}),
      };
    case 'integer':
    case 'number':
      return {
        ...base, kind: 'number', required, integer: type === 'integer',
        ...(schema.minimum !== undefined ? { min: schema.minimum } : {}),
        ...(schema.maximum !== undefined ? { max: schema.maximum } : {}),
        ...(placeholderOf(schema.default) ? { placeholder: placeholderOf(schema.default)! } : {}),
      };
    case 'boolean':
      return { ...base, kind: 'boolean', defaultValue: typeof schema.default === 'boolean' ? schema.default : undefined };
    case 'array': {
      const itemType = Array.isArray(schema.items?.type) ? schema.items?.type[0] : schema.items?.type;
      if (itemType === 'string' || itemType === 'integer' || itemType === 'number') {
        return {
          ...base, kind: 'list', itemType: itemType === 'string' ? 'string' : 'number',
          ...(Array.isArray(schema.default) && schema.default.length ? { placeholder: (schema.default as unknown[]).join(itemType === 'string' ? '\n' : ', ') } : {}),
        };
      }
      if (itemType === 'object' && schema.items?.properties && Object.keys(schema.items.properties).length > 0) {
        const itemFields = fieldsOfJsonSchema(schema.items);
        if (itemFields.every(isItemField)) {
          const ordered = [...itemFields].sort((a, b) => rank(a.key) - rank(b.key));
          return { ...base, kind: 'objectList', itemFields: ordered, ...(schema.maxItems !== undefined ? { maxItems: schema.maxItems } : {}) };
        }
      }
      return { ...base, kind: 'json', ...(placeholderOf(schema.default) ? { placeholder: placeholderOf(schema.default)! } : {}) };
    }
    case 'object':
      if (schema.properties && Object.keys(schema.properties).length > 0 && schema.additionalProperties === undefined) {
        return { ...base, kind: 'object', fields: fieldsOfJsonSchema(schema) };
      }
      return { ...base, kind: 'json', ...(placeholderOf(schema.default) ? { placeholder: placeholderOf(schema.default)! } : {}) };
    default:
      return { ...base, kind: 'json' };
  }
}

function rank(key: string): number {
  const i = ROW_FIRST.indexOf(key);
  return i === -1 ? ROW_FIRST.length : i;
}

/** "Call back!" -> "call-back": an id in the `^[a-z][a-z0-9-]*$` form action ids take. */
export function slugOf(text: string, max = 40): string {
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return slug;
}

/**
 * Fields from a JSON Schema object, e.g. a skill's params as `skills.get` sends them: the same
 * controls as a node kind's own params.
 */
export function fieldsOfJsonSchema(schema: JsonSchema): Field[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([key, s]) => fieldOf(key, s, required.has(key)));
}

/**
 * A compiler diagnostic said the way a person would: zod's "Invalid input: expected string,
 * received undefined" at `title` is "Title is required", at `actions.2.id` "Actions #3 › Id is
 * required". Other messages keep their words.
 */
export function plainMessage(message: string): string {
  const missing = /^([\w.]+): Invalid input: expected \w+, received undefined$/.exec(message);
  if (missing?.[1]) {
    const where = missing[1]
      .split('.')
      .map((part) => (/^\d+$/.test(part) ? `#${Number(part) + 1}` : humanize(part)))
      .join(' › ')
      .replace(/ › #/g, ' #');
    return `${where} is required`;
  }
  return message.replace(/Invalid input: expected \w+, received undefined/, 'required');
}

/** Plain wording for a zod issue message: a missing value is just "Required". */
export const plainIssue = (message: string): string => (/received undefined/.test(message) ? 'Required' : message);

const cache = new WeakMap<z.ZodType, Field[]>();

export function fieldsOf(schema: z.ZodType): Field[] {
  const hit = cache.get(schema);
  if (hit) return hit;
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const fields = fieldsOfJsonSchema(json);
  cache.set(schema, fields);
  return fields;
}

/** zod issues by dotted path ("retry.maxAttempts"), with plain wording for missing values. */
export function issuesByPath(schema: z.ZodType, params: unknown): Map<string, string> {
  const result = schema.safeParse(params);
  const map = new Map<string, string>();
  if (result.success) return map;
  for (const issue of result.error.issues) {
    const key = issue.path.map(String).join('.');
    if (map.has(key)) continue;
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    map.set(key, missing ? 'Required' : issue.message);
  }
  return map;
}
