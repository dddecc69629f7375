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
let guard: (() => string | null) | null = null;

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

/** Goes to `href` unless a guard's question is declined. Returns whether it navigated. */
export function navigate(href: string, options: { replace?: boolean; force?: boolean } = {}): boolean {
  const question = options.force ? null : guard?.();
  if (question && !window.confirm(question)) return false;
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
 * While `question` is non-null, leaving asks it: in-app links through `navigate`, and closing or
 * reloading the tab through the browser's own beforeunload prompt.
 */
export function useLeaveGuard(question: string | null): void {
  useEffect(() => {
    if (question === null) return;
    const mine = () => question;
    guard = mine;
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      // Older browsers need a returnValue to show the prompt.
      event.returnValue = question;
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => {
      if (guard === mine) guard = null;
      window.removeEventListener('beforeunload', onBeforeUnload);
    };
  }, [question]);
}

/** An `<a>` that navigates in-app (keeping modifier-clicks for new tabs). */
export function linkHandler(href: string) {
  return (event: React.MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
}
