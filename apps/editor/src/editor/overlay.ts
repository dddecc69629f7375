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
