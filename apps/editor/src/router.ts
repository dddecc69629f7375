import { useEffect, useSyncExternalStore } from 'react';

/**
 * A tiny history router: `/` (flows), `/flows/:docId[/runs/:runId]` (editor, following a run), `/agents[/:id]`, and a not-found page
 * for any other path. The runtime serves the SPA
 * for any path. Pages that hold unsaved work register a guard that in-app navigation and
 * Back/Forward ask first.
 */

export type Route =
  | { page: 'flows' }
  /** With `runId`, the canvas opens following that run (its live overlay and run panel). */
  | { page: 'editor'; docId: string; runId?: string }
  | { page: 'agents' }
  | { page: 'agent'; agentId: string }
  | { page: 'monitor'; tab: 'live' | 'history' | 'metrics'; runId?: string }
  | { page: 'marketplace'; tab: 'browse' | 'installed' }
  | { page: 'template'; templateId: string }
  | { page: 'plans'; runId?: string }
  | { page: 'inbox' }
  | { page: 'contacts' }
  | { page: 'contact'; contactId: string }
  | { page: 'drafts'; draftId?: string }
  | { page: 'tasks' }
  | { page: 'follow-ups' }
  | { page: 'not-found'; path: string };

export function parseRoute(pathname: string): Route {
  const plans = /^\/plans(?:\/runs\/([0-9a-f-]{36}))?\/?$/.exec(pathname);
  if (plans) return plans[1] ? { page: 'plans', runId: plans[1] } : { page: 'plans' };
  if (/^\/inbox\/?$/.test(pathname)) return { page: 'inbox' };
  if (/^\/contacts\/?$/.test(pathname)) return { page: 'contacts' };
  const contact = /^\/contacts\/([0-9a-f-]{36})\/?$/.exec(pathname);
  if (contact?.[1]) return { page: 'contact', contactId: contact[1] };
  const drafts = /^\/drafts(?:\/([0-9a-f-]{36}))?\/?$/.exec(pathname);
  if (drafts) return drafts[1] ? { page: 'drafts', draftId: drafts[1] } : { page: 'drafts' };
  if (/^\/tasks\/?$/.test(pathname)) return { page: 'tasks' };
  if (/^\/follow-ups\/?$/.test(pathname)) return { page: 'follow-ups' };
  if (/^\/agents\/?$/.test(pathname)) return { page: 'agents' };
  if (/^\/marketplace\/?$/.test(pathname)) return { page: 'marketplace', tab: 'browse' };
  if (/^\/marketplace\/installed\/?$/.test(pathname)) return { page: 'marketplace', tab: 'installed' };
  const template = /^\/marketplace\/([A-Za-z][A-Za-z0-9_-]{0,63})\/?$/.exec(pathname);
  if (template?.[1]) return { page: 'template', templateId: template[1] };
  const monitor = /^\/monitor(?:\/(history|metrics)|\/runs\/([0-9a-f-]{36}))?\/?$/.exec(pathname);
  if (monitor) return monitor[2] ? { page: 'monitor', tab: 'history', runId: monitor[2] } : { page: 'monitor', tab: (monitor[1] as 'history' | 'metrics' | undefined) ?? 'live' };
  const agent = /^\/agents\/([A-Za-z0-9_-]{1,100})\/?$/.exec(pathname);
  if (agent?.[1]) return { page: 'agent', agentId: agent[1] };
  const match = /^\/flows\/([A-Za-z][A-Za-z0-9_-]{0,63})(?:\/runs\/([0-9a-f-]{36}))?\/?$/.exec(pathname);
  if (match?.[1]) return match[2] ? { page: 'editor', docId: match[1], runId: match[2] } : { page: 'editor', docId: match[1] };
  if (pathname === '' || /^\/(flows\/?)?$/.test(pathname)) return { page: 'flows' };
  // Anything else is a mistyped or stale link: say so rather than show the flow list as if it were it.
  return { page: 'not-found', path: pathname };
}

export const hrefOf = (route: Route): string => {
  switch (route.page) {
    case 'editor':
      return route.runId ? `/flows/${route.docId}/runs/${route.runId}` : `/flows/${route.docId}`;
    case 'agents':
      return '/agents';
    case 'agent':
      return `/agents/${encodeURIComponent(route.agentId)}`;
    case 'monitor':
      return route.runId ? `/monitor/runs/${route.runId}` : route.tab === 'live' ? '/monitor' : `/monitor/${route.tab}`;
    case 'marketplace':
      return route.tab === 'installed' ? '/marketplace/installed' : '/marketplace';
    case 'template':
      return `/marketplace/${route.templateId}`;
    case 'flows':
      return '/';
    case 'plans':
      return route.runId ? `/plans/runs/${route.runId}` : '/plans';
    case 'inbox':
      return '/inbox';
    case 'contacts':
      return '/contacts';
    case 'contact':
      return `/contacts/${route.contactId}`;
    case 'drafts':
      return route.draftId ? `/drafts/${route.draftId}` : '/drafts';
    case 'tasks':
      return '/tasks';
    case 'follow-ups':
      return '/follow-ups';
    case 'not-found':
      return route.path;
  }
};

