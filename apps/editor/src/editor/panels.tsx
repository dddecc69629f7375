import { compile } from '@switchyard/actors';
import type { FlowDocument } from '@switchyard/schema';
import { useCallback, useMemo, useState, type FormEvent } from 'react';
import { useConfirm } from '../components/ConfirmDialog';
import { formatDateTime, formatRelative } from '../format';
import { describeError, type ApiClient, type QueryOutput } from '../trpc';
import { useRemote } from '../useRemote';
import type { GraphNode } from './graph';
import { specOf } from './graph';
import type { RunRequest } from './session.machine';

function Drawer({ title, onClose, children, testId }: { title: string; onClose: () => void; children: React.ReactNode; testId: string }) {
  return (
    <aside className="drawer" role="dialog" aria-label={title} data-testid={testId}>
      <div className="drawer__head">
        <h2 className="drawer__title">{title}</h2>
        <button type="button" className="button button--ghost button--small" onClick={onClose} aria-label={`Close ${title}`}>
          Close
        </button>
      </div>
      <div className="drawer__body">{children}</div>
    </aside>
  );
}

/** "pending → running → succeeded | failed | skipped": the path, then the ways it can end. */
function describeRegion(states: Record<string, unknown>): string {
  const isFinal = (v: unknown) => typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'final';
  const steps = Object.keys(states).filter((k) => !isFinal(states[k]));
  const ends = Object.keys(states).filter((k) => isFinal(states[k]));
  return [...steps, ends.join(' | ')].filter(Boolean).join(' → ');
}

/** The nodes the machine decides in the step that reaches them (format 4: a state whose entry is `decide`). */
function decidedNodes(config: unknown, out: string[] = []): string[] {
  if (Array.isArray(config)) for (const c of config) decidedNodes(c, out);
  else if (config && typeof config === 'object') {
    const entry = (config as { entry?: { type?: unknown; params?: { nodeId?: unknown } } }).entry;
    if (entry?.type === 'decide' && typeof entry.params?.nodeId === 'string') out.push(entry.params.nodeId);
    for (const v of Object.values(config)) decidedNodes(v, out);
  }
  return out;
}

/** What the compiler makes of the canvas: a region per trigger and per chain of nodes, and the machine JSON itself. */
export function CompilePreview({ document, onClose }: { document: FlowDocument; onClose: () => void }) {
  const { machine, diagnostics } = useMemo(() => compile(document), [document]);
  const decided = useMemo(() => (machine ? decidedNodes(machine.config) : []), [machine]);
  const regions = machine
    ? Object.entries(((machine.config.states as Record<string, { states?: Record<string, { states?: Record<string, unknown> }> }>).active?.states ?? {}))
    : [];
  return (
    <Drawer title="Compile preview" onClose={onClose} testId="compile-preview">
      {!machine ? (
        <p className="inspector__hint">
          The flow does not compile yet: fix the {diagnostics.filter((d) => d.severity === 'error').length} problem(s) listed in the inspector.
        </p>
      ) : (
        <>
          <p className="inspector__hint">
            One parallel state with a region per trigger and per chain of nodes; a chain runs its nodes one after another. A chain starts once its inputs are done; a path that does not pass is skipped.
          </p>
          <ol className="state-list" data-testid="state-list">
            {regions.map(([id, region]) => (
              <li key={id}>
                <code>{id}</code>{' '}
                <span className="muted">
                  ({machine.nodes[id]?.label}
                  {Object.keys(region.states ?? {}).filter((k) => machine.nodes[k]).length > 1 ? `, a chain of ${Object.keys(region.states ?? {}).filter((k) => machine.nodes[k]).length} nodes` : ''})
                </span>
                <div className="state-list__states">{describeRegion(region.states ?? {})}</div>
              </li>
            ))}
          </ol>
          {decided.length ? (
            <p className="inspector__hint" data-testid="decided-nodes">
              Decided in the step that reaches them (no step of their own, nothing invoked): {decided.map((id, i) => <span key={id}>{i ? ', ' : ''}<code>{id}</code></span>)}.
            </p>
          ) : null}
          <h3 className="inspector__subtitle">Machine JSON</h3>
          <pre className="code code--tall" data-testid="machine-json">
            {JSON.stringify(machine.config, null, 2)}
          </pre>
        </>
      )}
    </Drawer>
  );
}

