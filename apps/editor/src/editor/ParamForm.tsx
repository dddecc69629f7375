import { useEffect, useId, useState } from 'react';
import { defaultCatalog } from '@switchyard/schema';
import { slugOf, type Field, type ItemField } from './param-fields';

/** An option that names a node kind (a for-each's action) reads as the kind's label. */
const optionLabel = (o: string) => defaultCatalog.get(o)?.label ?? o;

type Params = Record<string, unknown>;

function setAt(params: Params, path: string[], value: unknown): Params {
  const [head, ...rest] = path;
  if (head === undefined) return params;
  const next: Params = { ...params };
  if (rest.length === 0) {
    if (value === undefined) delete next[head];
    else next[head] = value;
    return next;
  }
  const child = next[head];
  next[head] = setAt(child && typeof child === 'object' && !Array.isArray(child) ? (child as Params) : {}, rest, value);
  return next;
}

function getAt(params: Params, path: string[]): unknown {
  let v: unknown = params;
  for (const key of path) v = v && typeof v === 'object' ? (v as Params)[key] : undefined;
  return v;
}

/**
 * The inspector form of one node: one control per field of the node kind's schema, each showing
 * its description and the zod problem at its path, as the user types.
 */
export function ParamForm({
  fields,
  params,
  issues,
  onChange,
  prefix = [],
}: {
  fields: Field[];
  params: Params;
  issues: ReadonlyMap<string, string>;
  /** The node's new params, and the path of the field that changed (e.g. `params.tone`). */
  onChange: (next: Params, field: string) => void;
  prefix?: string[];
}) {
  return (
    <div className="form">
      {fields.map((field) => {
        const path = [...prefix, field.key];
        const set = (value: unknown) => onChange(setAt(params, path, value), path.join('.'));
        return (
          <FieldControl key={field.key} field={field} value={getAt(params, path)} issue={issues.get(path.join('.'))} issues={issues} path={path.join('.')} set={set}>
            {field.kind === 'object' ? (
              <ParamForm fields={field.fields} params={params} issues={issues} onChange={onChange} prefix={path} />
            ) : null}
          </FieldControl>
        );
      })}
    </div>
  );
}

function FieldControl({
  field,
  value,
  issue,
  issues,
  path,
  set,
  children,
}: {
  field: Field;
  value: unknown;
  issue: string | undefined;
  /** Every issue of the form by dotted path, for controls with parts (an object list's rows). */
  issues: ReadonlyMap<string, string>;
  path: string;
  set: (value: unknown) => void;
  children?: React.ReactNode;
}) {
  const id = useId();
  const hint = field.description ? <p className="field__hint">{field.description}</p> : null;
  const error = issue ? (
    <p className="field__error" role="alert" data-testid="field-error">
      {issue}
    </p>
  ) : null;
  const invalid = issue ? ' input--invalid' : '';
  const testId = `field-${field.key}`;

  switch (field.kind) {
    case 'object':
      return (
        <fieldset className="fieldset">
          <legend className="fieldset__legend">{field.label}</legend>
          {hint}
          {children}
          {error}
        </fieldset>
      );
    case 'boolean': {
      const checked = typeof value === 'boolean' ? value : (field.defaultValue ?? false);
      return (
        <div className="field field--check">
          <label className="check" htmlFor={id}>
            <input
              id={id}
              type="checkbox"
              checked={checked}
              data-testid={testId}
              // An optional flag left off means "no filter", so unchecking removes it again.
              onChange={(e) => set(e.target.checked ? true : field.defaultValue === undefined ? undefined : false)}
            />
            <span>{field.label}</span>
          </label>
          {hint}
          {error}
        </div>
      );
    }
    case 'enum':
      return (
        <div className="field">
          <label className="field__label" htmlFor={id}>
            {field.label}
          </label>
          <select
            id={id}
            className={`input input--compact${invalid}`}
            value={typeof value === 'string' ? value : (field.defaultValue ?? '')}
            data-testid={testId}
            onChange={(e) => set(e.target.value === '' ? undefined : e.target.value)}
          >
            {field.defaultValue === undefined ? <option value="">Choose…</option> : null}
            {field.options.map((o) => (
              <option key={o} value={o}>
                {optionLabel(o)}
              </option>
            ))}
          </select>
          {hint}
          {error}
        </div>
      );
    case 'number':
      return (
        <div className="field">
          <label className="field__label" htmlFor={id}>
            {field.label}
            {field.required ? <span className="field__required"> *</span> : null}
          </label>
          <input
            id={id}
            className={`input input--compact${invalid}`}
            type="number"
            value={typeof value === 'number' ? value : ''}
            placeholder={field.placeholder}
            min={field.min}
            max={field.max}
            step={field.integer ? 1 : 'any'}
            data-testid={testId}
            onChange={(e) => set(e.target.value === '' ? undefined : Number(e.target.value))}
          />
          {hint}
          {error}
        </div>
      );
    case 'text': {
      const common = {
        id,
        className: `input input--compact${field.multiline ? ' input--area' : ''}${invalid}`,
        value: typeof value === 'string' ? value : '',
        placeholder: field.placeholder,
        'data-testid': testId,
        spellCheck: false,
        onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
          // Emptying a field falls back to its default (or to "required" when there is none).
          set(e.target.value === '' ? undefined : e.target.value),
      };
      return (
        <div className="field">
          <label className="field__label" htmlFor={id}>
            {field.label}
            {field.required ? <span className="field__required"> *</span> : null}
          </label>
          {field.multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />}
          {hint}
          {error}
        </div>
      );
    }
    case 'list':
      return <ListField id={id} field={field} value={value} set={set} hint={hint} error={error} invalid={invalid} />;
    case 'json':
      return <JsonField id={id} field={field} value={value} set={set} hint={hint} error={error} invalid={invalid} />;
    case 'objectList':
      return <ObjectListField id={id} field={field} value={value} set={set} hint={hint} error={error} invalid={invalid} issues={issues} path={path} />;
  }
}