const listeners = new Set<() => void>();

/** Holds a navigation: asks the user, and calls `leave` to complete it if they agree. */
export type LeaveHandler = (leave: () => void) => void;
let guard: LeaveHandler | null = null;

/*
 * Back/Forward (popstate) happen before any page can object, so a guard can only undo them: step
 * the same number of entries the other way, ask, and repeat the step if the user leaves. For that
 * every entry this router makes carries its position in the tab's history, `{ index }` in
 * `history.state` (push is one more, replace the same). Stepping back with history.go() instead
 * of pushing the editor's URL again keeps the stack as it was, however often the user says Stay.
 * The index lives in the entry, so it survives a reload; entries of another document (another
 * site) load a page of their own, which the beforeunload prompt covers.
 */
type HistoryState = { index: number };

/** The position stored in an entry's `history.state`, or null for an entry this router did not make. */
export function indexOf(state: unknown): number | null {
  return typeof state === 'object' && state !== null && 'index' in state && typeof state.index === 'number' ? state.index : null;
}

/** Where the app is: the path of the route it shows and the position of that entry. */
export type Place = { path: string; index: number };

/**
 * What to do after Back/Forward moved from `here` to `entry`: `follow` it (writing its index
 * into an entry that had none), or `hold` it while the guard asks: `history.go(undo)` returns to
 * `here`, `history.go(-undo)` leaves after all.
 */
export type Pop = { type: 'follow'; index: number; stamp: boolean } | { type: 'hold'; undo: number };

export function decidePop(here: Place, entry: { path: string; state: unknown }, guarded: boolean): Pop {
  const index = indexOf(entry.state);
  // No index: a fragment link (the app makes none itself) pushed this entry, so it is one further on.
  if (index === null) return { type: 'follow', index: here.index + 1, stamp: true };
  if (guarded && entry.path !== here.path && index !== here.index) return { type: 'hold', undo: here.index - index };
  return { type: 'follow', index, stamp: false };
}

/** Changed only by `arrive`, so a held Back never shows the page it was going to. */
let here: Place = { path: '', index: 0 };
/** Set while a held Back/Forward is being completed, so that popstate is followed without asking. */
let leaving = false;

function arrive(path: string, index: number) {
  if (path !== here.path) leaving = false;
  here = { path, index };
  for (const l of listeners) l();
}

function onPopState(event: PopStateEvent) {
  const path = window.location.pathname;
  const pop = decidePop(here, { path, state: event.state }, guard !== null && !leaving);
  switch (pop.type) {
    case 'follow':
      if (pop.stamp) window.history.replaceState({ index: pop.index } satisfies HistoryState, '');
      arrive(path, pop.index);
      return;
    case 'hold':
      // The popstate of this return has `here`'s path, so it is followed without asking.
      window.history.go(pop.undo);
      guard?.(() => {
        leaving = true;
        window.history.go(-pop.undo);
      });
      return;
  }
}

// Not in Node, where the unit tests import the pure helpers above.
if (typeof window !== 'undefined') {
  const index = indexOf(window.history.state);
  if (index === null) window.history.replaceState({ index: 0 } satisfies HistoryState, '');
  here = { path: window.location.pathname, index: index ?? 0 };
  window.addEventListener('popstate', onPopState);
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/**
 * Goes to `href`, unless a leave guard holds the navigation to ask first (it completes it once the
 * user agrees). Returns whether it navigated now.
 */
export function navigate(href: string, options: { replace?: boolean; force?: boolean } = {}): boolean {
  if (guard && !options.force) {
    guard(() => navigate(href, { ...options, force: true }));
    return false;
  }
  const index = options.replace ? here.index : here.index + 1;
  if (options.replace) window.history.replaceState({ index } satisfies HistoryState, '', href);
  else window.history.pushState({ index } satisfies HistoryState, '', href);
  arrive(window.location.pathname, index);
  return true;
}

export function useRoute(): Route {
  const path = useSyncExternalStore(subscribe, () => here.path);
  return parseRoute(path);
}

/**
 * While `onLeave` is non-null, leaving asks first: in-app links through `navigate` and the
 * browser's Back/Forward are handed to it (see `LeaveGuard`, which asks in a dialog), and closing
 * or reloading the tab gets the browser's own beforeunload prompt, whose wording no page can choose.
 */
export function useLeaveGuard(onLeave: LeaveHandler | null): void {
  useEffect(() => {
    if (onLeave === null) return;
    guard = onLeave;
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older browsers need a returnValue to show the prompt.
      event.returnValue = 'You have unsaved changes.';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      if (guard === onLeave) guard = null;
      window.removeEventListener('beforeunload', onBeforeUnload);
    };
  }, [onLeave]);
}

/** An `<a>` that navigates in-app (keeping modifier-clicks for new tabs). */
export function linkHandler(href: string) {
  return (event: React.MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
}
