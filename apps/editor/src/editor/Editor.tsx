import { compile } from '@switchyard/actors';
import { JsonFileButton } from '../components/JsonFileButton';
import { hasErrors, type Diagnostic, type FlowDocument } from '@switchyard/schema';
import { readFlowFile } from './flow-file';
import { useMachine } from '@xstate/react';
import {
  Background,
  Controls,
  MiniMap,
  Panel,
  ReactFlow,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { fromPromise } from 'xstate';
import { LeaveGuard } from '../components/LeaveGuard';
import { useConfirm } from '../components/ConfirmDialog';
import { hrefOf, linkHandler, navigate } from '../router';
import { describeError, errorCode, type ApiClient, type QueryOutput } from '../trpc';
import { nodeTypes, type FlowCanvasNode } from './FlowNodeView';
import { cloneSubgraph, connectionProblem, docIdFromName, freeSpot, newEdgeId, newNodeId, primaryTrigger, specOf, toDocument, type Graph } from './graph';
import type { Decision } from '../agents/ProposalCard';
import { decisionSummary } from '../agents/proposals';
import { Inspector, type AgentApproval } from './Inspector';
import { mergeDiagnostics, useAgentDiagnostics } from './agent-diagnostics';
import { layeredLayout } from './layout';
import { OverlayContext, type NodeRunView, type Overlay } from './overlay';
import { DND_TYPE, Palette } from './Palette';
import { CompilePreview, HistoryPanel, RunDialog } from './panels';
import { createHistory, endGroup, record, redo as redoStep, undo as undoStep, type History } from './history';
import { editorSessionMachine, type RunRequest } from './session.machine';
import { PlanCanvasActions } from '../plans/PlanCanvasActions';
import { intoLane, laidOutInLanes, PlanLanes, PlanRunPanel, usePlanRun } from '../plans/PlanCanvas';

export type LoadedFlow = QueryOutput<ApiClient['flows']['get']>;
export type RunViewData = QueryOutput<ApiClient['runs']['get']>;

const FINAL_RUN = new Set(['completed', 'failed', 'skipped', 'cancelled']);

export const toCanvasNodes = (graph: Graph): FlowCanvasNode[] =>
  graph.nodes.map((n) => ({
    id: n.id,
    type: 'flow',
    position: { ...n.position },
    data: { type: n.type, typeVersion: n.typeVersion, ...(n.label !== undefined ? { label: n.label } : {}), params: n.params },
  }));

export const toCanvasEdges = (graph: Graph): Edge[] =>
  graph.edges.map((e) => ({ id: e.id, source: e.source, sourceHandle: e.sourceHandle, target: e.target, targetHandle: e.targetHandle }));

/** The document-shaped graph of the canvas: what undo, the clipboard and saves work with. */
export function graphOf(nodes: FlowCanvasNode[], edges: Edge[]): Graph {
  return {
    nodes: nodes.map((n) => ({
      id: n.id,
      type: n.data.type,
      typeVersion: n.data.typeVersion,
      ...(n.data.label !== undefined ? { label: n.data.label } : {}),
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
      params: n.data.params,
    })),
    edges: edges.map((e) => ({ id: e.id, source: e.source, sourceHandle: e.sourceHandle ?? 'out', target: e.target, targetHandle: e.targetHandle ?? 'in' })),
  };
}

export type NodePatch = { params?: Record<string, unknown>; label?: string | undefined };

/** The canvas nodes with one node's label or params replaced (an empty label goes back to the kind's name). */
function patchNode(nodes: FlowCanvasNode[], id: string, patch: NodePatch): FlowCanvasNode[] {
  return nodes.map((n) => {
    if (n.id !== id) return n;
    const data = { ...n.data };
    if (patch.params) data.params = patch.params;
    if ('label' in patch) {
      if (patch.label === undefined || patch.label === '') delete data.label;
      else data.label = patch.label;
    }
    return { ...n, data };
  });
}

const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

type Drawer = 'none' | 'compile' | 'history';

/** Screen pixels at the bottom of the canvas that the minimap and zoom controls cover. */
const MINIMAP_BAND = 176;

/** How long a confirmation ("Deployed version 3") stays on screen. */
const OK_TOAST_MS = 6000;

/** A node card's size before it is measured (the card is 240px wide with a fixed-height body). */
const NODE_SIZE = { width: 240, height: 110 };

const MINIMAP_COLORS: Record<string, string> = { trigger: '#d97706', condition: '#7c3aed', action: '#3b5bdb', agent: '#0d9488', flow: '#64748b' };
const minimapColor = (n: FlowCanvasNode) => MINIMAP_COLORS[specOf(n.data.type)?.category ?? ''] ?? '#cfd4dc';

/**
 * The canvas editor of one flow. With `followRunId` (the `/flows/:docId/runs/:runId` route, opened from the
 * Monitor) it follows that run as it follows one started here: its node badges, edges and run panel.
 */
export function Editor({ client, initial, followRunId = null }: { client: ApiClient; initial: LoadedFlow; followRunId?: string | null }) {
  const flow = initial.flow;
  const baseDoc = useRef<FlowDocument>(initial.document);
  const [nodes, setNodes] = useState<FlowCanvasNode[]>(() => toCanvasNodes(initial.document));
  const [edges, setEdges] = useState<Edge[]>(() => toCanvasEdges(initial.document));
  const [status, setStatus] = useState<{ tone: 'info' | 'error' | 'ok'; text: string } | null>(null);
  const [drawer, setDrawer] = useState<Drawer>('none');
  const [runOpen, setRunOpen] = useState(false);
  const [runView, setRunView] = useState<RunViewData | null>(null);
  // A plan run started here: its steps are the canvas's live overlay (plans/PlanCanvas.tsx).
  const planRun = usePlanRun(client);
  const { screenToFlowPosition, fitView, getNodes } = useReactFlow<FlowCanvasNode, Edge>();
  const refusal = useRef<string | null>(null);
  const clipboard = useRef<Graph | null>(null);
  const { dialog: confirmDialog, choose, ask } = useConfirm();
  const [undeploying, setUndeploying] = useState(false);

  const [snapshot, send] = useMachine(
    editorSessionMachine.provide({
      actors: {
        save: fromPromise(async ({ input }) => {
          const result = await client.flows.save.mutate({ document: input.document, expectedVersion: input.expectedVersion });
          return { version: result.version };
        }),
        deploy: fromPromise(async ({ input }) => {
          let expectedVersion = input.expectedVersion;
          if (input.document) {
            expectedVersion = (await client.flows.save.mutate({ document: input.document, expectedVersion })).version;
          }
          const result = await client.flows.deploy.mutate({ docId: flow.docId, version: expectedVersion });
          return { version: expectedVersion, deployedVersion: result.version };
        }),
        startRun: fromPromise(async ({ input }) => {
          let savedVersion: number | null = null;
          if (input.document) {
            savedVersion = (await client.flows.save.mutate({ document: input.document, expectedVersion: input.expectedVersion })).version;
          }
          const { request } = input;
          if (request.asEvent && request.eventType) {
            const result = await client.events.emit.mutate({ type: request.eventType, payload: request.payload } as Parameters<ApiClient['events']['emit']['mutate']>[0]);
            const mine = result.runs.find((r) => r.flowId === flow.id);
            if (!mine) {
              throw new Error(
                "The test event reached the runtime but did not start this flow: it does not match the deployed trigger's filters (for example “only important emails”).",
              );
            }
            return { runId: mine.runId, savedVersion };
          }
          const started = await client.runs.start.mutate({ docId: flow.docId, triggerNodeId: request.triggerNodeId, payload: request.payload, draft: true });
          return { runId: started.runId, savedVersion };
        }),
      },
    }),
    { input: { document: initial.document, version: flow.version, deployedVersion: flow.deployedVersion } },
  );
  const ctx = snapshot.context;
  const dirty = !snapshot.matches({ doc: 'clean' });
  const saving = snapshot.matches({ doc: 'saving' });
  const compiling = snapshot.matches({ check: 'compiling' });
  const deploying = snapshot.matches({ activity: 'deploying' });
  const running = snapshot.matches({ activity: 'running' });
  const canDeploy = snapshot.can({ type: 'DEPLOY' });

  // ----- history (history.ts): one step per canvas edit, one per inspector field visit -----
  const graph = useMemo(() => graphOf(nodes, edges), [nodes, edges]);
  const graphJson = useMemo(() => JSON.stringify(graph), [graph]);
  const dragging = nodes.some((n) => n.dragging);
  const history = useRef<History>(createHistory(graphJson));
  /** The graph the session machine last received, so every change reaches it once. */
  const sentJson = useRef(graphJson);
  const [, setHistoryTick] = useState(0);

  useEffect(() => {
    if (dragging || graphJson === sentJson.current) return;
    sentJson.current = graphJson;
    // Undo, redo and inspector edits have moved the history here already; any other change
    // (add, delete, connect, a finished drag, paste, auto-layout) is a step of its own.
    history.current = record(history.current, graphJson);
    setHistoryTick((t) => t + 1);
    send({ type: 'EDIT', document: toDocument(baseDoc.current, graph) });
  }, [graphJson, graph, dragging, send]);

  // Document settings are not canvas edits (not in the undo history): a behavior's audience.
  const [settingsRev, setSettingsRev] = useState(0);
  const setAudience = useCallback((audience: 'owner' | 'everyone') => {
    const { audience: _previous, ...rest } = baseDoc.current.settings ?? {};
    baseDoc.current = { ...baseDoc.current, settings: audience === 'everyone' ? { ...rest, audience } : rest };
    setSettingsRev((r) => r + 1);
    send({ type: 'EDIT', document: toDocument(baseDoc.current, graph) });
  }, [graph, send]);

  const applyGraph = useCallback((g: Graph, select: ReadonlySet<string> = new Set()) => {
    setNodes(toCanvasNodes(g).map((n) => (select.has(n.id) ? { ...n, selected: true } : n)));
    setEdges(toCanvasEdges(g));
  }, []);

  // Undoing an inspector edit keeps the node selected, so its form shows the restored value.
  const selectedIds = useCallback(() => new Set(getNodes().filter((n) => n.selected).map((n) => n.id)), [getNodes]);

  const travel = useCallback(
    (step: (h: History) => History) => {
      const next = step(history.current);
      if (next === history.current) return;
      history.current = next;
      applyGraph(JSON.parse(next.current) as Graph, selectedIds());
    },
    [applyGraph, selectedIds],
  );
  const undo = useCallback(() => travel(undoStep), [travel]);
  const redo = useCallback(() => travel(redoStep), [travel]);

  /** The inspector field lost focus: its next keystroke starts a new undo step. */
  const endFieldEdit = useCallback(() => {
    history.current = endGroup(history.current);
  }, []);

  /** Replaces the canvas with a document from the server (restore, import): a fresh history. */
  const resetTo = useCallback(
    (doc: FlowDocument, version: number, deployedVersion: number | null) => {
      baseDoc.current = doc;
      const g = { nodes: doc.nodes, edges: doc.edges };
      const json = JSON.stringify(graphOf(toCanvasNodes(g), toCanvasEdges(g)));
      history.current = createHistory(json);
      sentJson.current = json;
      applyGraph(g);
      send({ type: 'RESET', document: doc, version, deployedVersion });
      setHistoryTick((t) => t + 1);
    },
    [applyGraph, send],
  );

  // ----- canvas events -----
  const onNodesChange = useCallback((changes: NodeChange<FlowCanvasNode>[]) => setNodes((ns) => applyNodeChanges(changes, ns)), []);
  const onEdgesChange = useCallback((changes: EdgeChange[]) => setEdges((es) => applyEdgeChanges(changes, es)), []);

  const isValidConnection = useCallback(
    (c: Connection | Edge) => {
      const problem = connectionProblem(graph, c);
      refusal.current = problem;
      return problem === null;
    },
    [graph],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const problem = connectionProblem(graph, c);
      if (problem) return setStatus({ tone: 'error', text: `Not connected: ${problem}` });
      setStatus(null);
      setEdges((es) => [
        ...es,
        { id: newEdgeId(new Set(es.map((e) => e.id))), source: c.source, sourceHandle: c.sourceHandle ?? 'out', target: c.target, targetHandle: c.targetHandle ?? 'in' },
      ]);
    },
    [graph],
  );

  // A refused drop on a handle says why; the check is redone here from the final state because
  // isValidConnection also runs for every handle the pointer passed on the way.
  const onConnectEnd = useCallback(
    (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      refusal.current = null;
      if (state.isValid !== false || !state.toNode || !state.toHandle || !state.fromHandle) return;
      const fromSource = state.fromHandle.type === 'source';
      const problem = connectionProblem(graph, {
        source: fromSource ? state.fromNode.id : state.toNode.id,
        sourceHandle: fromSource ? state.fromHandle.id : state.toHandle.id,
        target: fromSource ? state.toNode.id : state.fromNode.id,
        targetHandle: fromSource ? state.toHandle.id : state.fromHandle.id,
      });
      if (problem) setStatus({ tone: 'error', text: `Not connected: ${problem}` });
    },
    [graph],
  );

  const canvasRef = useRef<HTMLDivElement>(null);

  const addNode = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      const spec = specOf(type);
      if (!spec) return;
      let at = position;
      if (!at) {
        // A click or Enter in the palette: the nearest free spot in view (see below for where it starts looking).
        const box = canvasRef.current?.getBoundingClientRect() ?? new DOMRect(0, 0, window.innerWidth, window.innerHeight);
        const centre = screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
        // The minimap and the zoom controls float over the bottom of the canvas: keep new nodes above them.
        const topLeft = screenToFlowPosition({ x: box.left + 16, y: box.top + 16 });
        const bottomRight = screenToFlowPosition({ x: box.right - 16, y: box.bottom - MINIMAP_BAND });
        const visible = { x: topLeft.x, y: topLeft.y, width: bottomRight.x - topLeft.x, height: bottomRight.y - topLeft.y };
        const current = getNodes();
        const occupied = current.map((n) => ({ x: n.position.x, y: n.position.y, width: n.measured?.width ?? NODE_SIZE.width, height: n.measured?.height ?? NODE_SIZE.height }));
        // Flows read left to right: next to the selected node (the one added last), wrapping to a new
        // row under it when that is off screen; on an empty canvas, from the left of the view.
        const last = current.filter((n) => n.selected).at(-1);
        const firstColumn = visible.x + Math.min(visible.width / 2, 48 + NODE_SIZE.width / 2);
        let around = current.length === 0 ? { x: firstColumn, y: centre.y } : centre;
        if (last) {
          const w = last.measured?.width ?? NODE_SIZE.width;
          const h = last.measured?.height ?? NODE_SIZE.height;
          const right = { x: last.position.x + w + 48 + NODE_SIZE.width / 2, y: last.position.y + h / 2 };
          around = right.x + NODE_SIZE.width / 2 <= visible.x + visible.width ? right : { x: firstColumn, y: last.position.y + h + 48 + NODE_SIZE.height / 2 };
        }
        // Cards of one kind of port layout share a height: the last one's keeps a row's tops aligned.
        at = freeSpot(occupied, around, { width: NODE_SIZE.width, height: last?.measured?.height ?? NODE_SIZE.height }, visible);
      }
      const spot = at;
      setNodes((ns) => {
        const id = newNodeId(type, new Set(ns.map((n) => n.id)));
        const node: FlowCanvasNode = { id, type: 'flow', position: spot, selected: true, data: { type, typeVersion: spec.typeVersion, params: {} } };
        return [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
      });
      setStatus(null);
    },
    [screenToFlowPosition, getNodes],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (!e.dataTransfer.types.includes(DND_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
  }, []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DND_TYPE);
      if (!type) return;
      e.preventDefault();
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      // Centre the node under the pointer rather than hanging it from its corner.
      addNode(type, { x: Math.round(p.x - 120), y: Math.round(p.y - 30) });
    },
    [addNode, screenToFlowPosition],
  );

  const selectOnly = useCallback(
    (id: string) => {
      setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === id })));
      void fitView({ nodes: [{ id }], duration: 250, maxZoom: 1.1 });
    },
    [fitView],
  );

  /**
   * An inspector edit. It is recorded here rather than by the graph effect, which cannot tell which
   * field changed: consecutive edits of one field of one node are grouped into one undo step.
   */
  const updateNode = useCallback(
    (id: string, patch: NodePatch, field: string) => {
      // A plan step given to another agent moves into that agent's lane.
      const lane = (ns: FlowCanvasNode[]) => (baseDoc.current.kind === 'plan' && field === 'agent' ? intoLane(ns, id) : ns);
      history.current = record(history.current, JSON.stringify(graphOf(lane(patchNode(nodes, id, patch)), edges)), `${id}:${field}`);
      setNodes((ns) => lane(patchNode(ns, id, patch)));
    },
    [nodes, edges],
  );

  const copy = useCallback(() => {
    const selected = new Set(nodes.filter((n) => n.selected).map((n) => n.id));
    if (selected.size === 0) return;
    clipboard.current = {
      nodes: graph.nodes.filter((n) => selected.has(n.id)),
      edges: graph.edges.filter((e) => selected.has(e.source) && selected.has(e.target)),
    };
    setStatus({ tone: 'info', text: `Copied ${selected.size} node${selected.size === 1 ? '' : 's'}. Paste with Ctrl+V.` });
  }, [nodes, graph]);

  const paste = useCallback(() => {
    if (!clipboard.current) return;
    const pasted = cloneSubgraph(graph, clipboard.current);
    // Paste again moves further down, so copies never stack exactly on top of each other.
    clipboard.current = { nodes: pasted.nodes, edges: pasted.edges };
    const ids = new Set(pasted.nodes.map((n) => n.id));
    applyGraph({ nodes: [...graph.nodes, ...pasted.nodes], edges: [...graph.edges, ...pasted.edges] }, ids);
  }, [graph, applyGraph]);

  const autoLayout = useCallback(async () => {
    if (baseDoc.current.kind === 'plan') {
      // A plan reads in lanes: a column per dependency level, a lane per agent.
      setNodes((ns) => laidOutInLanes(ns, graph.edges));
      setTimeout(() => void fitView({ duration: 250 }), 50);
      return;
    }
    const sizes = new Map(getNodes().map((n) => [n.id, { width: n.measured?.width ?? 240, height: n.measured?.height ?? 96 }]));
    const positions = await layeredLayout(graph, sizes);
    setNodes((ns) => ns.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position })));
    setTimeout(() => void fitView({ duration: 250 }), 50);
  }, [graph, getNodes, fitView]);

  const save = useCallback(() => send({ type: 'SAVE' }), [send]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (!mod) return;
      const key = e.key.toLowerCase();
      if (key === 's') {
        e.preventDefault();
        save();
        return;
      }
      if (isTyping(e.target)) return;
      if (key === 'a') {
        // Select every node and edge, not the page's text.
        e.preventDefault();
        setNodes((ns) => ns.map((n) => (n.selected ? n : { ...n, selected: true })));
        setEdges((es) => es.map((ed) => (ed.selected ? ed : { ...ed, selected: true })));
        return;
      }
      if (key === 'z' && !e.shiftKey) {
        e.preventDefault();
        undo();
      } else if ((key === 'z' && e.shiftKey) || key === 'y') {
        e.preventDefault();
        redo();
      } else if (key === 'c') {
        copy();
      } else if (key === 'v') {
        e.preventDefault();
        paste();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [save, undo, redo, copy, paste]);

  // Say so when a deploy lands (the badge alone is easy to miss).
  const deployedOnOpen = useRef(flow.deployedVersion);
  useEffect(() => {
    if (ctx.deployedVersion === null || ctx.deployedVersion === deployedOnOpen.current) return;
    deployedOnOpen.current = ctx.deployedVersion;
    setStatus({ tone: 'ok', text: `Deployed version ${ctx.deployedVersion}: the flow now reacts to real events.` });
  }, [ctx.deployedVersion]);

  // A confirmation goes away by itself, so it never stays over the canvas's badges; errors stay until dismissed.
  useEffect(() => {
    if (!status || status.tone !== 'ok') return;
    const timer = setTimeout(() => setStatus((current) => (current === status ? null : current)), OK_TOAST_MS);
    return () => clearTimeout(timer);
  }, [status]);

  // ----- run watching over SSE -----
  // A run opened from the Monitor (the route's run id) is followed like one started here.
  useEffect(() => {
    if (!followRunId) return;
    setStatus(null);
    send({ type: 'FOLLOW', runId: followRunId });
  }, [followRunId, send]);

  const runId = ctx.runId;
  useEffect(() => {
    if (!runId) return;
    setRunView(null);
    const sub = client.runs.watch.subscribe(
      { runId },
      {
        onData: (view) => {
          // Only a run of this flow is painted on its canvas (a link may pair a flow with another flow's run).
          if (view.docId !== flow.docId) {
            sub.unsubscribe();
            setStatus({ tone: 'error', text: `Run ${runId.slice(0, 8)} is a run of another flow${view.docId ? ` (“${view.docId}”)` : ''}, not of this one: open it from the Monitor.` });
            send({ type: 'RUN_ENDED' });
            return;
          }
          setRunView(view as RunViewData);
          if (FINAL_RUN.has(view.status)) send({ type: 'RUN_ENDED' });
        },
        onError: (error) => {
          setStatus({
            tone: 'error',
            text: errorCode(error) === 'NOT_FOUND'
              ? `There is no run ${runId} among yours: the id is wrong, or the run belongs to another user.`
              : describeError(error, 'follow the run'),
          });
          send({ type: 'RUN_ENDED' });
        },
      },
    );
    return () => sub.unsubscribe();
  }, [runId, client, send, flow.docId]);

  const startRun = useCallback(
    (request: RunRequest) => {
      setRunOpen(false);
      // The last run's results must not pass for this one's while it starts, and no old message
      // may sit over the badges this run is about to paint.
      setRunView(null);
      setStatus(null);
      send({ type: 'RUN', request });
    },
    [send],
  );

  // ----- derived views -----
  // The compiler's diagnostics (at once, in the browser) and the runtime's about agent steps
  // (missing agent, skill or tools: see agent-diagnostics.ts) in one list.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- settingsRev marks a settings change in baseDoc
  const checkedDocument = useMemo(() => toDocument(baseDoc.current, graph), [graph, settingsRev]);
  const agentCheck = useAgentDiagnostics(client, checkedDocument);
  const diagnostics = useMemo(() => mergeDiagnostics(ctx.diagnostics, agentCheck.diagnostics), [ctx.diagnostics, agentCheck.diagnostics]);
  const diagnosticsByNode = useMemo(() => {
    const map = new Map<string, Diagnostic[]>();
    for (const d of diagnostics) {
      if (!d.nodeId) continue;
      map.set(d.nodeId, [...(map.get(d.nodeId) ?? []), d]);
    }
    return map;
  }, [diagnostics]);
  const badEdges = useMemo(() => new Set(diagnostics.map((d) => d.edgeId).filter(Boolean)), [diagnostics]);
  const overlay: Overlay = useMemo(
    () => ({ diagnostics: diagnosticsByNode, run: planRun.nodes ?? (runView?.nodes as Record<string, NodeRunView> | undefined) ?? null }),
    [diagnosticsByNode, runView, planRun.nodes],
  );
  const shownEdges = useMemo(() => {
    const runNodes = planRun.nodes ?? (runView?.nodes as Record<string, NodeRunView> | undefined);
    return edges.map((e) => {
      const classes = [badEdges.has(e.id) ? 'edge--invalid' : '', runNodes?.[e.source]?.state === 'succeeded' && runNodes[e.target]?.state && runNodes[e.target]!.state !== 'skipped' && runNodes[e.target]!.state !== 'pending' ? 'edge--ran' : '']
        .filter(Boolean)
        .join(' ');
      return classes ? { ...e, className: classes, animated: runNodes?.[e.target]?.state === 'running' } : e;
    });
  }, [edges, badEdges, runView, planRun.nodes]);

  const selected = nodes.filter((n) => n.selected);
  const inputOf = (nodeId: string): unknown => {
    if (!runView) return undefined;
    const runNodes = runView.nodes as Record<string, NodeRunView>;
    if (specOf(graph.nodes.find((n) => n.id === nodeId)?.type ?? '')?.category === 'trigger') {
      return (runView.trigger as { payload?: unknown } | null)?.payload;
    }
    const sources = graph.edges.filter((e) => e.target === nodeId).map((e) => e.source);
    if (sources.length === 0) return undefined;
    if (sources.length === 1) return runNodes[sources[0]!]?.output;
    return Object.fromEntries(sources.map((s) => [s, runNodes[s]?.output ?? null]));
  };
  const errorCount = diagnostics.filter((d) => d.severity === 'error').length;
  const document = toDocument(baseDoc.current, graph);
  const trigger = primaryTrigger(graph, selected[0]?.id);
  const deployed = ctx.deployedVersion !== null;

  const saveLabel = saving ? 'Saving…' : dirty ? 'Unsaved changes' : `Saved · v${ctx.version}`;
  const deployTitle = errorCount > 0 ? `Fix ${errorCount} problem${errorCount === 1 ? '' : 's'} before deploying` : compiling ? 'Checking the flow…' : 'Save and deploy this flow';

  return (
    <OverlayContext.Provider value={overlay}>
      <div className="editor" data-testid="editor">
        <div className="editor__bar">
          <a className="button button--ghost button--small" href="/" onClick={linkHandler('/')} data-testid="back-to-flows">
            ← Flows
          </a>
          <div className="editor__title">
            <h1 className="editor__name" title={document.name} data-testid="flow-name">
              {document.name}
            </h1>
            <span className={`editor__state${dirty ? ' editor__state--dirty' : ''}`} data-testid="save-state">
              {saveLabel}
            </span>
            {deployed ? (
              <>
                <span className="badge badge--deployed" data-testid="deployed-badge">
                  Deployed v{ctx.deployedVersion}
                </span>
                <button
                  type="button"
                  className="button button--ghost button--small"
                  onClick={() => void undeploy()}
                  disabled={undeploying || deploying}
                  title="Stop starting runs from real events"
                  data-testid="undeploy"
                >
                  {undeploying ? 'Undeploying…' : 'Undeploy'}
                </button>
              </>
            ) : (
              <span className="badge badge--draft">Draft</span>
            )}
          </div>
          <div className="editor__actions">
            <button type="button" className="button button--ghost button--small" onClick={undo} disabled={history.current.past.length === 0} title="Undo (Ctrl+Z)" data-testid="undo">
              Undo
            </button>
            <button type="button" className="button button--ghost button--small" onClick={redo} disabled={history.current.future.length === 0} title="Redo (Ctrl+Shift+Z)" data-testid="redo">
              Redo
            </button>
            <button type="button" className="button button--ghost button--small" onClick={() => void autoLayout()} disabled={nodes.length === 0} data-testid="auto-layout">
              Auto-layout
            </button>
            <span className="editor__sep" />
            <button type="button" className="button button--ghost button--small" onClick={() => setDrawer(drawer === 'compile' ? 'none' : 'compile')} data-testid="open-compile">
              Compile preview
            </button>
            <button type="button" className="button button--ghost button--small" onClick={() => setDrawer(drawer === 'history' ? 'none' : 'history')} data-testid="open-history">
              History
            </button>
            <button type="button" className="button button--ghost button--small" onClick={() => download(`${document.id}.json`, JSON.stringify({ ...document, version: ctx.version }, null, 2))} data-testid="export">
              Export
            </button>
            <JsonFileButton className="button button--ghost button--small" testId="import" onFile={(file) => void importFile(file)}>
              Import
            </JsonFileButton>
            <span className="editor__sep" />
            <button type="button" className="button button--secondary button--small" onClick={save} disabled={!dirty || saving} title="Save (Ctrl+S)" data-testid="save">
              {saving ? 'Saving…' : 'Save'}
            </button>
            {document.kind === 'plan' ? (
              // Plans are run as drawn (plans.run), not deployed or started by a test event.
              <PlanCanvasActions client={client} document={document} errorCount={errorCount} onError={(text) => setStatus({ tone: 'error', text })} onStarted={planRun.follow} />
            ) : (
              <>
                <button type="button" className="button button--secondary button--small" onClick={() => setRunOpen(true)} disabled={(running && document.kind !== 'behavior') || !trigger}
                  title={!trigger ? 'Add a trigger first' : document.kind === 'behavior' ? 'Activate the behavior with a test event' : 'Run with a test event'} data-testid="run">
                  {document.kind === 'behavior' ? 'Activate' : running ? 'Running…' : 'Run'}
                </button>
                <button type="button" className="button button--primary button--small" onClick={() => send({ type: 'DEPLOY' })} disabled={!canDeploy || deploying || errorCount > 0} title={deployTitle} data-testid="deploy">
                  {deploying ? 'Deploying…' : 'Deploy'}
                </button>
              </>
            )}
          </div>
        </div>

        <div className="editor__body">
          <Palette onAdd={(type) => addNode(type)} kind={document.kind} />
          <div className="canvas" ref={canvasRef} onDragOver={onDragOver} onDrop={onDrop} data-testid="canvas">
            <ReactFlow<FlowCanvasNode, Edge>
              nodes={nodes}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onConnectEnd={onConnectEnd}
              isValidConnection={isValidConnection}
              deleteKeyCode={['Delete', 'Backspace']}
              multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
              // Fitting an empty canvas would jump the view when the first node lands.
              fitView={initial.document.nodes.length > 0}
              fitViewOptions={{ maxZoom: 1, padding: 0.2 }}
              minZoom={0.1}
              proOptions={{ hideAttribution: true }}
              defaultEdgeOptions={{ type: 'smoothstep' }}
              onlyRenderVisibleElements={nodes.length > 200}
            >
              <Background gap={16} size={1} color="#dde1e7" />
              <Controls position="bottom-left" />
              <MiniMap position="bottom-right" pannable zoomable nodeStrokeWidth={3} nodeColor={minimapColor} />
              {document.kind === 'plan' ? <PlanLanes client={client} nodes={nodes} /> : null}
              {planRun.run ? <PlanRunPanel run={planRun.run} onClose={planRun.close} /> : null}
              {followRunId && runId === followRunId && runView ? (
                <Panel position="top-left">
                  <div className="followed-run" data-testid="followed-run" data-run-status={runView.status}>
                    <span>
                      Run <code>{runView.id.slice(0, 8)}</code> · <strong>{runView.status}</strong> · version {runView.flowVersion}
                      {runView.flowVersion !== ctx.version ? <span className="muted"> (the canvas shows version {ctx.version})</span> : null}
                    </span>
                    <a href={hrefOf({ page: 'monitor', tab: 'history', runId: runView.id })} onClick={linkHandler(hrefOf({ page: 'monitor', tab: 'history', runId: runView.id }))} data-testid="followed-run-timeline">
                      Timeline
                    </a>
                  </div>
                </Panel>
              ) : null}
              {status ? (
                <Panel position="top-center">
                  <div className={`toast toast--${status.tone}`} role={status.tone === 'error' ? 'alert' : 'status'} data-testid="status">
                    <span>{status.text}</span>
                    <button type="button" className="toast__close" aria-label="Dismiss" onClick={() => setStatus(null)}>
                      ×
                    </button>
                  </div>
                </Panel>
              ) : null}
              {ctx.error ? (
                <Panel position="top-center">
                  <div className="toast toast--error" role="alert" data-testid="session-error">
                    <span>{ctx.error}</span>
                    <button type="button" className="toast__close" aria-label="Dismiss" onClick={() => send({ type: 'DISMISS_ERROR' })}>
                      ×
                    </button>
                  </div>
                </Panel>
              ) : null}
            </ReactFlow>
            {nodes.length === 0 ? (
              <div className="canvas__empty" data-testid="canvas-empty">
                {document.kind === 'plan' ? (
                  <>
                    <p className="canvas__empty-title">Drag a plan step from the palette to start</p>
                    <p className="canvas__empty-text">
                      Each step is a skill one of your agents runs. Connect a step to the steps that need its result; steps that do not
                      need each other run at the same time. Or start from a task: Flows → Plan from a task.
                    </p>
                  </>
                ) : (
                  <>
                    <p className="canvas__empty-title">Drag a trigger from the palette to start</p>
                    <p className="canvas__empty-text">
                      A trigger decides when the flow runs — an email arriving, a new contact, a schedule. Then add conditions and actions and
                      connect them from left to right.
                    </p>
                  </>
                )}
              </div>
            ) : null}
          </div>
          <Inspector
            branchOf={(nodeId) => edges.some((e) => e.source === nodeId && e.sourceHandle === 'each')}
            kind={document.kind}
            audience={document.kind === 'behavior' ? (document.settings?.audience ?? 'owner') : null}
            onAudience={setAudience}
            client={client}
            inputOf={inputOf}
            selected={selected}
            diagnostics={diagnostics}
            diagnosticsByNode={diagnosticsByNode}
            compiling={compiling || agentCheck.checking}
            onUpdate={updateNode}
            onFieldBlur={endFieldEdit}
            onFocusNode={selectOnly}
            run={runView}
            running={running}
            onApprove={(nodeId) => void decide('approve', nodeId)}
            onReject={(nodeId) => void decide('reject', nodeId)}
            onDecideAgent={decideAgent}
            onCloseRun={() => setRunView(null)}
          />
        </div>

        {drawer === 'compile' ? <CompilePreview document={document} onClose={() => setDrawer('none')} /> : null}
        {drawer === 'history' ? (
          <HistoryPanel
            client={client}
            docId={flow.docId}
            currentVersion={ctx.version}
            dirty={dirty}
            onClose={() => setDrawer('none')}
            onRestored={(doc, version) => {
              resetTo(doc, version, ctx.deployedVersion);
              setStatus({ tone: 'ok', text: `Restored as version ${version}.` });
            }}
          />
        ) : null}
        <LeaveGuard
          when={dirty}
          title="Leave without saving?"
          description={`Your changes to “${document.name}” since the last save are lost if you leave now. Stay to save them (Ctrl+S).`}
          leaveLabel="Leave without saving"
        />
        {confirmDialog}
        {runOpen && trigger ? (
          <RunDialog client={client} trigger={trigger} deployedVersion={ctx.deployedVersion} dirty={dirty} onCancel={() => setRunOpen(false)} onRun={startRun} />
        ) : null}
      </div>
    </OverlayContext.Provider>
  );

  /** Turns the triggers off: runs already going finish (approvals, delays), nothing new starts. */
  async function undeploy() {
    const ok = await ask({
      title: `Undeploy “${baseDoc.current.name}”?`,
      description:
        'Its triggers stop: no new runs start from events, schedules or its webhook (the webhook URL and secret are kept for when you deploy again). Runs already in progress, such as one waiting for an approval or a delay, are not stopped: they finish as deployed. The flow and its versions stay here.',
      confirmLabel: 'Undeploy',
      // Reversible (deploy again), so not styled as destructive.
      tone: 'default',
    });
    if (!ok) return;
    setUndeploying(true);
    try {
      const { activeRuns } = await client.flows.undeploy.mutate({ docId: flow.docId });
      send({ type: 'UNDEPLOYED' });
      // A later deploy, even of the same version, is news again.
      deployedOnOpen.current = null;
      setStatus({
        tone: 'ok',
        text: `Undeployed: no new runs start.${activeRuns ? ` ${activeRuns} run${activeRuns === 1 ? '' : 's'} in progress will finish.` : ''}`,
      });
    } catch (error) {
      setStatus({ tone: 'error', text: describeError(error, 'undeploy the flow') });
    } finally {
      setUndeploying(false);
    }
  }

  async function decide(decision: 'approve' | 'reject', nodeId: string) {
    if (!runId) return;
    try {
      if (decision === 'approve') await client.runs.approve.mutate({ runId, nodeId });
      else await client.runs.reject.mutate({ runId, nodeId });
    } catch (error) {
      setStatus({ tone: 'error', text: describeError(error, `${decision} this step`) });
    }
  }

  /** Throws when the decision did not go through: the proposal card shows why. */
  async function decideAgent(approval: AgentApproval, decision: Decision) {
    const input = { id: approval.agentId, approvalId: approval.id };
    const res = decision === 'approve' ? await client.agents.approve.mutate(input) : await client.agents.reject.mutate(input);
    setStatus({ tone: 'ok', text: decisionSummary(res.tool, approval.args, res.status) });
  }

  async function importFile(file: File) {
    try {
      const read = readFlowFile(await file.text());
      if (!read.ok) {
        setStatus({ tone: 'error', text: `${file.name} is not a Switchyard flow: ${read.problem}` });
        return;
      }
      // Into the open flow (a new version of it, the id stays this flow's), or beside it as a copy.
      const choice = await choose({
        title: `Replace “${baseDoc.current.name}” with ${file.name}?`,
        description: `Replace saves the file's nodes as the next version of this flow (the earlier versions stay in its history)${dirty ? ' and drops your unsaved changes' : ''}. Import as copy adds the file as a separate draft and opens it.`,
        confirmLabel: 'Replace',
        alternativeLabel: 'Import as copy',
        tone: dirty ? 'danger' : 'default',
      });
      if (choice === 'cancel') return;
      if (choice === 'alternative') {
        const name = `Copy of ${read.document.name}`;
        const id = docIdFromName(name);
        await client.flows.import.mutate({ document: { ...read.document, id, name }, replace: false });
        navigate(hrefOf({ page: 'editor', docId: id }));
        return;
      }
      const doc = { ...read.document, id: flow.docId };
      const result = await client.flows.import.mutate({ document: doc, replace: true });
      const fresh = await client.flows.get.query({ docId: flow.docId });
      resetTo(fresh.document, result.version, fresh.flow.deployedVersion);
      const problems = compile(fresh.document).diagnostics;
      setStatus({
        tone: hasErrors(problems) ? 'error' : 'ok',
        text: result.changed ? `Imported ${file.name} as version ${result.version}.` : `Imported ${file.name}: it matches the saved version, nothing changed.`,
      });
    } catch (error) {
      setStatus({ tone: 'error', text: describeError(error, 'import the file') });
    }
  }
}
