import { useId, useState, type FormEvent } from 'react';
import { PERSONALITY_TRAITS, permissionLabel } from '@switchyard/schema';
import { hrefOf, linkHandler } from '../router';
import { describeError, type ApiClient, type QueryOutput } from '../trpc';
import { flowKindsOf, installedNote, installHint } from './install-notes';
import { PermissionIcons, isWrite } from './permissions';

type Detail = QueryOutput<ApiClient['templates']['get']>;
type Variable = Detail['variables'][number];
type Installed = Awaited<ReturnType<ApiClient['templates']['install']['mutate']>>;

const TRAIT_ENDS: Record<string, [string, string]> = {
  formality: ['Casual', 'Formal'], enthusiasm: ['Reserved', 'Enthusiastic'], brevity: ['Verbose', 'Concise'],
  proactivity: ['Reactive', 'Proactive'], creativity: ['Conventional', 'Creative'], empathy: ['Logical', 'Empathetic'],
};

const initialValue = (v: Variable): unknown => v.default ?? (v.type === 'boolean' ? false : v.type === 'personality' ? Object.fromEntries(PERSONALITY_TRAITS.map((t) => [t, 0.5])) : v.type === 'number' ? '' : '');

/** Issues the runtime sent back, by variable key (`['variables', key]`). */
function fieldErrors(error: unknown): Record<string, string> {
  const issues = (error as { data?: { switchyard?: { issues?: { path: (string | number)[]; message: string }[] } } } | null)?.data?.switchyard?.issues ?? [];
  const out: Record<string, string> = {};
  for (const i of issues) if (i.path[0] === 'variables' && typeof i.path[1] === 'string') out[i.path[1]] = i.message;
  return out;
}

/**
 * The install wizard: a name, a form generated from the template's variables, every permission
 * in words with its own checkbox (nothing installs until each is accepted), and whether to deploy
 * the flows now (plans are run, not deployed: a bundle of plans only has no such option). The
 * result lists what was created, with links.
 */
export function InstallWizard({ client, template, onClose, onInstalled }: { client: ApiClient; template: Detail; onClose: () => void; onInstalled: () => void }) {
  const titleId = useId();
  const [name, setName] = useState(template.name);
  const [values, setValues] = useState<Record<string, unknown>>(() => Object.fromEntries(template.variables.map((v) => [v.key, initialValue(v)])));
  const [accepted, setAccepted] = useState<Set<string>>(new Set());
  const [deploy, setDeploy] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Installed | null>(null);
  const errors = fieldErrors(error);
  const allAccepted = template.permissions.every((p) => accepted.has(p));
  const kinds = flowKindsOf(template.flows);
  const hint = installHint(kinds);
  const isPlan = (ref: string) => template.flows.find((f) => f.id === ref)?.kind === 'plan';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const variables = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ''));
      const result = await client.templates.install.mutate({ id: template.id, name, variables, acceptPermissions: [...accepted], deploy: kinds.deployable > 0 && deploy });
      setDone(result);
      onInstalled();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const set = (key: string, value: unknown) => setValues((prev) => ({ ...prev, [key]: value }));

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="modal mp-wizard" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid="install-wizard"
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === 'Escape' && !busy) onClose();
        }}>
        {done ? (
          <>
            <h2 className="modal__title" id={titleId}>Installed “{done.install.name}”</h2>
            <p className="muted" data-testid="install-note">From {done.install.installedFrom}. {installedNote(kinds, done.deployed.length)}</p>
            {done.failed.length ? <p className="field__error">Not deployed: {done.failed.map((f) => `${f.docId} (${f.message})`).join('; ')}</p> : null}
            <ul className="mp-created" data-testid="install-result">
              {done.install.agents.map((a) => (
                <li key={a.id}>
                  Agent <a href={hrefOf({ page: 'agent', agentId: a.id })} onClick={linkHandler(hrefOf({ page: 'agent', agentId: a.id }))} data-testid="created-agent">{a.name}</a>
                </li>
              ))}
              {done.install.flows.map((f) => (
                <li key={f.docId}>
                  {isPlan(f.ref) ? 'Plan' : 'Flow'} <a href={hrefOf({ page: 'editor', docId: f.docId })} onClick={linkHandler(hrefOf({ page: 'editor', docId: f.docId }))} data-testid="created-flow">{f.name}</a>{' '}
                  {isPlan(f.ref) ? null : <span className={`badge badge--${f.status}`}>{f.status === 'deployed' ? 'Deployed' : 'Draft'}</span>}
                </li>
              ))}
            </ul>
            <div className="modal__actions">
              <button type="button" className="button button--primary" onClick={onClose} data-testid="wizard-done">Done</button>
            </div>
          </>
        ) : (
          <form className="form" onSubmit={submit}>
            <h2 className="modal__title" id={titleId}>Install “{template.name}”</h2>
            <label className="field">
              <span className="field__label">Name</span>
              <input className="input" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} data-testid="install-name" />
              <span className="field__hint">Given to the agent and the flows it creates.</span>
            </label>
            {template.variables.length ? (
              <fieldset className="fieldset">
                <legend className="fieldset__legend">Settings</legend>
                {template.variables.map((v) => (
                  <VariableField key={v.key} variable={v} value={values[v.key]} error={errors[v.key]} onChange={(value) => set(v.key, value)} />
                ))}
              </fieldset>
            ) : null}
            <fieldset className="fieldset">
              <legend className="fieldset__legend">Permissions</legend>
              {template.permissions.length ? (
                <>
                  <p className="field__hint">The flows and agents can do only what you allow here; anything else is refused when they run.</p>
                  <ul className="mp-accept">
                    {template.permissions.map((p) => (
                      <li key={p}>
                        <label className={`check mp-accept__item${isWrite(p) ? ' mp-accept__item--write' : ''}`}>
                          <input type="checkbox" checked={accepted.has(p)} data-testid={`accept-${p}`}
                            onChange={(e) => setAccepted((prev) => {
                              const next = new Set(prev);
                              if (e.target.checked) next.add(p);
                              else next.delete(p);
                              return next;
                            })} />
                          <PermissionIcons permissions={[p]} />
                          <span>{permissionLabel(p)}</span>
                        </label>
                      </li>
                    ))}
                  </ul>
                  <button type="button" className="button button--ghost button--small" onClick={() => setAccepted(new Set(template.permissions))} data-testid="accept-all">Allow all of these</button>
                </>
              ) : <p className="muted">None needed.</p>}
            </fieldset>
            {kinds.deployable ? (
              <label className="check">
                <input type="checkbox" checked={deploy} onChange={(e) => setDeploy(e.target.checked)} data-testid="install-deploy" />
                <span>Deploy the flows now (otherwise they stay drafts)</span>
              </label>
            ) : null}
            {hint ? <p className="field__hint" data-testid="install-plan-hint">{hint}</p> : null}
            {error && !Object.keys(errors).length ? <p className="field__error" role="alert" data-testid="install-error">{describeError(error, 'install the template')}</p> : null}
            <div className="modal__actions">
              <button type="button" className="button button--secondary" onClick={onClose} disabled={busy}>Cancel</button>
              <button type="submit" className="button button--primary" disabled={busy || !allAccepted || !name.trim()} data-testid="install-confirm"
                title={allAccepted ? undefined : 'Accept each permission first'}>
                {busy ? 'Installing…' : 'Install'}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}

