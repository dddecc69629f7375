/**
 * The canvas's undo history: serialised snapshots of the document-shaped graph, so undo and redo
 * restore exactly what was there (ids, positions, labels, params, edges). Pure: the editor keeps
 * one value and replaces it on every change.
 *
 * Coalescing rule — one undo step per field visit: an edit made in an inspector field carries a
 * `group` (the node id and the field's path). It joins the latest step when that step was made by
 * the same group and the group is still open. The group closes when the field loses focus
 * (`endGroup`); any other change (another field or node, a canvas edit such as add, delete,
 * connect, move, paste or auto-layout, which carry no group, an undo or a redo) starts a step of
 * its own anyway. So typing "Follow up" into a field is one step however slowly it was typed, and
 * the rule needs no timer.
 */
export interface History {
  /** Snapshots before each step, oldest first. */
  readonly past: readonly string[];
  /** Snapshots undone, the next redo last. */
  readonly future: readonly string[];
  readonly current: string;
  /** The open group: the next edit of this group joins the latest step instead of adding one. */
  readonly group: string | null;
}

/** Steps kept; the oldest are dropped beyond this. */
export const HISTORY_LIMIT = 200;

export const createHistory = (current: string): History => ({ past: [], future: [], current, group: null });

/** Records that the graph is now `next`; `group` names the inspector field the edit came from. */
export function record(history: History, next: string, group: string | null = null): History {
  if (next === history.current) return history;
  if (group !== null && group === history.group) {
    // Typed back to where the step began (a letter and its backspace): nothing is left to undo.
    if (next === history.past.at(-1)) return { past: history.past.slice(0, -1), future: [], current: next, group: null };
    return { ...history, future: [], current: next };
  }
  return { past: [...history.past, history.current].slice(-HISTORY_LIMIT), future: [], current: next, group };
}

/** Closes the open group: the field lost focus, so its next edit is a new step. */
export const endGroup = (history: History): History => (history.group === null ? history : { ...history, group: null });

export function undo(history: History): History {
  const previous = history.past.at(-1);
  if (previous === undefined) return history;
  return { past: history.past.slice(0, -1), future: [...history.future, history.current], current: previous, group: null };
}

export function redo(history: History): History {
  const next = history.future.at(-1);
  if (next === undefined) return history;
  return { past: [...history.past, history.current], future: history.future.slice(0, -1), current: next, group: null };
}
