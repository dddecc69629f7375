import type { NodeCategory } from '@switchyard/schema';
import { Handle, Position, useStore, type Node, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { specOf } from './graph';
import { plainMessage } from './param-fields';
import { forEachProgressOf, runBadgeOf, useOverlay } from './overlay';
import { AgentNodeStatus, useAgentActivity } from '../monitor/agent-activity';
import { planStepSummary } from '../plans/step-card';

export interface FlowNodeData extends Record<string, unknown> {
  type: string;
  typeVersion: number;
  label?: string;
  params: Record<string, unknown>;
}
export type FlowCanvasNode = Node<FlowNodeData, 'flow'>;

const CATEGORY_ICON: Record<NodeCategory, string> = {
  trigger: '⚡',
  condition: '◇',
  action: '▶',
  agent: '✦',
  flow: '◷',
};

export function CategoryIcon({ category }: { category: NodeCategory }) {
  return (
    <span className={`cat-icon cat-icon--${category}`} aria-hidden="true">
      {CATEGORY_ICON[category]}
    </span>
  );
}

/** A one-line hint of what the node is set to do, so the canvas reads without opening each node. */
function summaryOf(type: string, params: Record<string, unknown>, branch = false): string {
  const s = (k: string) => (typeof params[k] === 'string' && params[k] !== '' ? (params[k] as string) : null);
  switch (type) {
    case 'trigger.emailReceived': {
      const parts = [params.isImportant ? 'important' : null, params.isUnread ? 'unread' : null].filter(Boolean);
      return parts.length ? `Only ${parts.join(', ')} emails` : 'Any email';
    }
    case 'trigger.schedule':
      return s('cron') ? `${s('cron')} (${s('timezone') ?? 'UTC'})` : 'No schedule yet';
    case 'trigger.condition': {
      const every = typeof params.everyMinutes === 'number' ? params.everyMinutes : 15;
      return `Every ${every === 1 ? 'minute' : `${every} min`}${s('condition') ? `: ${s('condition')}` : ''}`;
    }
    case 'condition.if':
    case 'condition.expression':
      return s('expression') ?? 'No expression yet';
    case 'condition.businessHours':
      return `${s('start') ?? '09:00'}–${s('end') ?? '17:00'} ${s('timezone') ?? 'America/New_York'}`;
    case 'action.createTask':
      return s('title') ? `${s('title')} · due ${s('dueIn') ?? '1 day'}` : 'No title yet';
    case 'action.sendNotification':
    case 'flow.approval':
      return s('title') ?? (type === 'flow.approval' ? 'Approval needed' : 'No title yet');
    case 'action.draftReply':
      return `${s('tone') ?? 'professional'} tone`;
    case 'action.sendEmail':
      return s('subject') ?? 'No subject yet';
    case 'agent.runSkill':
      return s('skill') ? `Skill: ${s('skill')}` : 'No skill yet';
    case 'flow.delay':
      return `Wait ${s('duration') ?? '1 hour'}`;
    case 'flow.forEach':
      // With a branch drawn from "For each item", that branch runs per item and `action` is unused.
      return `${branch ? 'The branch' : (s('action') ?? 'action.sendNotification').replace(/^(action|agent)\./, '')} for each of ${s('items') ?? '…'}${params.mode === 'sequential' ? ', in order' : ''}`;
    case 'flow.waitForEvent':
      return `${s('event') ?? 'email.received'} where ${s('field') ?? 'threadId'} = ${s('key') ?? '{{ trigger.threadId }}'}${s('timeout') ? ` · up to ${s('timeout')}` : ''}`;
    default:
      return '';
  }
}

/** A plan step's line: its result name and its agent's name (from the agents' live feed, so a rename shows at once). */
function PlanStepSummary({ params }: { params: Record<string, unknown> }) {
  const agent = useAgentActivity(typeof params.agent === 'string' ? params.agent : '');
  const summary = planStepSummary(params, agent?.name ?? null);
  return (
    <div className="fnode__detail fnode__summary" title={summary} data-testid="plan-step-summary">
      {summary}
    </div>
  );
}

const HANDLE_TOP = 24;


function FlowNodeViewImpl({ id, data, selected }: NodeProps<FlowCanvasNode>) {
  const spec = specOf(data.type);
  const { diagnostics, run } = useOverlay();
  const problems = diagnostics.get(id) ?? [];
  const errors = problems.filter((d) => d.severity === 'error');
  const runState = run?.[id]?.state;
  const badge = runBadgeOf(run?.[id]);
  // A for-each shows how far its items got (its branch runs once per item).
  const progress = data.type === 'flow.forEach' ? forEachProgressOf(run?.[id]) : null;
  const category: NodeCategory = spec?.category ?? 'action';
  const outputs = spec?.outputs ?? [];
  const inputs = spec?.inputs ?? [];
  const branch = useStore((st) => data.type === 'flow.forEach' && st.edges.some((e) => e.source === id && e.sourceHandle === 'each'));
  const summary = summaryOf(data.type, data.params, branch);
  const classes = [
    'fnode',
    `fnode--${category}`,
    selected ? 'fnode--selected' : '',
    errors.length ? 'fnode--invalid' : '',
    badge ? `fnode--run-${badge.kind}` : '',
  ].filter(Boolean);

  return (
    <div className={classes.join(' ')} data-testid="canvas-node" data-node-id={id} data-node-type={data.type} data-run-state={runState ?? ''} data-run-badge={badge?.kind ?? ''}>
      {inputs.map((port, i) => (
        <Handle
          key={port.id}
          type="target"
          position={Position.Left}
          id={port.id}
          className="fnode__handle"
          // Pinned beside the title, so handles stay put when a problem line makes the node taller.
          style={{ top: HANDLE_TOP + i * 20 }}
          data-testid={`handle-in-${port.id}`}
          title={`${port.label} (${port.dataType})`}
        />
      ))}
      <div className="fnode__header">
        <CategoryIcon category={category} />
        <div className="fnode__titles">
          <span className="fnode__label">{data.label || spec?.label || data.type}</span>
          {/* The kind is worth a second line only when a custom name hides it. */}
          {data.label || !spec ? <span className="fnode__kind">{spec ? spec.label : `Unknown node type ${data.type}`}</span> : null}
        </div>
        {errors.length ? (
          <span className="fnode__badge" title={errors.map((e) => e.message).join('\n')} data-testid="node-error-badge">
            {errors.length}
          </span>
        ) : null}
      </div>
      {outputs.length > 1 ? (
        <div className="fnode__outputs">
          {outputs.map((port) => (
            <div key={port.id} className="fnode__output">
              <span className={`fnode__port-label fnode__port-label--${port.id}`}>{port.label}</span>
              <Handle type="source" position={Position.Right} id={port.id} className={`fnode__handle fnode__handle--${port.id}`} data-testid={`handle-out-${port.id}`} title={port.label} />
            </div>
          ))}
        </div>
      ) : (
        outputs.map((port) => (
          <Handle key={port.id} type="source" position={Position.Right} id={port.id} className="fnode__handle" style={{ top: HANDLE_TOP }} data-testid={`handle-out-${port.id}`} title={`${port.label} (${port.dataType})`} />
        ))
      )}
      {/* One slot of fixed height for the summary, a problem or where a run stopped, so the card never
          grows into its neighbours when a problem appears; the full text is in the title and the inspector. */}
      {errors[0] ? (
        <div className="fnode__detail fnode__problem" title={errors.map((e) => plainMessage(e.message)).join('\n')} data-testid="node-problem">
          {plainMessage(errors[0].message)}
        </div>
      ) : badge?.kind === 'stopped' ? (
        <div className="fnode__detail fnode__stopped" title={badge.reason} data-testid="node-stop-reason">
          {badge.reason}
        </div>
      ) : data.type === 'plan.step' ? (
        <PlanStepSummary params={data.params} />
      ) : (
        <div className="fnode__detail fnode__summary" title={summary || undefined}>
          {summary}
        </div>
      )}
      {/* An agent step: its agent's live status (the current request in the tooltip). */}
      {data.type === 'agent.runSkill' && typeof data.params.agentId === 'string' && data.params.agentId ? <AgentNodeStatus agentId={data.params.agentId} /> : null}
      {badge ? (
        <div className={`fnode__run fnode__run--${badge.kind}`} data-testid="node-run-badge" data-progress={progress ?? undefined}>
          {progress ? `${badge.label} · ${progress}` : badge.label}
        </div>
      ) : null}
    </div>
  );
}

export const FlowNodeView = memo(FlowNodeViewImpl);
export const nodeTypes = { flow: FlowNodeView };
