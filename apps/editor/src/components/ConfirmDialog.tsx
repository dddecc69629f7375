import { useCallback, useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';

export interface ConfirmOptions {
  /** The question, e.g. `Delete “Welcome flow”?`. */
  title: string;
  /** What happens if the user goes ahead, in a sentence or two. */
  description: ReactNode;
  /** The verb of the action, e.g. `Delete flow`; never a bare OK. */
  confirmLabel: string;
  cancelLabel?: string;
  /** `danger` (the default) for what cannot be undone: the button is red. */
  tone?: 'danger' | 'default';
  /** A second way to go ahead (e.g. `Import as copy`), shown between Cancel and the main action. */
  alternativeLabel?: string;
}

/** What the user answered: the main action, the alternative, or neither. */
export type Choice = 'confirm' | 'alternative' | 'cancel';

/**
 * Asks before something that cannot be taken back, in the page's own style rather than the
 * browser's confirm(). An alertdialog: focus starts on the safe button (so Enter keeps things as
 * they are), Tab stays inside, Escape or a click outside cancels, and focus goes back to what
 * opened it. Keys pressed inside do not reach the page behind (the canvas's Delete, Ctrl+Z).
 */
export function ConfirmDialog({
  title,
  description,
  confirmLabel,
  cancelLabel = 'Cancel',
  tone = 'danger',
  alternativeLabel,
  onConfirm,
  onAlternative,
  onCancel,
}: ConfirmOptions & { onConfirm: () => void; onAlternative?: () => void; onCancel: () => void }) {
  const titleId = useId();
  const descriptionId = useId();
  const dialog = useRef<HTMLDivElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);

  // Before the first paint, so no key pressed meanwhile reaches the button that opened the dialog.
  useLayoutEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    cancel.current?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    event.stopPropagation();
    if (event.key === 'Escape') {
      event.preventDefault();
      onCancel();
    } else if (event.key === 'Tab') {
      const buttons = [...(dialog.current?.querySelectorAll<HTMLElement>('button:not(:disabled), [href], input, select, textarea') ?? [])];
      const first = buttons[0];
      const last = buttons.at(-1);
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last?.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first?.focus();
      }
    }
  }

  return createPortal(
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div
        ref={dialog}
        className="modal confirm"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={descriptionId}
        onKeyDown={onKeyDown}
        data-testid="confirm-dialog"
      >
        <div className="confirm__body">
          {tone === 'danger' ? (
            <span className="confirm__icon" aria-hidden="true">
              <svg width="20" height="20" viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round">
                <path d="M10 3 18 17H2L10 3Z" />
                <path d="M10 8.5v3.5M10 14.5h.01" />
              </svg>
            </span>
          ) : null}
          <div className="confirm__text">
            <h2 className="modal__title" id={titleId}>
              {title}
            </h2>
            <p className="confirm__description" id={descriptionId}>
              {description}
            </p>
          </div>
        </div>
        <div className="modal__actions">
          <button ref={cancel} type="button" className="button button--secondary" onClick={onCancel} data-testid="confirm-cancel">
            {cancelLabel}
          </button>
          {alternativeLabel && onAlternative ? (
            <button type="button" className="button button--secondary" onClick={onAlternative} data-testid="confirm-alternative">
              {alternativeLabel}
            </button>
          ) : null}
          <button type="button" className={`button ${tone === 'danger' ? 'button--destructive' : 'button--primary'}`} onClick={onConfirm} data-testid="confirm-accept">
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>,
    document.body,
  );
}

/**
 * `ask(options)` opens a ConfirmDialog and resolves with the answer, so a confirmation reads like
 * the confirm() it replaces: `if (!(await ask({...}))) return;`. Render `dialog` somewhere in the
 * component (it is null while nothing is asked).
 */
export function useConfirm(): {
  dialog: ReactNode;
  ask: (options: ConfirmOptions) => Promise<boolean>;
  choose: (options: ConfirmOptions & { alternativeLabel: string }) => Promise<Choice>;
} {
  const [options, setOptions] = useState<ConfirmOptions | null>(null);
  const answer = useRef<((choice: Choice) => void) | null>(null);
  const choose = useCallback(
    (next: ConfirmOptions) =>
      new Promise<Choice>((resolve) => {
        // A second question replaces an open one, which counts as declined.
        answer.current?.('cancel');
        answer.current = resolve;
        setOptions(next);
      }),
    [],
  );
  const ask = useCallback((next: ConfirmOptions) => choose({ ...next, alternativeLabel: undefined }).then((c) => c === 'confirm'), [choose]);
  const settle = (choice: Choice) => {
    answer.current?.(choice);
    answer.current = null;
    setOptions(null);
  };
  const dialog = options ? (
    <ConfirmDialog {...options} onConfirm={() => settle('confirm')} onAlternative={() => settle('alternative')} onCancel={() => settle('cancel')} />
  ) : null;
  return { dialog, ask, choose };
}