/** What every specialised field control receives from FieldControl. */
interface FieldProps<K extends Field['kind']> {
  id: string;
  field: Extract<Field, { kind: K }>;
  value: unknown;
  set: (v: unknown) => void;
  hint: React.ReactNode;
  error: React.ReactNode;
  invalid: string;
}

function ListField({ id, field, value, set, hint, error, invalid }: FieldProps<'list'>) {
  const separator = field.itemType === 'string' ? '\n' : ', ';
  const shown = Array.isArray(value) ? value.join(separator) : '';
  const partsOf = (raw: string) => raw.split(field.itemType === 'string' ? '\n' : /[,\s]+/).map((p) => p.trim()).filter((p) => p !== '');
  const [text, setText] = useState(shown);
  // Follow outside changes (undo, another node) but not our own half-typed separators.
  useEffect(() => setText((current) => (partsOf(current).join(separator) === shown ? current : shown)), [shown]); // eslint-disable-line react-hooks/exhaustive-deps
  const commit = (raw: string) => {
    setText(raw);
    const parts = partsOf(raw);
    if (parts.length === 0) return set(undefined);
    set(field.itemType === 'string' ? parts : parts.map(Number));
  };
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {field.label}
      </label>
      {field.itemType === 'string' ? (
        <textarea id={id} rows={3} className={`input input--compact input--area${invalid}`} value={text} placeholder={field.placeholder ?? 'One per line'} data-testid={`field-${field.key}`} onChange={(e) => commit(e.target.value)} />
      ) : (
        <input id={id} type="text" className={`input input--compact${invalid}`} value={text} placeholder={field.placeholder ?? 'e.g. 1, 2, 3'} data-testid={`field-${field.key}`} onChange={(e) => commit(e.target.value)} />
      )}
      <p className="field__hint">{field.itemType === 'string' ? 'One per line.' : 'Separate numbers with commas.'}</p>
      {hint}
      {error}
    </div>
  );
}

function JsonField({ id, field, value, set, hint, error, invalid }: FieldProps<'json'>) {
  const shown = value === undefined ? '' : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [parseError, setParseError] = useState<string | null>(null);
  useEffect(
    () =>
      setText((current) => {
        try {
          return JSON.stringify(JSON.parse(current), null, 2) === shown ? current : shown;
        } catch {
          return current.trim() === '' && shown === '' ? current : shown;
        }
      }),
    [shown],
  );
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {field.label}
      </label>
      <textarea
        id={id}
        rows={4}
        className={`input input--compact input--area input--mono${parseError ? ' input--invalid' : invalid}`}
        value={text}
        placeholder={field.placeholder}
        data-testid={`field-${field.key}`}
        spellCheck={false}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setParseError(null);
            return set(undefined);
          }
          try {
            set(JSON.parse(e.target.value));
            setParseError(null);
          } catch {
            setParseError('This is not valid JSON yet.');
          }
        }}
      />
      {hint}
      {parseError ? <p className="field__error">{parseError}</p> : error}
    </div>
  );
}

type Row = Record<string, unknown>;

/** "Actions" -> "action": what one row of a list is called on its Add button. */
const singular = (label: string) => label.toLowerCase().replace(/ies$/, 'y').replace(/s$/, '');