/** Saved versions, newest first; restoring saves the old document as a new version. */
export function HistoryPanel({
  client,
  docId,
  currentVersion,
  dirty,
  onClose,
  onRestored,
}: {
  client: ApiClient;
  docId: string;
  currentVersion: number;
  dirty: boolean;
  onClose: () => void;
  onRestored: (document: FlowDocument, version: number) => void;
}) {
  const load = useCallback(() => client.flows.versions.query({ docId }), [client, docId, currentVersion]); // eslint-disable-line react-hooks/exhaustive-deps
  const versions = useRemote(load);
  const [busy, setBusy] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { dialog: confirmDialog, ask } = useConfirm();

  async function restore(version: number) {
    if (
      dirty &&
      !(await ask({
        title: `Restore version ${version}?`,
        description: 'Restoring replaces your unsaved changes on the canvas; they cannot be brought back.',
        confirmLabel: 'Discard changes and restore',
      }))
    ) {
      return;
    }
    setBusy(version);
    setError(null);
    try {
      const old = await client.flows.get.query({ docId, version });
      const saved = await client.flows.save.mutate({ document: old.document, expectedVersion: currentVersion, note: `Restored version ${version}` });
      const fresh = await client.flows.get.query({ docId });
      onRestored(fresh.document, saved.version);
      versions.reload();
    } catch (e) {
      setError(describeError(e, `restore version ${version}`));
    } finally {
      setBusy(null);
    }
  }

  return (
    <Drawer title="Version history" onClose={onClose} testId="history-panel">
      {confirmDialog}
      {error ? <p className="field__error">{error}</p> : null}
      {versions.status === 'error' ? <p className="field__error">{describeError(versions.error, 'load the versions')}</p> : null}
      {!versions.data ? (
        <p className="inspector__hint">Loading versions…</p>
      ) : (
        <ul className="versions">
          {versions.data.items.map((v) => (
            <li key={v.version} className="versions__item" data-testid="version-row" data-version={v.version}>
              <div>
                <strong>v{v.version}</strong> {v.version === currentVersion ? <span className="badge badge--draft">current</span> : null}{' '}
                {v.deployed ? <span className="badge badge--deployed">deployed</span> : null}
                <div className="muted versions__meta">
                  <time title={formatDateTime(v.createdAt)}>{formatRelative(v.createdAt)}</time> · {v.nodes} node{v.nodes === 1 ? '' : 's'}
                  {v.note ? ` · ${v.note}` : ''}
                </div>
              </div>
              {v.version !== currentVersion ? (
                <button type="button" className="button button--secondary button--small" disabled={busy !== null} onClick={() => void restore(v.version)} data-testid="restore-version">
                  {busy === v.version ? 'Restoring…' : 'Restore'}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Drawer>
  );
}

type EventKind = 'email.received' | 'contact.created' | 'other';

/** A test event shaped by the trigger: an email, a new contact, or a JSON payload. */
type Contact = QueryOutput<ApiClient['crm']['contacts']['list']>['items'][number];

const SOMEONE_ELSE = '';

export function RunDialog({
  client,
  trigger,
  deployedVersion,
  dirty,
  onCancel,
  onRun,
}: {
  client: ApiClient;
  trigger: GraphNode;
  deployedVersion: number | null;
  dirty: boolean;
  onCancel: () => void;
  onRun: (request: RunRequest) => void;
}) {
  const spec = specOf(trigger.type);
  const eventType = spec?.listensTo ?? null;
  const kind: EventKind = eventType === 'email.received' ? 'email.received' : eventType === 'contact.created' ? 'contact.created' : 'other';
  const [email, setEmail] = useState({ from: '', subject: 'Quarterly numbers', body: 'Hi, could you send me the latest figures?', isImportant: true, isUnread: true });
  const [contact, setContact] = useState({ name: 'Alex Doe', email: 'alex@example.com' });
  const [json, setJson] = useState('{}');
  const [error, setError] = useState<string | null>(null);
  const asEvent = deployedVersion !== null && eventType !== null;
  // Known contacts to send the test email from: a sender who is not one stops a flow at its
  // "Is known contact" check, which is not what a first test run should show.
  const loadContacts = useCallback(() => client.crm.contacts.list.query({ limit: 50 }), [client]);
  const contacts = useRemote(loadContacts);
  const known: Contact[] = useMemo(() => (contacts.data?.items ?? []).filter((c) => typeof c.email === 'string' && c.email !== ''), [contacts.data]);
  // Until the user types or picks a sender, the first known contact is the sender.
  const [typedFrom, setTypedFrom] = useState<string | null>(null);
  const from = typedFrom ?? known[0]?.email ?? '';
  const pickedContact = known.find((c) => c.email?.toLowerCase() === from.trim().toLowerCase());
  const contactsLoading = contacts.status === 'loading' && !contacts.data;
  // The sender is not known until the contacts load (picker and From are locked meanwhile): a
  // submit then would be refused as "no sender", so Send waits for them.
  const senderLoading = kind === 'email.received' && contactsLoading;

  function submit(e: FormEvent) {
    e.preventDefault();
    let payload: Record<string, unknown>;
    if (kind === 'email.received') {
      if (!/^\S+@\S+\.\S+$/.test(from.trim())) return setError('Enter the sender as an email address, e.g. alex@example.com.');
      payload = { ...email, from: from.trim() };
    } else if (kind === 'contact.created') {
      if (!/^\S+@\S+\.\S+$/.test(contact.email.trim())) return setError('Enter the contact’s email address.');
      payload = { ...contact, email: contact.email.trim() };
    } else {
      try {
        const parsed: unknown = JSON.parse(json || '{}');
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return setError('The payload must be a JSON object, e.g. {"name": "Alex"}.');
        payload = parsed as Record<string, unknown>;
      } catch {
        return setError('The payload is not valid JSON.');
      }
    }
    onRun({ payload, eventType, triggerNodeId: trigger.id, asEvent });
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <form className="modal" role="dialog" aria-label="Run with a test event" onSubmit={submit} data-testid="run-dialog">
        <h2 className="modal__title">{kind === 'email.received' ? 'Send a test email' : kind === 'contact.created' ? 'Add a test contact event' : 'Run with a test payload'}</h2>
        <p className="inspector__hint">
          {asEvent
            ? `Sent as a real ${eventType} event: every deployed flow listening to it reacts, this one with version ${deployedVersion}.`
            : `Runs the ${dirty ? 'current canvas (saved first)' : 'saved draft'} from “${trigger.label ?? spec?.label ?? trigger.id}”.`}
        </p>
        {kind === 'email.received' ? (
          <>
            <label className="field">
              <span className="field__label">Send as</span>
              <select
                className="input input--compact"
                value={pickedContact?.email ?? SOMEONE_ELSE}
                onChange={(e) => setTypedFrom(e.target.value)}
                disabled={known.length === 0}
                data-testid="run-contact"
              >
                {known.map((c) => (
                  <option key={c.id} value={c.email ?? ''}>
                    {c.name ? `${c.name} <${c.email}>` : c.email}
                  </option>
                ))}
                <option value={SOMEONE_ELSE}>{contactsLoading ? 'Loading…' : known.length === 0 ? 'No known contacts yet' : 'Someone else (type the address below)'}</option>
              </select>
              <span className="field__hint" data-testid="run-contact-hint">
                {contactsLoading
                  ? 'Loading your contacts…'
                  : pickedContact
                    ? 'A known contact: an “Is known contact” check lets this email through.'
                    : 'Not a known contact: an “Is known contact” check stops the run there.'}
              </span>
            </label>
            {/* Read-only while the contacts load: the first known contact becomes the sender then, which would mix with what is typed meanwhile. */}
            <TextField label="From" value={from} onChange={setTypedFrom} testId="run-from" readOnly={contactsLoading} />
            <TextField label="Subject" value={email.subject} onChange={(subject) => setEmail({ ...email, subject })} testId="run-subject" />
            <TextField label="Body" value={email.body} onChange={(body) => setEmail({ ...email, body })} testId="run-body" multiline />
            <label className="check">
              <input type="checkbox" checked={email.isImportant} onChange={(e) => setEmail({ ...email, isImportant: e.target.checked })} data-testid="run-important" />
              <span>Marked important</span>
            </label>
            <label className="check">
              <input type="checkbox" checked={email.isUnread} onChange={(e) => setEmail({ ...email, isUnread: e.target.checked })} data-testid="run-unread" />
              <span>Unread</span>
            </label>
          </>
        ) : kind === 'contact.created' ? (
          <>
            <TextField label="Name" value={contact.name} onChange={(name) => setContact({ ...contact, name })} testId="run-name" />
            <TextField label="Email" value={contact.email} onChange={(value) => setContact({ ...contact, email: value })} testId="run-email" />
          </>
        ) : (
          <TextField label="Payload (JSON)" value={json} onChange={setJson} testId="run-payload" multiline mono />
        )}
        {error ? (
          <p className="field__error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="modal__actions">
          <button type="button" className="button button--secondary" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button--primary" data-testid="run-submit" disabled={senderLoading}>
            {kind === 'email.received' ? 'Send test email' : 'Run'}
          </button>
        </div>
      </form>
    </div>
  );
}

function TextField({ label, value, onChange, testId, multiline, mono, readOnly }: { label: string; value: string; onChange: (v: string) => void; testId: string; multiline?: boolean; mono?: boolean; readOnly?: boolean }) {
  const cls = `input input--compact${multiline ? ' input--area' : ''}${mono ? ' input--mono' : ''}`;
  return (
    <label className="field">
      <span className="field__label">{label}</span>
      {multiline ? (
        <textarea className={cls} rows={3} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId} />
      ) : (
        <input className={cls} value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId} readOnly={readOnly} aria-busy={readOnly || undefined} />
      )}
    </label>
  );
}
