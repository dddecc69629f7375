import type { FlowDocument } from '@switchyard/schema';
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { describeError, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';
import { contextFieldsOf, labelOfKey, MAX_CONTEXT_VALUE, runContextOf, type ContextField } from './run-context';

/**
 * The canvas's actions for a plan (in place of Run with a test event and Deploy, which are for
 * workflows): run the plan as drawn, then follow it on the canvas (`onStarted`: its live overlay).
 * A plan that reads its run's context (`{{ context.contactId }}`) asks for those values first.
 */
export function PlanCanvasActions({ client, document, errorCount, onError, onStarted }: {
  client: ApiClient; document: FlowDocument; errorCount: number; onError: (text: string) => void; onStarted: (runId: string) => void;
}) {
  const [starting, setStarting] = useState(false);
  const [asking, setAsking] = useState(false);
  const fields = useMemo(() => contextFieldsOf(document), [document]);

  const start = (context: Record<string, unknown> | undefined) => {
    setStarting(true);
    client.plans.run.mutate(context ? { document, context } : { document }).then(
      (run) => {
        setStarting(false);
        setAsking(false);
        onStarted(run.id);
      },
      (e: unknown) => {
        setStarting(false);
        setAsking(false);
        onError(describeError(e, 'run the plan'));
      },
    );
  };

  return (
    <>
      <button
        type="button"
        className="button button--primary button--small"
        disabled={starting || errorCount > 0 || document.nodes.length === 0}
        title={errorCount > 0
          ? `Fix ${errorCount} problem${errorCount === 1 ? '' : 's'} before running`
          : fields.length ? `Run the plan as drawn, with ${fields.map((f) => labelOfKey(f.key).toLowerCase()).join(', ')} in its context` : 'Run the plan as drawn'}
        data-testid="run-plan"
        onClick={() => (fields.length ? setAsking(true) : start(undefined))}
      >
        {starting ? 'Starting…' : fields.length ? 'Run plan…' : 'Run plan'}
      </button>
      {asking ? <RunPlanDialog client={client} fields={fields} starting={starting} onCancel={() => setAsking(false)} onRun={start} /> : null}
    </>
  );
}

/** The values a plan reads from its run's context: a contact picked from the CRM, text, or a JSON object; each required. */
function RunPlanDialog({ client, fields, starting, onCancel, onRun }: {
  client: ApiClient; fields: ContextField[]; starting: boolean; onCancel: () => void; onRun: (context: Record<string, unknown>) => void;
}) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const set = (key: string, value: string) => {
    setValues((prev) => ({ ...prev, [key]: value }));
    setErrors((prev) => Object.fromEntries(Object.entries(prev).filter(([k]) => k !== key)));
  };

  function submit(e: FormEvent) {
    e.preventDefault();
    const r = runContextOf(fields, values);
    if (!r.ok) return setErrors(r.errors);
    onRun(r.context);
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !starting && onCancel()}>
      <form className="modal" role="dialog" aria-label="Run the plan" onSubmit={submit} noValidate data-testid="run-plan-dialog"
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === 'Escape' && !starting) onCancel();
        }}>
        <h2 className="modal__title">Run the plan</h2>
        <p className="inspector__hint">Its steps read {fields.length === 1 ? 'this value' : 'these values'} from the run’s context (<code>{'{{ context.… }}'}</code>). Runs the plan as drawn on the canvas.</p>
        {fields.map((f) => (f.kind === 'contact'
          ? <ContactField key={f.key} client={client} field={f} value={values[f.key] ?? ''} error={errors[f.key]} onChange={(v) => set(f.key, v)} />
          : <ValueField key={f.key} field={f} value={values[f.key] ?? ''} error={errors[f.key]} onChange={(v) => set(f.key, v)} />))}
        <div className="modal__actions">
          <button type="button" className="button button--secondary" onClick={onCancel} disabled={starting}>Cancel</button>
          <button type="submit" className="button button--primary" disabled={starting} data-testid="run-plan-submit">{starting ? 'Starting…' : 'Run plan'}</button>
        </div>
      </form>
    </div>
  );
}

const readBy = (f: ContextField) => `Read by ${f.steps.length === 1 ? 'step' : 'steps'} ${f.steps.map((s) => `“${s}”`).join(', ')} as context.${f.key}.`;

function ContactField({ client, field, value, error, onChange }: { client: ApiClient; field: ContextField; value: string; error: string | undefined; onChange: (id: string) => void }) {
  const [search, setSearch] = useState('');
  const load = useCallback(() => client.crm.contacts.list.query({ limit: 50, ...(search.trim() ? { search: search.trim() } : {}) }), [client, search]);
  const contacts = useRemote(load);
  const { reload } = contacts;
  // A new search asks the runtime again (the first load is useRemote's own).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    reload();
  }, [search, reload]);
  const items = contacts.data?.items ?? [];
  const picked = items.find((c) => c.id === value);
  return (
    <fieldset className="fieldset">
      <legend className="fieldset__legend">{labelOfKey(field.key)}</legend>
      <label className="field">
        <span className="field__label">Find a contact</span>
        <input className="input input--compact" type="search" value={search} maxLength={200} placeholder="Name, email or company" onChange={(e) => setSearch(e.target.value)} data-testid={`run-plan-search-${field.key}`} />
      </label>
      <label className="field">
        <span className="field__label">Contact</span>
        <select className={`input input--compact${error ? ' input--invalid' : ''}`} value={picked ? value : ''} onChange={(e) => onChange(e.target.value)} data-testid={`run-plan-${field.key}`}>
          <option value="">{contacts.status === 'loading' && !contacts.data ? 'Loading your contacts…' : items.length ? 'Pick a contact' : search.trim() ? 'No contact matches' : 'No contacts yet'}</option>
          {/* The picked contact stays listed while another search runs. */}
          {value && !picked ? <option value={value}>The contact picked before</option> : null}
          {items.map((c) => (
            <option key={c.id} value={c.id}>{[c.name, c.email ? `<${c.email}>` : null, c.company ? `· ${c.company}` : null].filter(Boolean).join(' ')}</option>
          ))}
        </select>
        <span className="field__hint">{readBy(field)}</span>
        {contacts.status === 'error' ? <span className="field__error" role="alert">{describeError(contacts.error, 'load your contacts')}</span> : null}
        {error ? <span className="field__error" role="alert" data-testid="run-plan-error">{error}</span> : null}
      </label>
    </fieldset>
  );
}

function ValueField({ field, value, error, onChange }: { field: ContextField; value: string; error: string | undefined; onChange: (v: string) => void }) {
  const cls = `input input--compact${field.kind === 'json' ? ' input--area input--mono' : ''}${error ? ' input--invalid' : ''}`;
  return (
    <label className="field">
      <span className="field__label">{labelOfKey(field.key)}{field.kind === 'json' ? ' (JSON object)' : ''}</span>
      {field.kind === 'json'
        ? <textarea className={cls} rows={3} value={value} maxLength={MAX_CONTEXT_VALUE} placeholder='{"amount": 1200}' onChange={(e) => onChange(e.target.value)} data-testid={`run-plan-${field.key}`} />
        : <input className={cls} value={value} maxLength={MAX_CONTEXT_VALUE} onChange={(e) => onChange(e.target.value)} data-testid={`run-plan-${field.key}`} />}
      <span className="field__hint">{readBy(field)}</span>
      {error ? <span className="field__error" role="alert" data-testid="run-plan-error">{error}</span> : null}
    </label>
  );
}