function VariableField({ variable: v, value, error, onChange }: { variable: Variable; value: unknown; error: string | undefined; onChange: (value: unknown) => void }) {
  const id = useId();
  const label = (
    <span className="field__label">
      {v.label}
      {v.required && v.default === undefined ? <span className="field__required" aria-hidden="true"> *</span> : null}
    </span>
  );
  const hint = v.description ? <span className="field__hint">{v.description}</span> : null;
  const err = error ? <span className="field__error" role="alert">{error}</span> : null;
  const cls = `input${error ? ' input--invalid' : ''}`;
  switch (v.type) {
    case 'boolean':
      return (
        <label className="check">
          <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} data-testid={`var-${v.key}`} />
          <span>{v.label}</span>
          {err}
        </label>
      );
    case 'select':
      return (
        <label className="field">
          {label}
          <select className={cls} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} data-testid={`var-${v.key}`}>
            {(v.options ?? []).map((o) => <option key={o} value={o}>{o}</option>)}
          </select>
          {hint}
          {err}
        </label>
      );
    case 'number':
      return (
        <label className="field">
          {label}
          <input className={cls} type="number" min={v.min} max={v.max} value={value === '' || value === undefined ? '' : String(value)}
            onChange={(e) => onChange(e.target.value === '' ? '' : Number(e.target.value))} data-testid={`var-${v.key}`} />
          {hint}
          {err}
        </label>
      );
    case 'text':
      return (
        <label className="field">
          {label}
          <textarea className={`${cls} input--area`} value={String(value ?? '')} onChange={(e) => onChange(e.target.value)} data-testid={`var-${v.key}`} />
          {hint}
          {err}
        </label>
      );
    case 'personality': {
      const traits = (value ?? {}) as Record<string, number>;
      return (
        <div className="field" role="group" aria-labelledby={id}>
          <span className="field__label" id={id}>{v.label}</span>
          {hint}
          <div className="mp-traits">
            {PERSONALITY_TRAITS.map((t) => (
              <label key={t} className="mp-trait">
                <span className="mp-trait__name">{t[0]!.toUpperCase() + t.slice(1)} <span className="muted">{(traits[t] ?? 0.5).toFixed(1)}</span></span>
                <input type="range" min={0} max={1} step={0.1} value={traits[t] ?? 0.5} aria-label={t}
                  onChange={(e) => onChange({ ...traits, [t]: Number(e.target.value) })} data-testid={`var-${v.key}-${t}`} />
                <span className="mp-trait__ends"><span>{TRAIT_ENDS[t]?.[0]}</span><span>{TRAIT_ENDS[t]?.[1]}</span></span>
              </label>
            ))}
          </div>
          {err}
        </div>
      );
    }
    default:
      return (
        <label className="field">
          {label}
          <input className={cls} type={v.type === 'email' ? 'email' : 'text'} value={String(value ?? '')} placeholder={v.type === 'timezone' ? 'Europe/Paris' : undefined}
            onChange={(e) => onChange(e.target.value)} data-testid={`var-${v.key}`} />
          {hint}
          {err}
        </label>
      );
  }
}
