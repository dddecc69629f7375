import type { Diagnostic } from '@switchyard/schema';
import { RecordLinks } from '../crm/RecordLinks';
import { useId } from 'react';
import { ProposalCard, type Decision } from '../agents/ProposalCard';
import type { ApiClient } from '../trpc';
import type { NodePatch, RunViewData } from './Editor';
import { CategoryIcon, type FlowCanvasNode } from './FlowNodeView';
import { specOf } from './graph';
import { runBadgeOf, type NodeRunView } from './overlay';
import { fieldsOf, issuesByPath, plainMessage } from './param-fields';
import { ParamForm } from './ParamForm';
import { RunSkillInspector } from './RunSkillInspector';
import { PlanStepInspector } from '../plans/PlanStepInspector';

export type AgentApproval = RunViewData['agentApprovals'][number];

const RUN_STATUS_TEXT: Record<string, string> = {
  running: 'Running',
  waiting: 'Waiting for someone',
  completed: 'Completed',
  failed: 'Failed',
  skipped: 'Skipped: nothing needed doing',
  cancelled: 'Cancelled',
};

const FOR_EACH_ACTION_FIELDS = new Set(['action', 'with']);

/** The right-hand panel: the selected node's form, the live run, and the problems list. */
export function Inspector({
  client,
  inputOf,
  selected,
  diagnostics,
  diagnosticsByNode,
  compiling,
  onUpdate,
  onFieldBlur,
  onFocusNode,
  run,
  running,
  onApprove,
  onReject,
  onDecideAgent,
  onCloseRun,
  kind = 'workflow',
  audience = null,
  onAudience,
  branchOf = () => false,
}: {
  /** Whether edges leave the node's "For each item" output: its one-action settings are unused then. */
  branchOf?: (nodeId: string) => boolean;
  /** The document's kind: the problems list says what a clean one can do (deploy, or run a plan). */
  kind?: 'workflow' | 'behavior' | 'plan';
  /** A behavior's audience (null: not a behavior): who it runs for. */
  audience?: 'owner' | 'everyone' | null;
  onAudience?: (audience: 'owner' | 'everyone') => void;
  client: ApiClient;
  selected: FlowCanvasNode[];
  diagnostics: Diagnostic[];
  diagnosticsByNode: ReadonlyMap<string, Diagnostic[]>;
  compiling: boolean;
  /** An edit of `field` (a path such as `label` or `params.title`) of node `id`. */
  onUpdate: (id: string, patch: NodePatch, field: string) => void;
  /** A field lost focus: the editor ends that field's undo step here. */
  onFieldBlur: () => void;
  onFocusNode: (id: string) => void;
  run: RunViewData | null;
  running: boolean;
  onApprove: (nodeId: string) => void;
  onReject: (nodeId: string) => void;
  /** A person's decision on an agent's proposal in the run; throws when it did not go through. */
  onDecideAgent: (approval: AgentApproval, decision: Decision) => Promise<void>;
  onCloseRun: () => void;
  /** What reached a node in the watched run: the trigger's event, or the outputs of the nodes before it. */
  inputOf: (nodeId: string) => unknown;
}) {
  const node = selected.length === 1 ? selected[0] : undefined;
  return (
    // React's onBlur bubbles: one handler hears every field of the form, whatever its kind.
    <aside className="inspector" aria-label="Inspector" data-testid="inspector" onBlur={onFieldBlur}>
      {run || running ? <RunPanel run={run} onApprove={onApprove} onReject={onReject} onDecideAgent={onDecideAgent} onClose={onCloseRun} /> : null}
      {node ? (
        <NodeInspector
          key={node.id}
          client={client}
          node={node}
          problems={diagnosticsByNode.get(node.id) ?? []}
          onUpdate={onUpdate}
          runNode={(run?.nodes as Record<string, NodeRunView> | undefined)?.[node.id]}
          runInput={run ? inputOf(node.id) : undefined}
          branch={branchOf(node.id)}
        />
      ) : selected.length > 1 ? (
        <div className="inspector__section">
          <p className="inspector__hint" data-testid="multi-selection">
            {selected.length} nodes selected. Press Delete to remove them, Ctrl+C to copy.
          </p>
        </div>
      ) : (
        <div className="inspector__section">
          <p className="inspector__hint">Select a node to edit its settings. Shift-click or Shift-drag to select several.</p>
        </div>
      )}
      {!node && selected.length <= 1 && audience !== null && onAudience ? (
        <div className="inspector__section">
          <div className="field">
            <label className="field__label" htmlFor="behavior-audience">Runs for</label>
            <select
              id="behavior-audience"
              className="input input--compact"
              data-testid="behavior-audience"
              value={audience}
              onChange={(e) => onAudience(e.target.value === 'everyone' ? 'everyone' : 'owner')}
            >
              <option value="owner">Only me</option>
              <option value="everyone">Everyone on this instance</option>
            </select>
            <p className="field__hint">
              {audience === 'everyone'
                ? 'Each user gets their own machine over their own data. Only the instance owner can deploy it, and it cannot send email, call webhooks or ask agents.'
                : 'Runs over your own data when its triggers fire.'}
            </p>
          </div>
        </div>
      ) : null}
      <Problems diagnostics={diagnostics} compiling={compiling} onFocusNode={onFocusNode} kind={kind} />
    </aside>
  );
}

