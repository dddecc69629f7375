import { useEffect, useId, useState } from 'react';
import { permissionLabel } from '@switchyard/schema';
import { describeError, type ApiClient } from '../trpc';

type Preview = Awaited<ReturnType<ApiClient['templates']['upgrade']['mutate']>>;

/**
 * "Update available": the diff of the new version in words (flows, steps, agents, permissions),
 * conflicts with the user's own edits, and new permissions to accept before updating.
 */
export function UpgradeDialog({ client, installId, onClose, onUpgraded }: { client: ApiClient; installId: string; onClose: () => void; onUpgraded: () => void }) {
  const titleId = useId();
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [accepted, setAccepted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Preview | null>(null);

  useEffect(() => {
    client.templates.upgrade.mutate({ installId, dryRun: true }).then(setPreview, setError);
  }, [client, installId]);

  const upgrade = async () => {
    if (!preview) return;
    setBusy(true);
    setError(null);
    try {
      const result = await client.templates.upgrade.mutate({ installId, acceptPermissions: preview.needAcceptance });
      setDone(result);
      onUpgraded();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const d = preview?.diff;
  const lines: string[] = d ? [
    ...d.flows.added.map((f) => `New flow “${f}”`),
    ...d.flows.removed.map((f) => `Flow “${f}” is no longer part of the template (yours is kept)`),
    ...d.nodes.added.map((n) => `Adds the step “${n.label}” to “${n.flow}”`),
    ...d.nodes.changed.map((n) => `Changes the step “${n.label}” in “${n.flow}”`),
    ...d.nodes.removed.map((n) => `Removes the step “${n.label}” from “${n.flow}”`),
    ...d.agents.added.map((a) => `New agent “${a}”`),
    ...d.agents.changed.map((a) => `Agent “${a.name}”: new ${a.fields.join(', ')}`),
    ...d.agents.removed.map((a) => `Agent “${a}” is no longer part of the template (yours is kept)`),
    ...d.variables.added.map((v) => `New setting “${v}”`),
    ...d.permissions.removed.map((p) => `No longer needs: ${permissionLabel(p)}`),
  ] : [];

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="modal mp-wizard" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid="upgrade-dialog">
        <h2 className="modal__title" id={titleId}>{preview ? `Update ${preview.from} → ${preview.to}` : 'Update'}</h2>
        {!preview && !error ? <p className="muted">Comparing versions…</p> : null}
        {done ? (
          <p data-testid="upgrade-done">Updated to {done.to}. Runs already going finish on {done.from}; new runs use {done.to}.</p>
        ) : preview ? (
          <>
            {preview.notes.length ? (
              <ul className="mp-versions" data-testid="upgrade-notes">
                {preview.notes.map((n) => (
                  <li key={n.version}>
                    <strong>{n.version}</strong>
                    <p className="mp-versions__notes">{n.notes}</p>
                  </li>
                ))}
              </ul>
            ) : null}
            <ul className="mp-diff" data-testid="upgrade-diff">
              {lines.length ? lines.map((l) => <li key={l}>{l}</li>) : <li>No changes to your flows or agents.</li>}
            </ul>
            {preview.conflicts.length ? (
              <div className="banner banner--error" role="status">
                <span className="banner__text">
                  {preview.conflicts.length} step{preview.conflicts.length === 1 ? '' : 's'} you edited also changed:{' '}
                  {preview.conflicts.map((c) => `“${c.label}” in “${c.flow}” — ${c.message}`).join('; ')}
                </span>
              </div>
            ) : null}
            <p className="field__hint">Your settings are kept{Object.keys(preview.variables).length ? ` (${Object.keys(preview.variables).join(', ')})` : ''}.</p>
            {preview.needAcceptance.length ? (
              <label className="check mp-accept__item mp-accept__item--write">
                <input type="checkbox" checked={accepted} onChange={(e) => setAccepted(e.target.checked)} data-testid="accept-new-permissions" />
                <span>Also allow: {preview.needAcceptance.map(permissionLabel).join(', ')}</span>
              </label>
            ) : null}
          </>
        ) : null}
        {error ? <p className="field__error" role="alert">{describeError(error, 'update the template')}</p> : null}
        <div className="modal__actions">
          <button type="button" className="button button--secondary" onClick={onClose} disabled={busy}>{done ? 'Close' : 'Cancel'}</button>
          {done ? null : (
            <button type="button" className="button button--primary" onClick={upgrade} disabled={!preview || busy || (preview.needAcceptance.length > 0 && !accepted)} data-testid="upgrade-confirm">
              {busy ? 'Updating…' : 'Update'}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
