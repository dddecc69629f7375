import { lanesOf, outputGist, type BoardStep } from './plan-model';

export interface BoardCard extends BoardStep {
  skillName: string;
  agentName: string;
  attempt?: number;
  error?: string | null;
  output?: unknown;
  /** Problems the analyser pinned on this step. */
  problems?: { severity: 'error' | 'warning'; message: string }[];
}

const STATUS_LABEL: Record<string, string> = {
  pending: 'Waiting', running: 'Running', done: 'Done', failed: 'Failed', skipped: 'Skipped', cancelled: 'Cancelled',
};

const duration = (s: BoardCard) =>
  s.startedAt && s.finishedAt ? `${((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s` : null;

/**
 * A plan drawn as lanes, one per agent, with its steps in columns by dependency level: steps in
 * the same column of different lanes run at the same time. With `onReassign`, each step offers the
 * agents able to run it.
 */
export function PlanBoard({
  steps,
  agentOptions,
  onReassign,
  onToggleCritical,
}: {
  steps: BoardCard[];
  agentOptions?: (step: BoardCard) => { id: string; name: string }[];
  onReassign?: (step: BoardCard, agentId: string) => void;
  onToggleCritical?: (step: BoardCard, critical: boolean) => void;
}) {
  const lanes = lanesOf(steps);
  const columns = Math.max(1, ...lanes.flatMap((l) => l.steps.map((s) => s.level + 1)));
  return (
    <div className="plan-board" data-testid="plan-board" style={{ ['--plan-columns' as string]: columns }}>
      {lanes.map((lane) => (
        <div className="plan-lane" key={lane.agentId} data-testid="plan-lane" data-agent-id={lane.agentId}>
          <div className="plan-lane__head">
            <span className="plan-lane__agent">{lane.steps[0]?.agentName ?? lane.agentId}</span>
            <span className="muted">{lane.steps.length} step{lane.steps.length === 1 ? '' : 's'}</span>
          </div>
          <div className="plan-lane__cells">
            {lane.steps.map((s) => (
              <article
                key={s.name}
                className={`plan-step plan-step--${s.status ?? 'draft'}`}
                style={{ gridColumn: s.level + 1 }}
                data-testid="plan-step"
                data-step={s.name}
                data-status={s.status ?? 'draft'}
              >
                <header className="plan-step__head">
                  <strong className="plan-step__name">{s.name}</strong>
                  {s.status ? <span className={`plan-status plan-status--${s.status}`}>{STATUS_LABEL[s.status] ?? s.status}</span> : null}
                </header>
                <div className="plan-step__skill">{s.skillName}</div>
                {s.dependsOn.length ? <div className="plan-step__deps">after {s.dependsOn.join(', ')}</div> : <div className="plan-step__deps">starts at once</div>}
                {onReassign && agentOptions ? (
                  <label className="plan-step__field">
                    <span>Agent</span>
                    <select
                      className="input input--compact"
                      value={s.agentId}
                      data-testid="step-agent"
                      onChange={(e) => onReassign(s, e.target.value)}
                    >
                      {agentOptions(s).map((a) => (
                        <option key={a.id} value={a.id}>{a.name}</option>
                      ))}
                    </select>
                  </label>
                ) : null}
                {onToggleCritical ? (
                  <label className="plan-step__check">
                    <input type="checkbox" checked={s.critical} onChange={(e) => onToggleCritical(s, e.target.checked)} /> Critical (a failure stops the plan)
                  </label>
                ) : !s.critical ? <div className="plan-step__deps">not critical</div> : null}
                {s.attempt ? <div className="plan-step__meta">attempt {s.attempt + 1}</div> : null}
                {duration(s) ? <div className="plan-step__meta">{duration(s)}</div> : null}
                {s.error && s.status !== 'done' ? <div className="plan-step__error">{s.error}</div> : null}
                {(s.problems ?? []).map((p, i) => (
                  <div key={i} className={`plan-step__problem plan-step__problem--${p.severity}`} data-testid="step-problem">{p.message}</div>
                ))}
                {s.output !== undefined && s.output !== null ? (
                  <details className="plan-step__output">
                    <summary>{outputGist(s.output) || 'Output'}</summary>
                    <pre>{JSON.stringify(s.output, null, 2)}</pre>
                  </details>
                ) : null}
              </article>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}
