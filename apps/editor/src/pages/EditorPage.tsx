import { ReactFlowProvider } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useEffect } from 'react';
import { Banner } from '../components/Banner';
import { Editor } from '../editor/Editor';
import { AgentActivityProvider } from '../monitor/agent-activity';
import { linkHandler } from '../router';
import { describeError, errorCode, isUnauthorized, type ApiClient } from '../trpc';
import { useRemote } from '../useRemote';

/** `/flows/:docId[/runs/:runId]`: loads the flow, then hands it to the canvas editor (following the run, if any). */
export function EditorPage({ client, docId, runId = null, onUnauthorized }: { client: ApiClient; docId: string; runId?: string | null; onUnauthorized: () => void }) {
  const load = useCallback(() => client.flows.get.query({ docId }), [client, docId]);
  const flow = useRemote(load);
  const unauthorized = flow.status === 'error' && isUnauthorized(flow.error);
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);

  if (flow.status === 'error' && !unauthorized) {
    const missing = errorCode(flow.error) === 'NOT_FOUND';
    return (
      <div className="page">
        <Banner
          tone="error"
          testId="error-banner"
          message={missing ? `There is no flow called “${docId}”. It may have been deleted.` : describeError(flow.error, 'open this flow')}
          action={
            <a className="button button--secondary button--small" href="/" onClick={linkHandler('/')}>
              Back to flows
            </a>
          }
        />
      </div>
    );
  }
  if (!flow.data || flow.status === 'loading') {
    return (
      <div className="splash" data-testid="loading">
        <p>Opening the flow…</p>
      </div>
    );
  }
  return (
    <ReactFlowProvider key={`${docId}`}>
      {/* Agent steps on the canvas show their agent's live status. */}
      <AgentActivityProvider client={client}>
        <Editor client={client} initial={flow.data} followRunId={runId} />
      </AgentActivityProvider>
    </ReactFlowProvider>
  );
}
