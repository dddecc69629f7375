import { useEffect, useId, useState, type FormEvent } from 'react';
import { TEMPLATE_CATEGORIES, permissionLabel } from '@switchyard/schema';
import { hrefOf, navigate } from '../router';
import { describeError, type ApiClient } from '../trpc';
import { CATEGORY_LABELS } from './TemplateCard';

type Category = (typeof TEMPLATE_CATEGORIES)[number];
type Published = Awaited<ReturnType<ApiClient['templates']['publish']['mutate']>>;

/** What a new version starts from: the template as published. */
export interface PublishBase {
  id: string;
  name: string;
  description: string;
  category: Category;
  tags: string[];
  version: string;
  docs: string;
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').replace(/^[^a-z]+/, '').slice(0, 64);
const nextMinor = (v: string) => {
  const [a, b] = v.split('.').map(Number);
  return `${a ?? 1}.${(b ?? 0) + 1}.0`;
};

/**
 * Publishes the user's own flows and agents as a template (or a new version of one of theirs):
 * the runtime makes the bundle, strips secret webhook headers, computes the permissions and
 * checks that it compiles; the result says what was stripped and what it needs.
 */
export function PublishDialog({ client, base, onClose }: { client: ApiClient; base?: PublishBase; onClose: () => void }) {
  const titleId = useId();
  const [name, setName] = useState(base?.name ?? '');
  const [id, setId] = useState(base?.id ?? '');
  const [description, setDescription] = useState(base?.description ?? '');
  const [category, setCategory] = useState<Category>(base?.category ?? 'productivity');
  const [tags, setTags] = useState((base?.tags ?? []).join(', '));
  const [version, setVersion] = useState(base ? nextMinor(base.version) : '1.0.0');
  const [changelog, setChangelog] = useState('');
  const [docs, setDocs] = useState(base?.docs ?? '');
  const [flows, setFlows] = useState<{ docId: string; name: string }[] | null>(null);
  const [agents, setAgents] = useState<{ id: string; name: string }[] | null>(null);
  const [pickedFlows, setPickedFlows] = useState<Set<string>>(new Set());
  const [pickedAgents, setPickedAgents] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Published | null>(null);

  useEffect(() => {
    client.flows.list.query({ limit: 200 }).then((r) => setFlows(r.items.map((f) => ({ docId: f.docId, name: f.name }))), setError);
    client.agents.list.query({ limit: 100 }).then((r) => setAgents(r.items.map((a) => ({ id: a.id, name: a.name }))), setError);
  }, [client]);

  const toggle = (set: Set<string>, value: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(value);
    else next.delete(value);
    return next;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await client.templates.publish.mutate({
        id: id || slug(name), name, description, category, version, docs,
        tags: tags.split(',').map((t) => t.trim()).filter(Boolean),
        ...(changelog.trim() ? { changelog: changelog.trim() } : {}),
        flows: [...pickedFlows], agents: [...pickedAgents],
      });
      setDone(result);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="modal mp-wizard" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid="publish-dialog"
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === 'Escape' && !busy) onClose();
        }}>
        {done ? (
          <>
            <h2 className="modal__title" id={titleId}>Published {done.id}@{done.version}</h2>
            <p>Every user of this runtime can now find and install it.</p>
            <p className="field__label">It needs</p>
            <ul className="mp-diff">{done.permissions.map((p) => <li key={p}>{permissionLabel(p)}</li>)}</ul>
            {done.stripped.length ? (
              <>
                <p className="field__label">Removed as secrets</p>
                <ul className="mp-diff">{done.stripped.map((s) => <li key={s}>{s}</li>)}</ul>
              </>
            ) : null}
            <div className="modal__actions">
              <button type="button" className="button button--secondary" onClick={onClose}>Close</button>
              <button type="button" className="button button--primary" onClick={() => navigate(hrefOf({ page: 'template', templateId: done.id }))}>Open it</button>
            </div>
          </>
        ) : (
          <form className="form" onSubmit={submit}>
            <h2 className="modal__title" id={titleId}>{base ? `New version of “${base.name}”` : 'Publish a template'}</h2>
            <label className="field">
              <span className="field__label">Name</span>
              <input className="input" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required data-testid="publish-name" />
            </label>
            {base ? null : (
              <label className="field">
                <span className="field__label">Id</span>
                <input className="input input--mono" value={id} placeholder={slug(name) || 'my-template'} onChange={(e) => setId(e.target.value)} maxLength={64} />
                <span className="field__hint">Stays the same for every version.</span>
              </label>
            )}
            <label className="field">
              <span className="field__label">Description</span>
              <input className="input" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} />
            </label>
            <div className="mp-form-row">
              <label className="field">
                <span className="field__label">Category</span>
                <select className="input" value={category} onChange={(e) => setCategory(e.target.value as Category)}>
                  {TEMPLATE_CATEGORIES.map((c) => <option key={c} value={c}>{CATEGORY_LABELS[c] ?? c}</option>)}
                </select>
              </label>
              <label className="field">
                <span className="field__label">Version</span>
                <input className="input input--mono" value={version} onChange={(e) => setVersion(e.target.value)} data-testid="publish-version" />
              </label>
            </div>
            <label className="field">
              <span className="field__label">Tags</span>
              <input className="input" value={tags} placeholder="email, follow-up" onChange={(e) => setTags(e.target.value)} />
            </label>
            <fieldset className="fieldset">
              <legend className="fieldset__legend">Flows</legend>
              {flows === null ? <p className="muted">Loading…</p> : flows.length === 0 ? <p className="muted">You have no flows.</p> : flows.map((f) => (
                <label key={f.docId} className="check">
                  <input type="checkbox" checked={pickedFlows.has(f.docId)} onChange={(e) => setPickedFlows(toggle(pickedFlows, f.docId, e.target.checked))} />
                  <span>{f.name}</span>
                </label>
              ))}
            </fieldset>
            <fieldset className="fieldset">
              <legend className="fieldset__legend">Agents</legend>
              <p className="field__hint">Include every agent the flows ask to run skills.</p>
              {agents === null ? <p className="muted">Loading…</p> : agents.length === 0 ? <p className="muted">You have no agents.</p> : agents.map((a) => (
                <label key={a.id} className="check">
                  <input type="checkbox" checked={pickedAgents.has(a.id)} onChange={(e) => setPickedAgents(toggle(pickedAgents, a.id, e.target.checked))} />
                  <span>{a.name}</span>
                </label>
              ))}
            </fieldset>
            <label className="field">
              <span className="field__label">What changed</span>
              <input className="input" value={changelog} onChange={(e) => setChangelog(e.target.value)} maxLength={5000} placeholder={base ? 'e.g. Adds a reminder' : 'First version'} />
            </label>
            <label className="field">
              <span className="field__label">Docs (Markdown)</span>
              <textarea className="input input--area" value={docs} onChange={(e) => setDocs(e.target.value)} maxLength={50_000} />
            </label>
            {error ? <p className="field__error" role="alert" data-testid="publish-error">{describeError(error, 'publish the template')}</p> : null}
            <div className="modal__actions">
              <button type="button" className="button button--secondary" onClick={onClose} disabled={busy}>Cancel</button>
              <button type="submit" className="button button--primary" disabled={busy || !name.trim() || pickedFlows.size + pickedAgents.size === 0} data-testid="publish-confirm">
                {busy ? 'Publishing…' : 'Publish'}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
