/**
 * How a proposal an agent made (an effect waiting for a person's decision) reads to that person:
 * the arguments of the tools that can wait for approval as labelled lines, anything else as JSON.
 * Pure, so the agent page and the run panel show proposals the same way.
 */

export interface ProposalLine {
  label: string;
  value: string;
  /** Long text (an email body): shown as a block, not on one line. */
  block?: boolean;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const list = (v: unknown): string => (Array.isArray(v) ? v.map(text).join(', ') : text(v));

function when(v: unknown): string {
  if (typeof v !== 'string') return text(v);
  const date = new Date(v);
  return Number.isNaN(date.getTime()) ? v : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

type Reader = (args: Record<string, unknown>) => Array<ProposalLine | null>;

const line = (label: string, value: string, block = false): ProposalLine | null => (value === '' ? null : { label, value, ...(block ? { block } : {}) });

/** Tools with a readable form, keyed by the tool name the runtime reports. */
const READERS: Record<string, { title: string; read: Reader }> = {
  sendEmail: {
    title: 'Send an email',
    read: (a) => [line('To', list(a.to)), line('Subject', text(a.subject)), line('Body', text(a.body), true)],
  },
  createCalendarEvent: {
    title: 'Create a calendar event',
    read: (a) => [line('Title', text(a.title)), line('Starts', when(a.startsAt)), line('Ends', when(a.endsAt)), line('Attendees', list(a.attendees)), line('Details', text(a.description), true)],
  },
  updateContact: {
    title: 'Update a contact',
    read: (a) => [line('Contact', text(a.email)), line('Add tags', list(a.addTags)), line('Add note', text(a.appendNote), true)],
  },
};

/** "Send an email" for known tools, else the tool's own name. */
export const proposalTitle = (tool: string): string => READERS[tool]?.title ?? tool;

/**
 * The arguments as labelled lines, or `null` when the tool has no readable form or the arguments
 * are not the object it expects (the caller shows JSON then).
 */
export function proposalLines(tool: string, args: unknown): ProposalLine[] | null {
  const reader = READERS[tool];
  if (!reader || !args || typeof args !== 'object' || Array.isArray(args)) return null;
  const lines = reader.read(args as Record<string, unknown>).filter((l): l is ProposalLine => l !== null);
  return lines.length ? lines : null;
}

/** What happened, in a sentence, after a person decided on a proposal. */
export function decisionSummary(tool: string, args: unknown, status: string): string {
  if (status === 'rejected') return `Rejected “${proposalTitle(tool).toLowerCase()}”: nothing was done.`;
  if (status !== 'approved') return `${proposalTitle(tool)}: ${status}.`;
  const a = args && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  switch (tool) {
    case 'sendEmail':
      return list(a.to) ? `Approved: the email to ${list(a.to)} was sent.` : 'Approved: the email was sent.';
    case 'createCalendarEvent':
      return text(a.title) ? `Approved: “${text(a.title)}” is in the calendar.` : 'Approved: the calendar event was created.';
    case 'updateContact':
      return text(a.email) ? `Approved: ${text(a.email)} was updated.` : 'Approved: the contact was updated.';
    default:
      return `Approved: ${tool} ran.`;
  }
}
