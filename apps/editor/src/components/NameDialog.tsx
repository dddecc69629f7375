import { useId, useState, type FormEvent } from 'react';

/** Asks for a name (new flow, rename) in the page's own style rather than the browser's prompt. */
export function NameDialog({
  title,
  label,
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  title: string;
  label: string;
  initial: string;
  submitLabel: string;
  onSubmit: (name: string) => void;
  onCancel: () => void;
}) {
  const id = useId();
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  function submit(e: FormEvent) {
    e.preventDefault();
    const name = value.trim();
    if (name === '') return setError('Give it a name.');
    if (name.length > 200) return setError('Keep the name under 200 characters.');
    onSubmit(name);
  }
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <form className="modal" role="dialog" aria-label={title} onSubmit={submit} data-testid="name-dialog" onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
        <h2 className="modal__title">{title}</h2>
        <div className="field">
          <label className="field__label" htmlFor={id}>
            {label}
          </label>
          <input
            id={id}
            className={`input${error ? ' input--invalid' : ''}`}
            value={value}
            autoFocus
            onFocus={(e) => e.target.select()}
            onChange={(e) => {
              setValue(e.target.value);
              setError(null);
            }}
            data-testid="name-input"
          />
          {error ? <p className="field__error">{error}</p> : null}
        </div>
        <div className="modal__actions">
          <button type="button" className="button button--secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" data-testid="name-submit">
            {submitLabel}
          </button>
        </div>
      </form>
    </div>
  );
}
