import type { ReactNode } from 'react';
import { Prose } from './Prose';

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
