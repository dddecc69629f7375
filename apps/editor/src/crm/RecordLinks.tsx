import { linkHandler } from '../router';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The CRM records a node's output names, as links to the page that shows each. */
const RECORDS: { key: string; label: string; href: (id: string) => string }[] = [
  { key: 'draftId', label: 'Open the draft', href: (id) => `/drafts/${id}` },
  { key: 'taskId', label: 'Open tasks', href: () => '/tasks' },
  { key: 'followUpId', label: 'Open follow-ups', href: () => '/follow-ups' },
  { key: 'notificationId', label: 'Open the inbox', href: () => '/inbox' },
  { key: 'contactId', label: 'Open the contact', href: (id) => `/contacts/${id}` },
];

/** Under a run node's output: links to the draft, task, follow-up, notification or contact it created. */
export function RecordLinks({ output }: { output: unknown }) {
  if (!output || typeof output !== 'object') return null;
  const o = output as Record<string, unknown>;
  const links = RECORDS.filter((r) => typeof o[r.key] === 'string' && UUID.test(o[r.key] as string));
  if (links.length === 0) return null;
  return (
    <p className="inspector__hint" data-testid="node-record-links">
      {links.map((r, i) => {
        const href = r.href(o[r.key] as string);
        return (
          <span key={r.key}>
            {i > 0 ? ' · ' : ''}
            <a href={href} onClick={linkHandler(href)} data-testid={`record-link-${r.key}`}>
              {r.label}
            </a>
          </span>
        );
      })}
    </p>
  );
}
