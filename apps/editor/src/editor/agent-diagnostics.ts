import { compile } from '@switchyard/actors';
import type { Diagnostic, FlowDocument } from '@switchyard/schema';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ApiClient } from '../trpc';

/**
 * What the canvas cannot check by itself: whether the agent of a `Run agent skill` step exists, is
 * active, has the skill and may use the tools the skill needs. Those facts live in the runtime, so
 * `flows.validate` adds them to the compiler's diagnostics (the same check refuses a deploy). The
 * editor compiles on every keystroke; this asks the runtime only for documents with such steps,
 * after the typing pauses, and never shows an answer about params that have changed since.
 */

export const AGENT_CHECK_DEBOUNCE_MS = 400;

const RUN_SKILL = 'agent.runSkill';

/** What the runtime's check reads of one step: its agent and skill. */
function stepSignature(params: Record<string, unknown>): string {
  return JSON.stringify([params.agentId ?? null, params.skill ?? null]);
}

/** Each `Run agent skill` step's signature by node id; empty when the document has none. */
export function agentSteps(doc: Pick<FlowDocument, 'nodes'>): Map<string, string> {
  const steps = new Map<string, string>();
  for (const n of doc.nodes) if (n.type === RUN_SKILL) steps.set(n.id, stepSignature(n.params));
  return steps;
}

/** One key for "what the runtime would be asked about": changes only when a step's agent or skill does. */
export const agentStepsKey = (steps: ReadonlyMap<string, string>): string =>
  JSON.stringify([...steps.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

const identity = (d: Diagnostic) => JSON.stringify([d.code, d.severity, d.nodeId ?? null, d.edgeId ?? null, d.path, d.message]);

/**
 * The runtime's answer for `sent`, less what the compiler says about it (the canvas has those
 * already, and fresher): the diagnostics only the runtime can give.
 */
export function runtimeOnly(sent: FlowDocument, fromServer: readonly Diagnostic[]): Diagnostic[] {
  const local = new Set(compile(sent).diagnostics.map(identity));
  return fromServer.filter((d) => !local.has(identity(d)));
}

export interface AgentCheck {
  /** Signatures of the steps as they were sent. */
  steps: ReadonlyMap<string, string>;
  diagnostics: Diagnostic[];
}

/**
 * The diagnostics of `check` that still describe the canvas: those of steps whose agent and skill
 * are what was checked, with their node index moved to where the step is now (a node deleted above
 * it shifts it). A step edited since is left out until the runtime has seen the new params.
 */
export function currentAgentDiagnostics(check: AgentCheck | null, doc: Pick<FlowDocument, 'nodes'>): Diagnostic[] {
  if (!check) return [];
  const now = agentSteps(doc);
  const out: Diagnostic[] = [];
  for (const d of check.diagnostics) {
    if (!d.nodeId || check.steps.get(d.nodeId) === undefined || check.steps.get(d.nodeId) !== now.get(d.nodeId)) continue;
    const index = doc.nodes.findIndex((n) => n.id === d.nodeId);
    out.push(d.path[0] === 'nodes' && typeof d.path[1] === 'number' ? { ...d, path: ['nodes', index, ...d.path.slice(2)] } : d);
  }
  return out;
}

/** The canvas's own diagnostics, then the runtime's that say something new. */
export function mergeDiagnostics(local: readonly Diagnostic[], remote: readonly Diagnostic[]): Diagnostic[] {
  if (!remote.length) return local as Diagnostic[];
  const seen = new Set(local.map(identity));
  return [...local, ...remote.filter((d) => !seen.has(identity(d)))];
}

/**
 * Asks the runtime (`flows.validate`) about the document's `Run agent skill` steps: once their agent
 * or skill settles for {@link AGENT_CHECK_DEBOUNCE_MS}, and again when the window regains focus (the
 * agent may have been changed in another tab). A newer question cancels the one in flight, and an
 * answer is applied only to the steps it was about. Failures are silent: the deploy runs the same
 * check and says what is wrong.
 */
export function useAgentDiagnostics(client: ApiClient, document: FlowDocument): { diagnostics: Diagnostic[]; checking: boolean } {
  const latest = useRef(document);
  latest.current = document;
  const steps = agentSteps(document);
  const key = agentStepsKey(steps);
  const [check, setCheck] = useState<AgentCheck | null>(null);
  const [checking, setChecking] = useState(false);
  const [focusTick, setFocusTick] = useState(0);

  useEffect(() => {
    const refresh = () => {
      if (window.document.visibilityState === 'visible') setFocusTick((t) => t + 1);
    };
    window.addEventListener('focus', refresh);
    window.document.addEventListener('visibilitychange', refresh);
    return () => {
      window.removeEventListener('focus', refresh);
      window.document.removeEventListener('visibilitychange', refresh);
    };
  }, []);

  useEffect(() => {
    if (key === '[]') {
      setCheck(null);
      setChecking(false);
      return;
    }
    const abort = new AbortController();
    setChecking(true);
    const timer = setTimeout(() => {
      const sent = latest.current;
      const sentSteps = agentSteps(sent);
      client.flows.validate.mutate({ document: sent }, { signal: abort.signal }).then(
        (res) => {
          if (abort.signal.aborted) return;
          setCheck({ steps: sentSteps, diagnostics: runtimeOnly(sent, res.diagnostics) });
          setChecking(false);
        },
        () => {
          if (!abort.signal.aborted) setChecking(false);
        },
      );
    }, AGENT_CHECK_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [client, key, focusTick]);

  // Recomputed when the answer, a step's agent or skill or the node order change; not on every
  // render (a drag changes the document each frame, and a new array would repaint every node).
  const order = document.nodes.map((n) => n.id).join('\n');
  // eslint-disable-next-line react-hooks/exhaustive-deps -- key and order stand for the parts of the document read here
  const diagnostics = useMemo(() => currentAgentDiagnostics(check, latest.current), [check, key, order]);
  return { diagnostics, checking };
}
