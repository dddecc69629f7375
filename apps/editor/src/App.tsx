import { Suspense, lazy, useCallback, useEffect, useState } from 'react';
import {
  TOKEN_REJECTED,
  clearToken,
  getToken,
  setToken,
  verifyToken,
  type FlowList,
  type Verification,
} from './auth';
import { AppShell } from './components/AppShell';
import { Logo } from './components/Logo';
import { AgentDetailPage } from './pages/AgentDetailPage';
import { AgentsPage } from './pages/AgentsPage';
import { FlowsPage } from './pages/FlowsPage';
import { LoginPage } from './pages/LoginPage';
import { MarketplacePage } from './pages/MarketplacePage';
import { MarketplaceTemplatePage } from './pages/MarketplaceTemplatePage';
import { MonitorPage } from './pages/MonitorPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { ContactDetailPage } from './pages/ContactDetailPage';
import { ContactsPage } from './pages/ContactsPage';
import { DraftsPage } from './pages/DraftsPage';
import { FollowUpsPage } from './pages/FollowUpsPage';
import { InboxPage } from './pages/InboxPage';
import { TasksPage } from './pages/TasksPage';
import { PlansPage } from './pages/PlansPage';
import { useRoute } from './router';
import { createApiClient, type ApiClient } from './trpc';

// The canvas (xyflow, the compiler, xstate) loads only when a flow is opened.
const EditorPage = lazy(() => import('./pages/EditorPage').then((m) => ({ default: m.EditorPage })));

type Session =
  | { status: 'checking' }
  | { status: 'signed-out'; notice: string | null }
  | { status: 'signed-in'; client: ApiClient; initialFlows: FlowList | undefined };

/**
 * @param loginToken the `?token=` the page was opened with, already taken out of the URL by
 *   main.tsx before the first render (so a re-run effect can never see it twice).
 */