/**
 * A list of small records as rows of controls with Add and Remove, instead of raw JSON. A row
 * with both a label and an id fills the id in from the label until the id is edited by hand.
 */
function ObjectListField({ id, field, value, set, hint, error, issues, path }: FieldProps<'objectList'> & { issues: ReadonlyMap<string, string>; path: string }) {
  const rows: Row[] = Array.isArray(value) ? value.map((r) => (r && typeof r === 'object' && !Array.isArray(r) ? (r as Row) : {})) : [];
  const keys = new Set(field.itemFields.map((f) => f.key));
  const linksId = keys.has('label') && keys.has('id');
  const full = field.maxItems !== undefined && rows.length >= field.maxItems;
  const item = singular(field.label);

  const update = (index: number, key: string, next: unknown) => {
    const row = { ...rows[index] };
    if (linksId && key === 'label') {
      const before = typeof row.label === 'string' ? row.label : '';
      const idNow = typeof row.id === 'string' ? row.id : '';
      if (idNow === '' || idNow === slugOf(before)) row.id = slugOf(typeof next === 'string' ? next : '');
    }
    if (next === undefined || next === '') delete row[key];
    else row[key] = next;
    set(rows.map((r, i) => (i === index ? row : r)));
  };
  const remove = (index: number) => {
    const next = rows.filter((_, i) => i !== index);
    set(next.length ? next : undefined);
  };
  const add = () => set([...rows, {}]);

  return (
    <fieldset className="fieldset object-list" id={id} data-testid={`field-${field.key}`}>
      <legend className="fieldset__legend">{field.label}</legend>
      {hint}
      {rows.length === 0 ? <p className="field__hint">None yet.</p> : null}
      <ol className="object-list__rows">
        {rows.map((row, index) => (
          <li key={index} className="object-list__row" data-testid={`${field.key}-row`}>
            <div className="object-list__head">
              <span className="object-list__title">
                {item.charAt(0).toUpperCase() + item.slice(1)} {index + 1}
              </span>
              <button type="button" className="button button--ghost button--small object-list__remove" onClick={() => remove(index)} aria-label={`Remove ${item} ${index + 1}`} data-testid={`${field.key}-remove`}>
                Remove
              </button>
            </div>
            <div className="object-list__fields">
              {field.itemFields.map((f) => (
                <ItemControl key={f.key} field={f} value={row[f.key]} issue={issues.get(`${path}.${index}.${f.key}`)} onChange={(v) => update(index, f.key, v)} testId={`${field.key}-${index}-${f.key}`} />
              ))}
            </div>
          </li>
        ))}
      </ol>
      <button type="button" className="button button--secondary button--small" onClick={add} disabled={full} data-testid={`${field.key}-add`}>
        Add {item}
      </button>
      {full ? <p className="field__hint">At most {field.maxItems}.</p> : null}
      {error}
    </fieldset>
  );
}

function ItemControl({ field, value, issue, onChange, testId }: { field: ItemField; value: unknown; issue: string | undefined; onChange: (v: unknown) => void; testId: string }) {
  const id = useId();
  const invalid = issue ? ' input--invalid' : '';
  const label = (
    <label className="field__label" htmlFor={id}>
      {field.label}
    </label>
  );
  let control: React.ReactNode;
  switch (field.kind) {
    case 'text':
      control = <input id={id} type="text" className={`input input--compact${invalid}`} value={typeof value === 'string' ? value : ''} placeholder={field.placeholder} spellCheck={false} data-testid={testId} onChange={(e) => onChange(e.target.value)} />;
      break;
    case 'number':
      control = <input id={id} type="number" className={`input input--compact${invalid}`} value={typeof value === 'number' ? value : ''} data-testid={testId} onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))} />;
      break;
    case 'enum':
      control = (
        <select id={id} className={`input input--compact${invalid}`} value={typeof value === 'string' ? value : (field.defaultValue ?? '')} data-testid={testId} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}>
          {field.defaultValue === undefined ? <option value="">Choose…</option> : null}
          {field.options.map((o) => (
            <option key={o} value={o}>
              {optionLabel(o)}
            </option>
          ))}
        </select>
      );
      break;
    case 'boolean':
      return (
        <label className="check">
          <input type="checkbox" checked={value === true} data-testid={testId} onChange={(e) => onChange(e.target.checked ? true : undefined)} />
          <span>{field.label}</span>
        </label>
      );
  }
  return (
    <div className="field object-list__field">
      {label}
      {control}
      {issue ? (
        <p className="field__error" data-testid="field-error">
          {issue}
        </p>
      ) : null}
    </div>
  );
}