function NodeInspector({
  client,
  node,
  problems,
  onUpdate,
  runNode,
  runInput,
  branch,
}: {
  client: ApiClient;
  node: FlowCanvasNode;
  /** Edges leave its "For each item" output (only a for-each has one): it runs a branch per item. */
  branch: boolean;
  problems: Diagnostic[];
  onUpdate: (id: string, patch: NodePatch, field: string) => void;
  runNode: NodeRunView | undefined;
  runInput: unknown;
}) {
  const labelId = useId();
  const spec = specOf(node.data.type);
  if (!spec) {
    return (
      <div className="inspector__section">
        <p className="inspector__hint">“{node.data.type}” is not a node kind this studio knows. Delete it or import a newer version.</p>
      </div>
    );
  }
  // A for-each that runs a branch per item does not use its one-action settings: they are not shown.
  const fields = fieldsOf(spec.params).filter((f) => !(branch && FOR_EACH_ACTION_FIELDS.has(f.key)));
  const issues = issuesByPath(spec.params, node.data.params);
  // Problems the form cannot place on a field (connections, expressions) still show here.
  const other = problems.filter((d) => d.code !== 'invalid-params' && !issues.has(d.path.slice(3).join('.')));
  return (
    <div className="inspector__section" data-testid="node-inspector" data-node-id={node.id}>
      <div className="inspector__head">
        <CategoryIcon category={spec.category} />
        <div>
          <h2 className="inspector__title">{spec.label}</h2>
          <p className="inspector__desc">{spec.description}</p>
        </div>
      </div>
      <div className="field">
        <label className="field__label" htmlFor={labelId}>
          Name on canvas
        </label>
        <input
          id={labelId}
          className="input input--compact"
          value={node.data.label ?? ''}
          placeholder={spec.label}
          data-testid="field-label"
          onChange={(e) => onUpdate(node.id, { label: e.target.value || undefined }, 'label')}
        />
        {node.data.type === 'plan.step' ? (
          // A plan's steps read each other by result name (the Name below), not by node id.
          <p className="field__hint" data-testid="step-result-hint">
            Later steps read its result as <code>{`steps.${typeof node.data.params.name === 'string' ? node.data.params.name : node.id}.output`}</code>.
          </p>
        ) : (
          <p className="field__hint">
            Id <code>{node.id}</code> — use it in expressions as <code>{`nodes.${node.id}`}</code>.
          </p>
        )}
      </div>
      {other.length ? (
        <ul className="inspector__problems">
          {other.map((d, i) => (
            <li key={i} className="field__error">
              {plainMessage(d.message)}
            </li>
          ))}
        </ul>
      ) : null}
      {runNode ? <NodeRunDetails runNode={runNode} input={runInput} /> : null}
      {node.data.type === 'agent.runSkill' ? (
        <RunSkillInspector client={client} spec={spec} params={node.data.params} onChange={(params, field) => onUpdate(node.id, { params }, field)} />
      ) : node.data.type === 'plan.step' ? (
        <PlanStepInspector client={client} spec={spec} params={node.data.params} onChange={(params, field) => onUpdate(node.id, { params }, field)} />
      ) : fields.length ? (
        <>
          {branch ? (
            <p className="inspector__hint" data-testid="foreach-branch-hint">
              Runs the branch drawn from <strong>For each item</strong> once per item; <strong>Results</strong> fires when every item ended.
            </p>
          ) : null}
          <ParamForm fields={fields} params={node.data.params} issues={issues} onChange={(params, field) => onUpdate(node.id, { params }, field)} />
        </>
      ) : (
        <p className="inspector__hint">This node has no settings.</p>
      )}
    </div>
  );
}

