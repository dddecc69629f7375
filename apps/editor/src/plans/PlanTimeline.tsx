import { overlapsFromJournal, overlapsOf, timelineNote, timelineOf, type BoardStep } from './plan-model';

/** Which steps ran when: one bar per step on the run's time scale; bars side by side overlapped. */
export function PlanTimeline({ steps, now, journal }: { steps: BoardStep[]; now: number; journal?: { step: string | null; event: string }[] }) {
  const { bars, totalMs } = timelineOf(steps, now);
  if (!bars.length) return <p className="muted">Nothing has started yet.</p>;
  const overlaps = journal ? overlapsFromJournal(journal) : overlapsOf(steps);
  return (
    <div className="plan-timeline" data-testid="plan-timeline">
      {bars.map((b) => (
        <div className="plan-timeline__row" key={b.name}>
          <span className="plan-timeline__name">{b.name}</span>
          <div className="plan-timeline__track">
            <div
              className={`plan-timeline__bar plan-status--${b.status}`}
              style={{ left: `${b.left}%`, width: `${Math.min(b.width, 100 - b.left)}%` }}
              title={b.ms === null ? 'running' : `${b.ms} ms`}
              data-testid="timeline-bar"
              data-step={b.name}
            />
          </div>
          <span className="plan-timeline__ms">{b.ms === null ? '…' : `${(b.ms / 1000).toFixed(2)} s`}</span>
        </div>
      ))}
      <p className="plan-timeline__note muted" data-testid="timeline-note">{timelineNote(totalMs, overlaps, steps.some((s) => s.status === 'running'))}</p>
    </div>
  );
}
