import { useId, useState } from 'react';
import { permissionLabel } from '@switchyard/schema';
import { describeError, type ApiClient } from '../trpc';
import { PermissionIcons, isWrite } from './permissions';

export interface GrantTarget {
  id: string;
  name: string;
  granted: string[];
  /** What its agents or edited flows use beyond the grant (`templates.installed`). */
  missing: string[];
}

/**
 * "Permissions…" on the Installed tab: what an install may do, and what its flows as edited (or
 * its agents' added tools) need beyond that, each accepted explicitly before `templates.grant`.
 * Until then the edited flow does not deploy or run and the agent's tool calls are refused.
 */
export function GrantDialog({ client, install, onClose, onGranted }: { client: ApiClient; install: GrantTarget; onClose: () => void; onGranted: () => void }) {
  const titleId = useId();
  const [checked, setChecked] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const grant = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.templates.grant.mutate({ installId: install.id, permissions: checked });
      onGranted();
      onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="modal mp-wizard" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid="grant-dialog">
        <h2 className="modal__title" id={titleId}>Permissions of “{install.name}”</h2>
        {install.missing.length ? (
          <fieldset className="fieldset">
            <legend>Needed by your changes</legend>
            <p className="field__hint">Its flows as you edited them, or its agents’ tools, use more than you allowed when installing. Until you allow it, those flows do not deploy or run and those tools are refused.</p>
            <ul className="mp-accept">
              {install.missing.map((p) => (
                <li key={p}>
                  <label className={`check mp-accept__item${isWrite(p) ? ' mp-accept__item--write' : ''}`}>
                    <input
                      type="checkbox"
                      checked={checked.includes(p)}
                      onChange={(e) => setChecked((c) => (e.target.checked ? [...c, p] : c.filter((x) => x !== p)))}
                      data-testid={`grant-${p}`}
                    />
                    <PermissionIcons permissions={[p]} />
                    <span>{permissionLabel(p)}</span>
                  </label>
                </li>
              ))}
            </ul>
          </fieldset>
        ) : (
          <p data-testid="grant-nothing-missing">Everything its flows and agents use is allowed.</p>
        )}
        <fieldset className="fieldset">
          <legend>Allowed</legend>
          {install.granted.length ? (
            <ul className="mp-perm-list" data-testid="granted-list">
              {install.granted.map((p) => (
                <li key={p} className="mp-perm-list__item">
                  <PermissionIcons permissions={[p]} />
                  <span>{permissionLabel(p)}</span>
                  <code className="mp-perm-list__code">{p}</code>
                </li>
              ))}
            </ul>
          ) : <p className="muted">Nothing.</p>}
        </fieldset>
        {error ? <p className="field__error" role="alert">{describeError(error, 'allow these permissions')}</p> : null}
        <div className="modal__actions">
          <button type="button" className="button button--secondary" onClick={onClose} disabled={busy}>{install.missing.length ? 'Cancel' : 'Close'}</button>
          {install.missing.length ? (
            <button type="button" className="button button--primary" onClick={grant} disabled={busy || checked.length === 0} data-testid="grant-confirm">
              {busy ? 'Allowing…' : 'Allow'}
            </button>
          ) : null}
        </div>
      </div>
    </div>
  );
}