function NodeRunDetails({ runNode, input }: { runNode: NodeRunView; input: unknown }) {
  return (
    <div className="run-details" data-testid="node-run-details">
      <h3 className="inspector__subtitle">In this run: {runBadgeOf(runNode)?.label ?? runNode.state}</h3>
      {runNode.reason ? <p className="inspector__hint">{String(runNode.reason)}</p> : null}
      {runNode.item ? (
        <p className="inspector__hint" data-testid="node-run-item">
          Item {runNode.item.index + 1} of <code>{runNode.item.forEach}</code>, the latest to run this branch; every item&apos;s outputs are in the for-each&apos;s results.
        </p>
      ) : null}
      {input !== undefined && input !== null ? (
        <details className="run-details__input">
          <summary className="field__label">Input</summary>
          <pre className="code" data-testid="node-run-input">
            {JSON.stringify(input, null, 2)}
          </pre>
        </details>
      ) : null}
      {runNode.error ? (
        <pre className="code code--error" data-testid="node-run-error">
          {typeof runNode.error === 'string' ? runNode.error : JSON.stringify(runNode.error, null, 2)}
        </pre>
      ) : null}
      {runNode.output !== null && runNode.output !== undefined ? (
        <>
          <p className="field__label">Output</p>
          <pre className="code" data-testid="node-run-output">
            {JSON.stringify(runNode.output, null, 2)}
          </pre>
          <RecordLinks output={runNode.output} />
        </>
      ) : null}
    </div>
  );
}

