import { linkHandler } from '../router';

/** Any path the studio has no page for: say so, show the path, and offer the way back. */
export function NotFoundPage({ path }: { path: string }) {
  return (
    <div className="page">
      <div className="empty" data-testid="not-found">
        <h1 className="empty__title">There is no page at this address</h1>
        <p className="empty__text">
          Nothing in the studio lives at <code className="not-found__path">{path}</code>. The link may be mistyped, or what it pointed to was
          deleted.
        </p>
        <div className="empty__actions">
          <a className="button button--primary" href="/" onClick={linkHandler('/')} data-testid="not-found-home">
            Go to your flows
          </a>
          <a className="button button--secondary" href="/agents" onClick={linkHandler('/agents')}>
            Agents
          </a>
        </div>
      </div>
    </div>
  );
}
