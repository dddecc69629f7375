import type { ReactNode } from 'react';
import { Prose } from './Prose';
import { describeError } from '../trpc';

/** A message across the top of a page; `error` is announced to screen readers at once. */
export function Banner({
  tone,
  message,
  action,
  testId,
}: {
  tone: 'error' | 'info';
  message: string;
  action?: ReactNode;
  testId?: string;
}) {
  return (
    <div className={`banner banner--${tone}`} role={tone === 'error' ? 'alert' : 'status'} data-testid={testId}>
      <span className="banner__icon" aria-hidden="true">
        {tone === 'error' ? '!' : 'i'}
      </span>
      <p className="banner__text">
        <Prose text={message} />
      </p>
      {action ? <div className="banner__action">{action}</div> : null}
    </div>
  );
}

export function RetryButton({ onClick }: { onClick: () => void }) {
  return (
    <button type="button" className="button button--secondary button--small" onClick={onClick}>
      Try again
    </button>
  );
}

/** The error banner of a page whose data did not load, with a retry. `task` completes "Couldn't …". */
export function LoadErrorBanner({ error, task, onRetry }: { error: unknown; task: string; onRetry: () => void }) {
  return <Banner tone="error" testId="error-banner" message={describeError(error, task)} action={<RetryButton onClick={onRetry} />} />;
}
