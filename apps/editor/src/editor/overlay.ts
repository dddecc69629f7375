import type { Diagnostic } from '@switchyard/schema';
import { createContext, useContext } from 'react';

export type NodeRunState = 'pending' | 'running' | 'waiting' | 'retrying' | 'succeeded' | 'failed' | 'skipped';

export interface NodeRunView {
  state: string;
  output: unknown;
  error: unknown;
  reason: unknown;
  attempts: number;
  request: unknown;
  /** The outputs that fired, when the run view carries them; none means the path stopped here. */
  handles?: unknown;
  /** A node of a for-each's branch: the item whose state and output are shown (the latest to run). */
  item?: { forEach: string; index: number };
}

/** What the canvas paints on a node for the watched run; `stopped` is a step that ran and ended its path. */
export type NodeRunBadge =
  | { kind: 'running' | 'waiting' | 'retrying' | 'succeeded' | 'failed' | 'skipped'; label: string }
  | { kind: 'stopped'; label: string; reason: string };

const LABEL = {
  running: 'Running',
  waiting: 'Waiting',
  retrying: 'Retrying',
  succeeded: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
} as const;

/**
 * The badge of one node in a run, or null when there is nothing to show (pending, unknown). A
 * condition that did not pass "succeeds" without firing an output and says why in `reason`: the
 * run stopped there, which must not read as a green Done.
 */
export function runBadgeOf(node: NodeRunView | undefined): NodeRunBadge | null {
  if (!node) return null;
  switch (node.state) {
    case 'succeeded': {
      const fired = Array.isArray(node.handles) ? node.handles.length > 0 : null;
      const reason = typeof node.reason === 'string' && node.reason.trim() !== '' ? node.reason : null;
      // Older run views carry no handles: a reason on a successful step is only written when no output fired.
      if (fired === false || (fired === null && reason !== null)) {
        return { kind: 'stopped', label: 'Stopped here', reason: reason ?? 'No output fired, so the run went no further on this path.' };
      }
      return { kind: 'succeeded', label: LABEL.succeeded };
    }
    case 'running':
    case 'waiting':
    case 'retrying':
    case 'failed':
    case 'skipped':
      return { kind: node.state, label: LABEL[node.state] };
    default:
      return null;
  }
}

/**
 * How far a for-each got over its items, for its run badge: while it runs its output counts the
 * items ended and those still to go (`pending`); once done, the items it did. Null when the view
 * says nothing about items (a for-each that has not picked them yet, any other node).
 */
export function forEachProgressOf(node: NodeRunView | undefined): string | null {
  const out = node?.output;
  if (!out || typeof out !== 'object') return null;
  const { count, pending } = out as { count?: unknown; pending?: unknown };
  if (typeof count !== 'number') return null;
  if (typeof pending === 'number') return `${count}/${count + pending} items`;
  return node?.state === 'succeeded' ? `${count} ${count === 1 ? 'item' : 'items'}` : null;
}

/**
 * What the canvas paints over the nodes without touching their data: diagnostics from the last
 * compile and the state of each node in the watched run. Kept in context so a new compile or run
 * update never rewrites the graph (and so never lands in undo history).
 */
export interface Overlay {
  diagnostics: ReadonlyMap<string, Diagnostic[]>;
  run: Readonly<Record<string, NodeRunView>> | null;
}

export const OverlayContext = createContext<Overlay>({ diagnostics: new Map(), run: null });

export const useOverlay = () => useContext(OverlayContext);
