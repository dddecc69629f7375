import { Panel, ViewportPortal } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { listAllAgents } from '../agents/paged';
import type { FlowCanvasNode } from '../editor/FlowNodeView';
import type { NodeRunView } from '../editor/overlay';
import { hrefOf, linkHandler } from '../router';
import type { ApiClient, QueryOutput } from '../trpc';
import { useRemote } from '../useRemote';
import { laneBands, overlappingLanes, planLaneLayout, planRunOverlay, positionInLane, type LaneEdge, type LaneNode } from './canvas-lanes';
import { outputGist, overlapsFromJournal } from './plan-model';
import './plans.css';

type PlanRun = QueryOutput<ApiClient['plans']['get']>;

const laneNode = (n: FlowCanvasNode): LaneNode => ({
  id: n.id, position: n.position, params: n.data.params,
  ...(n.measured?.width ? { width: n.measured.width } : {}), ...(n.measured?.height ? { height: n.measured.height } : {}),
});

/** The canvas nodes with the lane layout applied (Auto-layout on a plan). */
export function laidOutInLanes(nodes: FlowCanvasNode[], edges: readonly LaneEdge[]): FlowCanvasNode[] {
  const at = planLaneLayout(nodes.map(laneNode), edges);
  return nodes.map((n) => ({ ...n, position: at.get(n.id) ?? n.position }));
}

/** The canvas nodes after step `id` changed agent: it moves into that agent's lane. */
export function intoLane(nodes: FlowCanvasNode[], id: string): FlowCanvasNode[] {
  const at = positionInLane(nodes.map(laneNode), id);
  return at ? nodes.map((n) => (n.id === id ? { ...n, position: at } : n)) : nodes;
}

/**
 * The lanes of a plan on the canvas: a band per agent behind its steps, labelled with the
 * agent's name (steps side by side in different lanes run at the same time). Drawn in the
 * viewport, under the edges and nodes, and never in the way of a click. Lanes that overlap (a
 * step dragged across, or a plan placed on one row) are named in a hint that points at Auto-layout.
 */
export function PlanLanes({ client, nodes }: { client: ApiClient; nodes: FlowCanvasNode[] }) {
  const loadAgents = useCallback(() => listAllAgents(client), [client]);
  const agents = useRemote(loadAgents);
  const bands = useMemo(() => laneBands(nodes.map(laneNode)), [nodes]);
  const overlapping = useMemo(() => overlappingLanes(bands), [bands]);
  const nameOf = (id: string) => (id === 'any' ? 'Any capable agent' : agents.data?.items.find((a) => a.id === id)?.name ?? (agents.data ? 'Unknown agent' : '…'));
  const names = overlapping.map((id) => (id === 'any' ? 'any capable agent' : nameOf(id)));
  return (
    <>
      {names.length ? (
        <Panel position="bottom-center">
          <p className="plan-lanes-hint" role="status" data-testid="plan-lanes-overlap">
            The lanes of {names.slice(0, -1).join(', ')} and {names[names.length - 1]} overlap. <b>Auto-layout</b> gives each agent its own lane.
          </p>
        </Panel>
      ) : null}
      <ViewportPortal>
        {bands.map((b, i) => (
          <div
            key={b.agent}
            className={`plan-lane-band plan-lane-band--${i % 2 ? 'odd' : 'even'}`}
            style={{ transform: `translate(${b.x}px, ${b.y}px)`, width: b.width, height: b.height }}
            data-testid="canvas-lane"
            data-agent-id={b.agent}
          >
            <span className="plan-lane-band__label">{nameOf(b.agent)}</span>
            <span className="plan-lane-band__count">{b.steps} step{b.steps === 1 ? '' : 's'}</span>
          </div>
        ))}
      </ViewportPortal>
    </>
  );
}

/**
 * A plan run followed on the canvas: `plans.watch` pushes the run after every step transition
 * (polled instead should the stream fail), and its steps become the canvas's live overlay.
 */
export function usePlanRun(client: ApiClient) {
  const [runId, setRunId] = useState<string | null>(null);
  const [run, setRun] = useState<PlanRun | null>(null);
  useEffect(() => {
    if (!runId) return;
    let poll: ReturnType<typeof setInterval> | undefined;
    const load = () => client.plans.get.query({ id: runId }).then(setRun, () => undefined);
    const sub = client.plans.watch.subscribe({ id: runId }, {
      onData: (r) => setRun(r),
      onError: () => {
        poll ??= setInterval(() => void load(), 1000);
      },
    });
    return () => {
      sub.unsubscribe();
      if (poll) clearInterval(poll);
    };
  }, [client, runId]);
  const nodes = useMemo<Record<string, NodeRunView> | null>(() => (run && run.id === runId ? planRunOverlay(run.steps) : null), [run, runId]);
  const follow = useCallback((id: string) => {
    setRun(null);
    setRunId(id);
  }, []);
  const close = useCallback(() => {
    setRunId(null);
    setRun(null);
  }, []);
  return { run: run && run.id === runId ? run : null, nodes, follow, close };
}

const STATUS: Record<string, string> = { pending: 'waiting', running: 'running', done: 'done', failed: 'failed', skipped: 'skipped', cancelled: 'cancelled' };

/**
 * The run of the plan on the canvas, beside its live overlay: which steps run now (several at
 * once when they can), which ran at the same time (from the run's journal), each step's result
 * and the outcome's summary; the full run page is one click away.
 */
export function PlanRunPanel({ run, onClose }: { run: PlanRun; onClose: () => void }) {
  const running = run.steps.filter((s) => s.status === 'running').map((s) => s.name);
  const overlaps = overlapsFromJournal(run.journal);
  const href = hrefOf({ page: 'plans', runId: run.id });
  return (
    <Panel position="top-right">
      <section className="plan-run-panel" aria-label="Plan run" data-testid="plan-run-panel" data-status={run.status}>
        <header className="plan-run-panel__head">
          <strong>Plan run</strong>
          <span className={`plan-status plan-status--${run.status}`} data-testid="plan-run-panel-status">{run.status}</span>
          <button type="button" className="toast__close" aria-label="Close the run" onClick={onClose}>×</button>
        </header>
        {running.length ? (
          <p className="plan-run-panel__line" data-testid="plan-run-running">Running now: <b>{running.join(', ')}</b>{running.length > 1 ? ' (at the same time)' : ''}</p>
        ) : null}
        <ul className="plan-run-panel__steps">
          {run.steps.map((s) => (
            <li key={s.name} data-testid="plan-run-panel-step" data-step={s.name} data-status={s.status}>
              <code>{s.name}</code> <span className={`plan-status plan-status--${s.status}`}>{STATUS[s.status] ?? s.status}</span>
              {s.agentName ? <span className="muted"> · {s.agentName}</span> : null}
              {s.status === 'done' && s.output ? <div className="plan-run-panel__gist" title={outputGist(s.output)}>{outputGist(s.output)}</div> : null}
              {s.error && s.status !== 'done' ? <div className="plan-step__error">{s.error}</div> : null}
            </li>
          ))}
        </ul>
        {overlaps.length ? (
          <p className="plan-run-panel__line" data-testid="plan-run-overlaps">Ran at the same time: {overlaps.map(([a, b]) => `${a} + ${b}`).join(', ')}</p>
        ) : null}
        {run.outcome ? (
          <p className="plan-run-panel__summary" data-testid="plan-run-summary">{run.outcome.summary}</p>
        ) : null}
        <a className="button button--ghost button--small" href={href} onClick={linkHandler(href)} data-testid="plan-run-open-page">Open the run page (timeline, outputs)</a>
      </section>
    </Panel>
  );
}