export function App({ loginToken }: { loginToken: string | null }) {
  const route = useRoute();
  const [session, setSession] = useState<Session>(() => {
    if (loginToken !== null) return { status: 'checking' };
    // A token kept from earlier in this tab goes straight to the page; if the runtime refuses it
    // (restarted with a new token), the page's first call brings the user back to the login form.
    const stored = getToken();
    return stored === null
      ? { status: 'signed-out', notice: null }
      : { status: 'signed-in', client: createApiClient(stored), initialFlows: undefined };
  });

  const enter = useCallback((token: string, result: Verification) => {
    if (result.ok) {
      setToken(token);
      setSession({ status: 'signed-in', client: result.client, initialFlows: result.flows });
    } else if (result.reason === 'unauthorized') {
      clearToken();
      setSession({ status: 'signed-out', notice: TOKEN_REJECTED });
    } else {
      // The token may well be fine and the runtime briefly away: keep it, let the page show the error and retry.
      setToken(token);
      setSession({ status: 'signed-in', client: createApiClient(token), initialFlows: undefined });
    }
  }, []);

  useEffect(() => {
    if (loginToken === null) return;
    // A login link is checked before anything shows, so a wrong one lands on the login form.
    setToken(loginToken);
    let cancelled = false;
    void verifyToken(loginToken).then((result) => {
      if (!cancelled) enter(loginToken, result);
    });
    return () => {
      cancelled = true;
    };
  }, [enter, loginToken]);

  // The list fetched at sign-in is only fresh once: coming back from the editor loads it again.
  useEffect(() => {
    if (route.page !== 'editor') return;
    setSession((s) => (s.status === 'signed-in' && s.initialFlows ? { ...s, initialFlows: undefined } : s));
  }, [route.page]);

  const signOut = useCallback((notice: string | null = null) => {
    clearToken();
    setSession({ status: 'signed-out', notice });
  }, []);

  const sessionEnded = useCallback(
    () => signOut('Your session ended: the runtime no longer accepts this token. Sign in again.'),
    [signOut],
  );

  switch (session.status) {
    case 'checking':
      return (
        <div className="splash" data-testid="checking">
          <Logo size={32} />
          <p>Signing in…</p>
        </div>
      );
    case 'signed-out':
      return (
        <LoginPage notice={session.notice} onSignedIn={enter} />
      );
    case 'signed-in':
      if (route.page === 'editor') {
        return (
          <AppShell section="flows" onSignOut={() => signOut()} wide>
            <Suspense
              fallback={
                <div className="splash" data-testid="loading">
                  <p>Opening the editor…</p>
                </div>
              }
            >
              <EditorPage key={route.docId} client={session.client} docId={route.docId} runId={route.runId ?? null} onUnauthorized={sessionEnded} />
            </Suspense>
          </AppShell>
        );
      }
      if (route.page === 'agents') {
        return (
          <AppShell section="agents" onSignOut={() => signOut()}>
            <AgentsPage client={session.client} onUnauthorized={sessionEnded} />
          </AppShell>
        );
      }
      if (route.page === 'agent') {
        return (
          <AppShell section="agents" onSignOut={() => signOut()}>
            <AgentDetailPage key={route.agentId} client={session.client} agentId={route.agentId} onUnauthorized={sessionEnded} />
          </AppShell>
        );
      }
      if (route.page === 'monitor') {
        return (
          <AppShell section="monitor" onSignOut={() => signOut()}>
            <MonitorPage client={session.client} tab={route.tab} runId={route.runId ?? null} onUnauthorized={sessionEnded} />
          </AppShell>
        );
      }
      if (route.page === 'marketplace') {
        return (
          <AppShell section="marketplace" onSignOut={() => signOut()}>
            <MarketplacePage key={route.tab} client={session.client} tab={route.tab} onUnauthorized={sessionEnded} />
          </AppShell>
        );
      }
      if (route.page === 'template') {
        return (
          <AppShell section="marketplace" onSignOut={() => signOut()}>
            <MarketplaceTemplatePage key={route.templateId} client={session.client} templateId={route.templateId} onUnauthorized={sessionEnded} />
          </AppShell>
        );
      }
      if (route.page === 'plans') {
        return (
          <AppShell section="flows" onSignOut={() => signOut()}>
            <PlansPage client={session.client} runId={route.runId ?? null} onUnauthorized={sessionEnded} />
          </AppShell>
        );
      }
      if (route.page === 'inbox') {
        return (
          <AppShell section="inbox" onSignOut={() => signOut()}>
            <InboxPage client={session.client} onUnauthorized={sessionEnded} />
          </AppShell>
        );
      }
      if (route.page === 'contacts' || route.page === 'contact' || route.page === 'drafts' || route.page === 'tasks' || route.page === 'follow-ups') {
        return (
          <AppShell section="crm" onSignOut={() => signOut()}>
            {route.page === 'contacts' ? <ContactsPage client={session.client} onUnauthorized={sessionEnded} /> : null}
            {route.page === 'contact' ? <ContactDetailPage key={route.contactId} client={session.client} contactId={route.contactId} onUnauthorized={sessionEnded} /> : null}
            {route.page === 'drafts' ? <DraftsPage client={session.client} draftId={route.draftId ?? null} onUnauthorized={sessionEnded} /> : null}
            {route.page === 'tasks' ? <TasksPage client={session.client} onUnauthorized={sessionEnded} /> : null}
            {route.page === 'follow-ups' ? <FollowUpsPage client={session.client} onUnauthorized={sessionEnded} /> : null}
          </AppShell>
        );
      }
      if (route.page === 'not-found') {
        return (
          <AppShell section={null} onSignOut={() => signOut()}>
            <NotFoundPage path={route.path} />
          </AppShell>
        );
      }
      return (
        <AppShell section="flows" onSignOut={() => signOut()}>
          <FlowsPage
            client={session.client}
            initial={session.initialFlows}
            onUnauthorized={sessionEnded}
          />
        </AppShell>
      );
  }
}
