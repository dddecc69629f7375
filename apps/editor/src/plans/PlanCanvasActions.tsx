import type { FlowDocument } from '@switchyard/schema';
import { useState } from 'react';
import { describeError, type ApiClient } from '../trpc';

/**
 * The canvas's actions for a plan (in place of Run with a test event and Deploy, which are for
 * workflows): run the plan as drawn, then follow it on the canvas (`onStarted`: its live overlay).
 */
export function PlanCanvasActions({ client, document, errorCount, onError, onStarted }: {
  client: ApiClient; document: FlowDocument; errorCount: number; onError: (text: string) => void; onStarted: (runId: string) => void;
}) {
  const [starting, setStarting] = useState(false);
  return (
    <button
      type="button"
      className="button button--primary button--small"
      disabled={starting || errorCount > 0 || document.nodes.length === 0}
      title={errorCount > 0 ? `Fix ${errorCount} problem${errorCount === 1 ? '' : 's'} before running` : 'Run the plan as drawn'}
      data-testid="run-plan"
      onClick={() => {
        setStarting(true);
        client.plans.run.mutate({ document }).then(
          (run) => {
            setStarting(false);
            onStarted(run.id);
          },
          (e: unknown) => {
            setStarting(false);
            onError(describeError(e, 'run the plan'));
          },
        );
      }}
    >
      {starting ? 'Starting…' : 'Run plan'}
    </button>
  );
}
