import { FlowDocumentSchema, type FlowDocument } from '@switchyard/schema';

/**
 * Reading a flow file a person chose to import: JSON, then the document schema, with what is
 * wrong said in words and naming the field ("schemaVersion must be 1, but the file has 2"),
 * never zod's "Invalid input: expected 1".
 */

export type FlowFile = { ok: true; document: FlowDocument } | { ok: false; problem: string };

/** The shape of a zod issue this module reads (zod 4's, loosely, so any issue fits). */
export interface SchemaIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: unknown;
  values?: readonly unknown[];
  minimum?: unknown;
  maximum?: unknown;
  origin?: unknown;
  keys?: readonly string[];
}

const TYPE_WORD: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

function kindOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return `${value}`;
  return 'an object';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

const shown = (value: unknown): string => {
  const text = typeof value === 'string' ? `“${value}”` : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
};

/** `["nodes", 2, "params", "title"]` -> `“params.title” of node “draft” (the 3rd in "nodes")`. */
export function describePath(root: unknown, path: readonly PropertyKey[]): string {
  const [head, index, ...rest] = path;
  if ((head === 'nodes' || head === 'edges') && typeof index === 'number') {
    const item = valueAt(root, [head, index]);
    const id = item !== null && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string' ? (item as { id: string }).id : null;
    const what = head === 'nodes' ? 'node' : 'edge';
    const which = id ? `${what} “${id}”` : `${what} number ${index + 1}`;
    return rest.length ? `“${rest.map(String).join('.')}” of ${which}` : which;
  }
  return path.length ? `“${path.map(String).join('.')}”` : 'the file';
}

/** One issue in words, naming the field. */
export function describeIssue(root: unknown, issue: SchemaIssue): string {
  const where = describePath(root, issue.path);
  const actual = valueAt(root, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_WORD[String(issue.expected)] ?? String(issue.expected);
      if (actual === undefined) return `${where} is missing (it should be ${expected})`;
      return `${where} should be ${expected}, but the file has ${kindOf(actual)}`;
    }
    case 'invalid_value': {
      const values = issue.values ?? [];
      const wanted = values.length === 1 ? shown(values[0]) : `one of ${values.map(shown).join(', ')}`;
      return actual === undefined ? `${where} is missing (it should be ${wanted})` : `${where} must be ${wanted}, but the file has ${shown(actual)}`;
    }
    case 'unrecognized_keys':
      return `${where} has a field this studio does not know: ${(issue.keys ?? []).map((k) => `“${k}”`).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return `${where} is empty`;
      return `${where} is too small or too short (${issue.message})`;
    case 'too_big':
      return `${where} is too big or too long (${issue.message})`;
    default:
      // Our own schema messages are already in words ("Use 1-64 letters ..."); prefix the field.
      return `${where}: ${issue.message}`;
  }
}

/** Parses a file's text as a flow document, or says in a sentence what is wrong with it. */
export function readFlowFile(text: string): FlowFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'it is not valid JSON.' };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, problem: 'it holds no flow: a flow file is one JSON object.' };
  const parsed = FlowDocumentSchema.safeParse(raw);
  if (parsed.success) return { ok: true, document: parsed.data };
  const issues = parsed.error.issues as unknown as SchemaIssue[];
  const first = issues.slice(0, 3).map((i) => describeIssue(raw, i));
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more problem${issues.length - 3 === 1 ? '' : 's'})` : '';
  return { ok: false, problem: `${first.join('; ')}${more}.` };
}
