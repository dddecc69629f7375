import { useCallback, useEffect, useState } from 'react';
import { Banner } from '../components/Banner';
import { useConfirm } from '../components/ConfirmDialog';
import { describeError, type ApiClient } from '../trpc';
import type { DraftItem } from './types';

/**
 * A draft opened for review: edit recipients, subject and body; Save keeps it, Send asks for the
 * person's approval first and then sends it (crm.drafts.send), Discard drops it.
 */
export function DraftDialog({ client, draftId, onClose, onChanged }: { client: ApiClient; draftId: string; onClose: () => void; onChanged?: () => void }) {
  const [draft, setDraft] = useState<DraftItem | null>(null);
  const [to, setTo] = useState('');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { dialog, ask } = useConfirm();

  const load = useCallback(async () => {
    try {
      const d = await client.crm.drafts.get.query({ id: draftId });
      setDraft(d);
      setTo(d.toAddrs.join(', '));
      setSubject(d.subject);
      setBody(d.body);
    } catch (e) {
      setError(describeError(e, 'open the draft'));
    }
  }, [client, draftId]);
  useEffect(() => {
    void load();
  }, [load]);

  const editable = draft?.status === 'draft';
  const recipients = to.split(/[,;\s]+/).map((s) => s.trim()).filter(Boolean);
  const dirty = draft !== null && (to !== draft.toAddrs.join(', ') || subject !== draft.subject || body !== draft.body);

  const save = async () => {
    if (!draft) return null;
    const saved = await client.crm.drafts.update.mutate({ id: draft.id, to: recipients, subject, body });
    setDraft(saved);
    onChanged?.();
    return saved;
  };
  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(describeError(e, what));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="modal draft-modal" role="dialog" aria-modal="true" aria-labelledby="draft-title" data-testid="draft-dialog">
        <h2 className="modal__title" id="draft-title">
          {draft ? (editable ? 'Review draft' : `Draft (${draft.status})`) : 'Opening draft…'}
        </h2>
        {error ? <Banner tone="error" message={error} testId="draft-error" /> : null}
        {dialog}
        {draft ? (
          <div className="draft-editor">
            <label className="field">
              <span className="field__label">To</span>
              <input className="input" value={to} onChange={(e) => setTo(e.target.value)} disabled={!editable} data-testid="draft-to" />
            </label>
            <label className="field">
              <span className="field__label">Subject</span>
              <input className="input" value={subject} onChange={(e) => setSubject(e.target.value)} disabled={!editable} data-testid="draft-subject" />
            </label>
            <label className="field">
              <span className="field__label">Message</span>
              <textarea className="input input--area" value={body} onChange={(e) => setBody(e.target.value)} disabled={!editable} data-testid="draft-body" />
            </label>
          </div>
        ) : null}
        <div className="modal__actions">
          {editable ? (
            <button
              type="button"
              className="button button--ghost"
              disabled={busy}
              onClick={() =>
                void run('discard the draft', async () => {
                  setDraft(await client.crm.drafts.update.mutate({ id: draftId, status: 'discarded' }));
                  onChanged?.();
                  onClose();
                })}
              data-testid="draft-discard"
            >
              Discard
            </button>
          ) : null}
          <button type="button" className="button button--secondary" onClick={onClose} disabled={busy} data-testid="draft-close">
            Close
          </button>
          {editable ? (
            <>
              <button type="button" className="button button--secondary" disabled={busy || !dirty} onClick={() => void run('save the draft', async () => void (await save()))} data-testid="draft-save">
                Save
              </button>
              <button
                type="button"
                className="button button--primary"
                disabled={busy || recipients.length === 0}
                onClick={() =>
                  void run('send the email', async () => {
                    const ok = await ask({
                      title: `Send “${subject || '(no subject)'}”?`,
                      description: `It goes to ${recipients.join(', ')} now, and cannot be called back.`,
                      confirmLabel: 'Send email',
                      tone: 'default',
                    });
                    if (!ok) return;
                    if (dirty) await save();
                    const sent = await client.crm.drafts.send.mutate({ id: draftId });
                    setDraft(sent.draft);
                    onChanged?.();
                  })}
                data-testid="draft-send"
              >
                Send…
              </button>
            </>
          ) : null}
        </div>
      </div>
    </div>
  );
}
