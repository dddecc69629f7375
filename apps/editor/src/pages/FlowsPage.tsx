import { SCHEMA_VERSION, type FlowDocument } from '@switchyard/schema';
import { readFlowFile } from '../editor/flow-file';
import { BUNDLED_TEMPLATES, type BundledTemplate } from '../templates';
import { JsonFileButton } from '../components/JsonFileButton';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { listAllFlows, type FlowList } from '../auth';
import { Banner, LoadErrorBanner } from '../components/Banner';
import { useConfirm } from '../components/ConfirmDialog';
import { NameDialog } from '../components/NameDialog';
import { docIdFromName } from '../editor/graph';
import { formatDateTime, formatRelative } from '../format';
import { hrefOf, linkHandler, navigate } from '../router';
import { describeError, errorCode, isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';

type Flow = FlowList['items'][number];
type Kind = Flow['kind'];
type KindFilter = 'all' | Kind;

const KIND_LABEL: Record<Kind, string> = { workflow: 'Workflow', behavior: 'Behavior', plan: 'Plan' };
const FILTERS: ReadonlyArray<{ id: KindFilter; label: string }> = [
  { id: 'all', label: 'All' },
  { id: 'workflow', label: 'Workflows' },
  { id: 'behavior', label: 'Behaviors' },
  { id: 'plan', label: 'Plans' },
];

export function FlowsPage({
  client,
  initial,
  onUnauthorized,
}: {
  client: ApiClient;
  initial: FlowList | undefined;
  onUnauthorized: () => void;
}) {
  const load = useCallback(() => listAllFlows(client), [client]);
  const flows = useRemote(load, initial);
  const [filter, setFilter] = useState<KindFilter>('all');
  const [search, setSearch] = useState('');
  const [notice, setNotice] = useState<{ tone: 'error' | 'info'; text: string } | null>(null);
  const [naming, setNaming] = useState<{ mode: 'create'; kind: 'workflow' | 'behavior' } | { mode: 'rename'; flow: Flow } | null>(null);
  const { dialog: confirmDialog, ask, choose } = useConfirm();

  /** Runs a list action, reporting failures in words and refreshing the table afterwards. */
  const act = useCallback(
    async (what: string, action: () => Promise<string | null>) => {
      setNotice(null);
      try {
        const done = await action();
        if (done) setNotice({ tone: 'info', text: done });
      } catch (error) {
        setNotice({ tone: 'error', text: describeError(error, what) });
      }
      flows.reload();
    },
    [flows],
  );

  const create = () => setNaming({ mode: 'create', kind: 'workflow' });
  const createBehavior = () => setNaming({ mode: 'create', kind: 'behavior' });

  const createNamed = (name: string, kind: 'workflow' | 'behavior') =>
    void act(`create the ${kind}`, async () => {
      const document: FlowDocument = {
        schemaVersion: SCHEMA_VERSION, id: docIdFromName(name), kind, name, description: '', version: 0, nodes: [], edges: [], settings: {},
      };
      await client.flows.save.mutate({ document });
      navigate(hrefOf({ page: 'editor', docId: document.id }));
      return null;
    });

  /** A template's flows become drafts of this studio (fresh ids, so it can be used twice); the first opens. */
  const startFromTemplate = (template: BundledTemplate) =>
    void act('use the template', async () => {
      let first: string | null = null;
      for (const document of template.documents) {
        const id = docIdFromName(document.name);
        await client.flows.import.mutate({ document: { ...document, id }, replace: false });
        first ??= id;
      }
      if (first) navigate(hrefOf({ page: 'editor', docId: first }));
      return null;
    });

  const rename = (flow: Flow) => setNaming({ mode: 'rename', flow });

  const renameTo = (flow: Flow, name: string) =>
    void act('rename the flow', async () => {
      if (name === flow.name) return null;
      const { document } = await client.flows.get.query({ docId: flow.docId });
      await client.flows.save.mutate({ document: { ...document, name }, expectedVersion: flow.version, note: 'Renamed' });
      return `Renamed to “${name}”.`;
    });

  const duplicate = (flow: Flow) =>
    void act('duplicate the flow', async () => {
      const { document } = await client.flows.get.query({ docId: flow.docId });
      const name = `Copy of ${document.name}`;
      await client.flows.save.mutate({ document: { ...document, id: docIdFromName(name), name, version: 0 } });
      return `Duplicated as “${name}” (a draft).`;
    });

  const remove = async (flow: Flow) => {
    const live = flow.status === 'deployed' ? 'It is deployed: it stops reacting to events, schedules and webhooks at once. ' : '';
    const ok = await ask({
      title: `Delete “${flow.name}”?`,
      description: `${live}Runs still in progress (waiting for an approval or a delay) are cancelled; finished runs stay in the run history. The flow and its version history are removed from the studio. This cannot be undone.`,
      confirmLabel: 'Delete flow',
    });
    if (!ok) return;
    await act('delete the flow', async () => {
      const { cancelledRuns } = await client.flows.delete.mutate({ docId: flow.docId });
      return `Deleted “${flow.name}”${cancelledRuns ? ` and cancelled ${cancelledRuns} run${cancelledRuns === 1 ? '' : 's'} in progress` : ''}.`;
    });
  };

  const importFile = (file: File) =>
    void act('import the file', async () => {
      const read = readFlowFile(await file.text());
      // describeError ends the sentence itself.
      if (!read.ok) throw new Error(`${file.name} is not a Switchyard flow: ${read.problem.replace(/\.$/, '')}`);
      const document = read.document;
      try {
        await client.flows.import.mutate({ document, replace: false });
        return `Imported “${document.name}”.`;
      } catch (error) {
        if (errorCode(error) !== 'CONFLICT') throw error;
      }
      const choice = await choose({
        title: `Replace “${document.name}” with the file?`,
        description: `A flow with the id “${document.id}” exists already. Replace saves the file as its new version (the earlier versions stay in its history); Import as copy adds the file as a separate draft and leaves the existing flow alone.`,
        confirmLabel: 'Replace',
        alternativeLabel: 'Import as copy',
        tone: 'default',
      });
      if (choice === 'cancel') return null;
      if (choice === 'confirm') {
        await client.flows.import.mutate({ document, replace: true });
        return `Imported “${document.name}” as its new version.`;
      }
      const name = `Copy of ${document.name}`;
      await client.flows.import.mutate({ document: { ...document, id: docIdFromName(name), name }, replace: false });
      return `Imported as “${name}” (a draft).`;
    });

  const unauthorized = flows.status === 'error' && isUnauthorized(flows.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  const items = flows.data?.items ?? null;
  const visible = useMemo(() => {
    if (!items) return [];
    const needle = search.trim().toLowerCase();
    return items.filter(
      (f) =>
        (filter === 'all' || f.kind === filter) &&
        (needle === '' || f.name.toLowerCase().includes(needle) || f.description.toLowerCase().includes(needle)),
    );
  }, [items, filter, search]);

  return (
    <div className="page">
      <div className="page__header">
        <div>
          <h1 className="page__title">Flows</h1>
          <p className="page__subtitle">Workflows, proactive behaviors and multi-agent plans in this studio.</p>
        </div>
        <div className="page__actions">
          <button
            type="button"
            className="button button--secondary"
            onClick={flows.reload}
            disabled={flows.status === 'loading'}
          >
            {flows.status === 'loading' && items ? 'Refreshing…' : 'Refresh'}
          </button>
          <JsonFileButton className="button button--secondary" testId="import-flow" onFile={importFile}>
            Import JSON
          </JsonFileButton>
          <a className="button button--secondary" href="/plans" onClick={linkHandler('/plans')} data-testid="plan-from-task">
            Plan from a task
          </a>
          <button type="button" className="button button--secondary" onClick={createBehavior} data-testid="new-behavior"
            title="A long-lived machine that idles and acts each time its triggers fire (schedules, logins, emails, notification actions)">
            New behavior
          </button>
          <button type="button" className="button button--primary" onClick={create} data-testid="new-workflow">
            New workflow
          </button>
        </div>
      </div>

      {notice ? <Banner tone={notice.tone} message={notice.text} testId="list-notice" /> : null}
      {confirmDialog}
      {naming ? (
        <NameDialog
          title={naming.mode === 'create' ? (naming.kind === 'behavior' ? 'New behavior' : 'New workflow') : 'Rename flow'}
          label="Name"
          initial={naming.mode === 'create' ? '' : naming.flow.name}
          submitLabel={naming.mode === 'create' ? 'Create and open' : 'Rename'}
          onCancel={() => setNaming(null)}
          onSubmit={(name) => {
            setNaming(null);
            if (naming.mode === 'create') createNamed(name, naming.kind);
            else renameTo(naming.flow, name);
          }}
        />
      ) : null}

      {flows.status === 'error' && !unauthorized ? (
        <LoadErrorBanner error={flows.error} task="load your flows" onRetry={flows.reload} />
      ) : null}

      {items === null ? (
        flows.status === 'loading' ? (
          <LoadingTable />
        ) : null
      ) : items.length === 0 ? (
        <EmptyState onCreate={create} onUseTemplate={startFromTemplate} />
      ) : (
        <>
          <div className="toolbar">
            <div className="segmented" role="group" aria-label="Filter by kind">
              {FILTERS.map((f) => {
                const count = f.id === 'all' ? items.length : items.filter((i) => i.kind === f.id).length;
                return (
                  <button
                    key={f.id}
                    type="button"
                    className={`segmented__item${filter === f.id ? ' segmented__item--active' : ''}`}
                    aria-pressed={filter === f.id}
                    onClick={() => setFilter(f.id)}
                  >
                    {f.label}
                    <span className="segmented__count">{count}</span>
                  </button>
                );
              })}
            </div>
            <input
              className="input input--search"
              type="search"
              placeholder="Search flows"
              aria-label="Search flows"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          <FlowTable flows={visible} onRename={rename} onDuplicate={duplicate} onDelete={(flow) => void remove(flow)} />
          {visible.length === 0 ? (
            <p className="table-note" data-testid="no-matches">
              No flows match these filters.
            </p>
          ) : null}
        </>
      )}
    </div>
  );
}

function FlowTable({
  flows,
  onRename,
  onDuplicate,
  onDelete,
}: {
  flows: Flow[];
  onRename: (flow: Flow) => void;
  onDuplicate: (flow: Flow) => void;
  onDelete: (flow: Flow) => void;
}) {
  return (
    <div className="table-card">
      <table className="table" data-testid="flow-list">
        <FlowTableHead />
        <tbody>
          {flows.map((flow) => (
            <tr key={flow.id} data-testid="flow-row" data-flow-id={flow.id} data-doc-id={flow.docId}>
              <td className="table__name">
                <a
                  className="flow-name flow-link"
                  href={hrefOf({ page: 'editor', docId: flow.docId })}
                  onClick={(e) => {
                    if (e.button !== 0 || e.metaKey || e.ctrlKey) return;
                    e.preventDefault();
                    navigate(hrefOf({ page: 'editor', docId: flow.docId }));
                  }}
                  title={flow.name}
                  data-testid="open-flow"
                >
                  {flow.name}
                </a>
                {flow.description ? (
                  <span className="flow-description" title={flow.description}>
                    {flow.description}
                  </span>
                ) : null}
              </td>
              <td>
                <span className={`kind kind--${flow.kind}`}>{KIND_LABEL[flow.kind]}</span>
              </td>
              <td>
                <StatusBadge flow={flow} />
              </td>
              <td className="table__num">
                <VersionCell flow={flow} />
              </td>
              <td>
                <LastRun run={flow.lastRun} />
              </td>
              <td>
                <time dateTime={flow.updatedAt} title={formatDateTime(flow.updatedAt)} className="muted">
                  {formatRelative(flow.updatedAt)}
                </time>
              </td>
              <td className="table__actions">
                <button type="button" className="button button--ghost button--small" onClick={() => onRename(flow)} data-testid="rename-flow">
                  Rename
                </button>
                <button type="button" className="button button--ghost button--small" onClick={() => onDuplicate(flow)} data-testid="duplicate-flow">
                  Duplicate
                </button>
                <button type="button" className="button button--ghost button--small button--danger" onClick={() => onDelete(flow)} data-testid="delete-flow">
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Fixed column widths keep the table steady while loading and across filters; names take the rest. */
function FlowTableHead() {
  return (
    <>
      <colgroup>
        <col />
        <col style={{ width: 112 }} />
        <col style={{ width: 108 }} />
        <col style={{ width: 76 }} />
        <col style={{ width: 124 }} />
        <col style={{ width: 96 }} />
        <col style={{ width: 204 }} />
      </colgroup>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col">Status</th>
          <th scope="col" className="table__num">
            Version
          </th>
          <th scope="col">Last run</th>
          <th scope="col">Updated</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
    </>
  );
}

function StatusBadge({ flow }: { flow: Flow }) {
  switch (flow.status) {
    case 'deployed':
      return (
        <span className="badge badge--deployed" title={`Version ${flow.deployedVersion ?? flow.version} is live`}>
          Deployed
        </span>
      );
    case 'draft':
      return <span className="badge badge--draft">Draft</span>;
  }
}

function VersionCell({ flow }: { flow: Flow }) {
  // A deployed flow edited since shows both: what you are editing and what is running.
  if (flow.deployedVersion !== null && flow.deployedVersion !== flow.version) {
    return (
      <span title={`Editing v${flow.version}; v${flow.deployedVersion} is live`}>
        v{flow.version} <span className="muted">(v{flow.deployedVersion} live)</span>
      </span>
    );
  }
  return <span>v{flow.version}</span>;
}

/** Run statuses are open-ended on the wire; known ones get a colour, others stay neutral. */
function runTone(status: string): 'ok' | 'failed' | 'active' | 'waiting' | 'neutral' {
  switch (status) {
    case 'completed':
    case 'succeeded':
    case 'done':
      return 'ok';
    case 'failed':
    case 'error':
      return 'failed';
    case 'running':
    case 'started':
      return 'active';
    case 'waiting':
    case 'paused':
    case 'awaiting-approval':
    case 'pending':
      return 'waiting';
    default:
      return 'neutral';
  }
}

/** `awaiting_approval` -> "Awaiting approval". */
function humanizeStatus(status: string): string {
  const words = status.replaceAll(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function LastRun({ run }: { run: Flow['lastRun'] }) {
  if (!run) return <span className="muted">Never run</span>;
  return (
    <div className="run">
      <span className="run__status">
        <span className={`run__dot run__dot--${runTone(run.status)}`} aria-hidden="true" />
        {humanizeStatus(run.status)}
      </span>
      <time dateTime={run.startedAt} title={`Started ${formatDateTime(run.startedAt)}`} className="run__time">
        {formatRelative(run.startedAt)}
      </time>
    </div>
  );
}

function EmptyState({ onCreate, onUseTemplate }: { onCreate: () => void; onUseTemplate: (template: BundledTemplate) => void }) {
  return (
    <div className="empty" data-testid="empty-state">
      <div className="empty__art" aria-hidden="true">
        <svg width="48" height="48" viewBox="0 0 48 48" fill="none" stroke="currentColor" strokeWidth="2">
          <rect x="4" y="8" width="14" height="10" rx="3" />
          <rect x="30" y="8" width="14" height="10" rx="3" />
          <rect x="17" y="30" width="14" height="10" rx="3" />
          <path d="M11 18v4a4 4 0 0 0 4 4h4a4 4 0 0 1 4 4M37 18v4a4 4 0 0 1-4 4h-4a4 4 0 0 0-4 4" strokeLinecap="round" />
        </svg>
      </div>
      <h2 className="empty__title">No flows yet — create one or start from a template</h2>
      <p className="empty__text">
        A flow is a workflow, a proactive behavior or a multi-agent plan. It stays a draft until you deploy it.
      </p>
      <button type="button" className="button button--primary" onClick={onCreate}>
        New workflow
      </button>
      <a className="button button--secondary" href="/marketplace" onClick={linkHandler('/marketplace')} data-testid="browse-templates">
        Browse the template gallery
      </a>
      {BUNDLED_TEMPLATES.length ? (
        <div className="templates" data-testid="templates">
          <h3 className="templates__title">Templates</h3>
          <ul className="templates__list">
            {BUNDLED_TEMPLATES.map((t) => (
              <li key={t.id} className="templates__item" data-testid="template" data-template-id={t.id}>
                <div className="templates__text">
                  <span className="templates__name">{t.name}</span>
                  <span className="templates__desc">{t.description}</span>
                </div>
                <button type="button" className="button button--secondary button--small" onClick={() => onUseTemplate(t)} data-testid="use-template">
                  Use template
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

function LoadingTable() {
  return (
    <div className="table-card" data-testid="loading" aria-busy="true" aria-label="Loading flows">
      <table className="table">
        <FlowTableHead />
        <tbody>
          {[0, 1, 2].map((i) => (
            <tr key={i}>
              {[48, 18, 16, 8, 20, 14, 30].map((w, j) => (
                <td key={j} className={j === 3 ? 'table__num' : undefined}>
                  <span className="skeleton" style={{ width: `${w * 4}px` }} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
