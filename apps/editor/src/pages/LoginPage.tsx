import { useId, useState, type FormEvent } from 'react';
import { TOKEN_REJECTED, normalizeTokenInput, verifyToken, type Verification } from '../auth';
import { Logo } from '../components/Logo';
import { Prose } from '../components/Prose';
import { describeError } from '../trpc';

/**
 * Shown when there is no token, or the one we had was refused. The runtime prints a login link
 * with the token on start; pasting either the link or the bare token works.
 */
export function LoginPage({
  notice,
  onSignedIn,
}: {
  notice: string | null;
  onSignedIn: (token: string, result: Verification) => void;
}) {
  const inputId = useId();
  const hintId = useId();
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(notice);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const token = normalizeTokenInput(value);
    if (token === '') {
      setError('Paste the token first.');
      return;
    }
    setBusy(true);
    setError(null);
    const result = await verifyToken(token);
    setBusy(false);
    if (result.ok) onSignedIn(token, result);
    else setError(result.reason === 'unauthorized' ? TOKEN_REJECTED : describeError(result.error, 'check the token'));
  }

  return (
    <div className="login">
      <form className="login__card" onSubmit={(e) => void submit(e)} data-testid="login-form" noValidate>
        <div className="login__brand">
          <Logo size={32} />
          <span className="brand__name brand__name--large">Switchyard</span>
        </div>
        <h1 className="login__title">Sign in to your studio</h1>
        <label className="field__label" htmlFor={inputId}>
          Access token
        </label>
        <input
          id={inputId}
          className={`input input--mono${error ? ' input--invalid' : ''}`}
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          placeholder="Paste token or login link"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          aria-describedby={hintId}
          aria-invalid={error ? true : undefined}
          data-testid="token-input"
        />
        <p className="field__hint" id={hintId}>
          {/* The link the runtime prints starts with the address this page was served from, whatever its port. */}
          <Prose text={`Paste the token printed by \`npm start\` — or the whole \`${window.location.origin}/?token=…\` link.`} />
        </p>
        {error ? (
          <p className="login__error" role="alert" data-testid="login-error">
            <Prose text={error} />
          </p>
        ) : null}
        <button type="submit" className="button button--primary button--block" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