function RunPanel({
  run,
  onApprove,
  onReject,
  onDecideAgent,
  onClose,
}: {
  run: RunViewData | null;
  onApprove: (id: string) => void;
  onReject: (id: string) => void;
  onDecideAgent: (approval: AgentApproval, decision: Decision) => Promise<void>;
  onClose: () => void;
}) {
  if (!run) {
    return (
      <div className="inspector__section run-panel" data-testid="run-panel">
        <p className="inspector__hint">Starting the run…</p>
      </div>
    );
  }
  const finished = ['completed', 'failed', 'skipped', 'cancelled'].includes(run.status);
  return (
    <div className={`inspector__section run-panel run-panel--${run.status}`} data-testid="run-panel" data-run-status={run.status}>
      <div className="run-panel__head">
        <span className={`run__dot run__dot--${run.status === 'completed' ? 'ok' : run.status === 'failed' ? 'failed' : run.status === 'waiting' ? 'waiting' : run.status === 'running' ? 'active' : 'neutral'}`} />
        <strong data-testid="run-status">
          {run.behavior
            ? run.behavior.idle
              ? 'Idle: waiting for its next trigger'
              : `Activation ${run.behavior.activation}: ${(RUN_STATUS_TEXT[run.status] ?? run.status).toLowerCase()}`
            : (RUN_STATUS_TEXT[run.status] ?? run.status)}
        </strong>
        {finished ? (
          <button type="button" className="button button--ghost button--small run-panel__close" onClick={onClose}>
            Clear
          </button>
        ) : null}
      </div>
      {run.behavior?.lastActivation ? (
        <p className="inspector__hint" data-testid="behavior-activation">
          Activation {run.behavior.lastActivation.n} {run.behavior.lastActivation.status}
          {run.behavior.lastActivation.reason ? `: ${run.behavior.lastActivation.reason}` : ''}. The canvas shows
          {run.behavior.idle ? ' that activation' : ` activation ${run.behavior.activation}, under way`}.
        </p>
      ) : null}
      {run.reason ? <p className="inspector__hint">{String(run.reason)}</p> : null}
      {run.error ? <p className="field__error">{typeof run.error === 'string' ? run.error : JSON.stringify(run.error)}</p> : null}
      {run.waitingApprovals.map((a) => {
        const request = (a.request ?? {}) as { title?: string; details?: string };
        return (
          <div key={a.nodeId} className="approval" data-testid="approval">
            <p className="approval__title">{request.title ?? 'Approval needed'}</p>
            {request.details ? <p className="inspector__hint">{request.details}</p> : null}
            <div className="approval__actions">
              <button type="button" className="button button--primary button--small" onClick={() => onApprove(a.nodeId)} data-testid="approve">
                Approve
              </button>
              <button type="button" className="button button--secondary button--small" onClick={() => onReject(a.nodeId)} data-testid="reject">
                Reject
              </button>
            </div>
          </div>
        );
      })}
      {run.agentApprovals.map((a) => (
        <div key={a.id} className="run-panel__proposal" data-testid="agent-approval" data-node-id={a.nodeId ?? ''}>
          <ProposalCard
            compact
            proposal={a}
            decide={(decision) => onDecideAgent(a, decision)}
            context={
              <span className="muted">
                Proposed by <strong>{a.agentName}</strong>
                {a.nodeId ? (
                  <>
                    {' '}
                    in step <code>{a.nodeId}</code>
                  </>
                ) : null}
              </span>
            }
          />
        </div>
      ))}
      <p className="inspector__hint">Select a node to see its output in this run.</p>
    </div>
  );
}

function Problems({ diagnostics, compiling, onFocusNode, kind }: { diagnostics: Diagnostic[]; compiling: boolean; onFocusNode: (id: string) => void; kind: 'workflow' | 'behavior' | 'plan' }) {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return (
    <div className="inspector__section problems" data-testid="problems">
      <h3 className="inspector__subtitle">
        Problems{' '}
        <span className={`count${errors ? ' count--error' : ''}`} data-testid="problem-count">
          {diagnostics.length}
        </span>
        {compiling ? <span className="muted problems__checking"> checking…</span> : null}
      </h3>
      {diagnostics.length === 0 ? (
        <p className="inspector__hint problems__ok">
          {kind === 'plan' ? 'No problems: this plan can be run.' : kind === 'behavior' ? 'No problems: this behavior can be deployed.' : 'No problems: this flow can be deployed.'}
        </p>
      ) : (
        <ul className="problems__list">
          {diagnostics.map((d, i) => (
            <li key={`${d.code}-${d.nodeId ?? ''}-${d.edgeId ?? ''}-${i}`}>
              <button
                type="button"
                className={`problem problem--${d.severity}`}
                data-testid="problem"
                data-node-id={d.nodeId ?? ''}
                data-code={d.code}
                disabled={!d.nodeId}
                onClick={() => d.nodeId && onFocusNode(d.nodeId)}
              >
                <span className="problem__icon" aria-hidden="true">
                  {d.severity === 'error' ? '!' : '?'}
                </span>
                <span className="problem__text">
                  {d.nodeId ? <span className="problem__node">{d.nodeId}</span> : null}
                  {plainMessage(d.message)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
