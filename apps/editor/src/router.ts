import { useEffect, useSyncExternalStore } from 'react';

/**
 * A tiny history router: `/` (flows) and `/flows/:docId` (editor). The runtime serves the SPA
 * for any path. Pages that hold unsaved work register a guard that in-app navigation asks first.
 */

export type Route = { page: 'flows' } | { page: 'editor'; docId: string } | { page: 'agents' } | { page: 'agent'; agentId: string };

export function parseRoute(pathname: string): Route {
  if (/^\/agents\/?$/.test(pathname)) return { page: 'agents' };
  const agent = /^\/agents\/([A-Za-z0-9_-]{1,100})\/?$/.exec(pathname);
  if (agent?.[1]) return { page: 'agent', agentId: agent[1] };
  const match = /^\/flows\/([A-Za-z][A-Za-z0-9_-]{0,63})\/?$/.exec(pathname);
  return match?.[1] ? { page: 'editor', docId: match[1] } : { page: 'flows' };
}

export const hrefOf = (route: Route): string => {
  switch (route.page) {
    case 'editor':
      return `/flows/${route.docId}`;
    case 'agents':
      return '/agents';
    case 'agent':
      return `/agents/${encodeURIComponent(route.agentId)}`;
    case 'flows':
      return '/';
  }
};

const listeners = new Set<() => void>();

/** Holds an in-app navigation: asks the user, and calls `leave` to complete it if they agree. */
export type LeaveHandler = (leave: () => void) => void;
let guard: LeaveHandler | null = null;

function notify() {
  for (const l of listeners) l();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
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
  if (options.replace) window.history.replaceState(null, '', href);
  else window.history.pushState(null, '', href);
  notify();
  return true;
}

export function useRoute(): Route {
  const pathname = useSyncExternalStore(subscribe, () => window.location.pathname);
  return parseRoute(pathname);
}

/**
 * While `onLeave` is non-null, leaving asks first: in-app links through `navigate` are handed to
 * it (see `LeaveGuard`, which asks in a dialog), and closing or reloading the tab gets the
 * browser's own beforeunload prompt, whose wording no page can choose.
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
