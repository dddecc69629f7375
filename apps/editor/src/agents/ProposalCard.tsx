import { useId, useState, type ReactNode } from 'react';
import { formatDateTime, formatRelative } from '../format';
import { describeError, switchyardCode } from '../trpc';
import { proposalLines, proposalTitle } from './proposals';

export interface Proposal {
  id: string;
  tool: string;
  args?: unknown;
  reason: string;
  createdAt: string;
}

export type Decision = 'approve' | 'reject';

/**
 * One effect an agent proposed and a person has to decide on: what it would do, in readable
 * lines, why it waits, and Approve / Reject. `decide` throws on failure; the card says why
 * (and that someone else already decided, when that is the reason) and lets the person retry.
 */
export function ProposalCard({
  proposal,
  decide,
  context,
  compact = false,
}: {
  proposal: Proposal;
  decide: (decision: Decision, comment: string) => Promise<void>;
  /** Where it came from: the run link on the agent page, the agent's name in the run panel. */
  context?: ReactNode;
  /** The run panel's narrow column: no comment field. */
  compact?: boolean;
}) {
  const [busy, setBusy] = useState<Decision | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const commentId = useId();
  const lines = proposalLines(proposal.tool, proposal.args);

  const run = async (decision: Decision) => {
    setBusy(decision);
    setError(null);
    try {
      await decide(decision, comment.trim());
    } catch (e) {
      setError(
        switchyardCode(e) === 'INVALID_STATE'
          ? 'This proposal was already decided (perhaps in another tab). The list is being refreshed.'
          : describeError(e, decision === 'approve' ? 'approve the proposal' : 'reject the proposal'),
      );
    } finally {
      setBusy(null);
    }
  };

  return (
    <article className={`proposal${compact ? ' proposal--compact' : ''}`} data-testid="proposal" data-approval-id={proposal.id} data-tool={proposal.tool} aria-label={proposalTitle(proposal.tool)}>
      <header className="proposal__head">
        <span className="proposal__title">{proposalTitle(proposal.tool)}</span>
        <code className="proposal__tool">{proposal.tool}</code>
        <time className="proposal__time muted" dateTime={proposal.createdAt} title={formatDateTime(proposal.createdAt)}>
          {formatRelative(proposal.createdAt)}
        </time>
      </header>
      {lines ? (
        <dl className="proposal__args" data-testid="proposal-args">
          {lines.map((l) => (
            <div key={l.label} className={`proposal__arg${l.block ? ' proposal__arg--block' : ''}`}>
              <dt>{l.label}</dt>
              <dd>{l.value}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <pre className="code proposal__json" data-testid="proposal-args">
          {JSON.stringify(proposal.args, null, 2)}
        </pre>
      )}
      {proposal.reason ? (
        <p className="proposal__reason" data-testid="proposal-reason">
          <span className="proposal__reason-label">Why it waits:</span> {proposal.reason}
        </p>
      ) : null}
      {context ? <div className="proposal__context">{context}</div> : null}
      {error ? (
        <p className="field__error" role="alert" data-testid="proposal-error">
          {error}
        </p>
      ) : null}
      <div className="proposal__actions">
        {compact ? null : (
          <>
            <label className="visually-hidden" htmlFor={commentId}>
              Note on your decision (optional)
            </label>
            <input
              id={commentId}
              className="input input--compact proposal__comment"
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              placeholder="Note (optional)"
              maxLength={2000}
              data-testid="proposal-comment"
            />
          </>
        )}
        <button type="button" className="button button--primary button--small" disabled={busy !== null} onClick={() => void run('approve')} data-testid="proposal-approve">
          {busy === 'approve' ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" className="button button--secondary button--small" disabled={busy !== null} onClick={() => void run('reject')} data-testid="proposal-reject">
          {busy === 'reject' ? 'Rejecting…' : 'Reject'}
        </button>
      </div>
    </article>
  );
}
