import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ApiClient } from '../trpc';
import { describeError, isUnauthorized } from '../trpc';
import { Banner, LoadErrorBanner } from '../components/Banner';
import { Chart, type ChartSeries } from './Chart';
import { formatDuration, formatMinutes, nodeKindLabel, percent, type Metrics } from './format';

const PERIODS = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
] as const;

/** Every day of the period (local), so days without data show as gaps, not as missing x values. */
function daysOf(from: string, to: string, timeZone: string): string[] {
  const out: string[] = [];
  const fmt = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  for (let t = Date.parse(from); t < Date.parse(to); t += 86_400_000) out.push(fmt.format(new Date(t)));
  const last = fmt.format(new Date(Date.parse(to) - 1));
  if (out[out.length - 1] !== last) out.push(last);
  return [...new Set(out)];
}

/** The seed's success metrics (with targets) and the operational figures, over a chosen period. */
export function MetricsView({ client, onUnauthorized }: { client: ApiClient; onUnauthorized: () => void }) {
  const [days, setDays] = useState<number>(30);
  const [data, setData] = useState<Metrics | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const timeZone = useMemo(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', []);

  useEffect(() => {
    let cancelled = false;
    const to = new Date();
    const from = new Date(to.getTime() - days * 86_400_000);
    client.monitor.metrics.query({ from: from.toISOString(), to: to.toISOString(), timeZone }).then(
      (m) => {
        if (!cancelled) {
          setData(m);
          setError(null);
        }
      },
      (e: unknown) => {
        if (cancelled) return;
        if (isUnauthorized(e)) onUnauthorized();
        else setError(e);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [client, days, timeZone, tick, onUnauthorized]);

  const charts = useMemo(() => {
    if (!data) return null;
    const s = data.success;
    const axis = daysOf(data.period.from, data.period.to, data.period.timeZone);
    const pick = <T extends { day: string }>(rows: T[], f: (r: T) => number | null) => {
      const by = new Map(rows.map((r) => [r.day, f(r)]));
      return axis.map((d) => by.get(d) ?? null);
    };
    const pct = (v: number) => `${Math.round(v * 100)}%`;
    return {
      axis,
      completion: [{ label: 'Tasks completed', values: pick(s.taskCompletion.daily, (r) => r.rate), color: '#2563eb', format: pct }] as ChartSeries[],
      engagement: [{ label: 'Suggestions acted on', values: pick(s.engagement.daily, (r) => r.rate), color: '#7c3aed', format: pct }] as ChartSeries[],
      coherence: [{ label: 'Consistent answers', values: pick(s.coherence?.daily ?? [], (r) => r.rate), color: '#b45309', format: pct }] as ChartSeries[],
      saved: [{ label: 'Time saved', values: pick(s.timeSaved.daily, (r) => r.minutes / 60), color: '#059669', bars: true, format: (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} h` }] as ChartSeries[],
    };
  }, [data]);

  return (
    <section className="mon-section" data-testid="metrics">
      <div className="mon-filters">
        <div className="segmented" role="group" aria-label="Period">
          {PERIODS.map((p) => (
            <button key={p.days} type="button" className={`segmented__item${days === p.days ? ' segmented__item--active' : ''}`} aria-pressed={days === p.days}
              onClick={() => setDays(p.days)} data-testid={`period-${p.days}`}>
              Last {p.label}
            </button>
          ))}
        </div>
        <span className="muted">Days in {timeZone}</span>
      </div>
      {error ? <LoadErrorBanner error={error} task="load the metrics" onRetry={() => setTick((n) => n + 1)} /> : null}
      {!data || !charts ? (
        <p className="muted">Loading metrics…</p>
      ) : (
        <>
          <h2 className="mon-h2">Success metrics</h2>
          <div className="mon-kpis">
            <Kpi testId="kpi-completion" label="Tasks completed by agents" value={percent(data.success.taskCompletion.rate)} target="target > 80%"
              good={data.success.taskCompletion.rate === null ? null : data.success.taskCompletion.rate > 0.8}
              detail={`${data.success.taskCompletion.succeeded} of ${data.success.taskCompletion.assigned} tasks`} />
            <Kpi testId="kpi-engagement" label="Suggestions acted on" value={percent(data.success.engagement.rate)} target="target > 50%"
              good={data.success.engagement.rate === null ? null : data.success.engagement.rate > 0.5}
              detail={`${data.success.engagement.acted} of ${data.success.engagement.shown} shown · ${data.success.engagement.dismissed} dismissed`} />
            <Kpi testId="kpi-coherence" label="Coherence across sessions" value={percent(data.success.coherence?.rate ?? null)} target="target > 90%"
              good={data.success.coherence?.rate == null ? null : data.success.coherence.rate > 0.9}
              detail={data.success.coherence?.asked
                ? `${data.success.coherence.consistent} of ${data.success.coherence.asked} memory probes answered consistently`
                : 'No memory probe in this period: run one below'} />
            <Kpi testId="kpi-saved" label="Time saved per week" value={`${data.success.timeSaved.hoursPerWeek.toFixed(1)} h`} target="target > 2 h/week"
              good={data.success.timeSaved.steps ? data.success.timeSaved.hoursPerWeek > 2 : null}
              detail={`${formatMinutes(data.success.timeSaved.minutes)} over ${data.success.timeSaved.steps} automated steps`} />
          </div>
          <div className="mon-charts">
            <div className="mon-card"><h3>Task completion per day</h3><Chart label="Task completion rate per day" testId="chart-completion" days={charts.axis} series={charts.completion} target={{ value: 0.8, label: '80% target' }} yMax={1.05} /></div>
            <div className="mon-card"><h3>Suggestion engagement per day</h3><Chart label="Suggestion engagement rate per day" testId="chart-engagement" days={charts.axis} series={charts.engagement} target={{ value: 0.5, label: '50% target' }} yMax={1.05} /></div>
            <div className="mon-card"><h3>Coherence per day</h3><Chart label="Memory probes answered consistently per day" testId="chart-coherence" days={charts.axis} series={charts.coherence} target={{ value: 0.9, label: '90% target' }} yMax={1.05} /></div>
            <div className="mon-card"><h3>Time saved per day</h3><Chart label="Hours saved per day" testId="chart-saved" days={charts.axis} series={charts.saved} /></div>
          </div>

          <div className="mon-split">
            <div className="mon-card">
              <h3>Per agent</h3>
              {data.success.taskCompletion.perAgent.length === 0 ? <p className="muted">No agent finished a task in this period.</p> : (
                <table className="table mon-table" data-testid="per-agent">
                  <thead><tr><th>Agent</th><th className="table__num">Succeeded</th><th className="table__num">Failed</th><th className="table__num">Rate</th></tr></thead>
                  <tbody>
                    {data.success.taskCompletion.perAgent.map((a) => (
                      <tr key={a.agentId ?? ''}><td>{a.name}</td><td className="table__num">{a.succeeded}</td><td className="table__num">{a.assigned - a.succeeded}</td><td className="table__num">{percent(a.rate)}</td></tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
            <div className="mon-card">
              <h3>Per behavior</h3>
              {data.success.engagement.perBehavior.length === 0 ? <p className="muted">No suggestion was shown in this period.</p> : (
                <table className="table mon-table" data-testid="per-behavior">
                  <thead><tr><th>Source</th><th className="table__num">Shown</th><th className="table__num">Acted</th><th className="table__num">Dismissed</th><th className="table__num">Rate</th></tr></thead>
                  <tbody>
                    {data.success.engagement.perBehavior.map((b) => (
                      <tr key={b.behavior ?? ''}><td>{b.name}</td><td className="table__num">{b.shown}</td><td className="table__num">{b.acted}</td><td className="table__num">{b.dismissed}</td><td className="table__num">{percent(b.rate)}</td></tr>
                    ))}
                  </tbody>
                </table>
              )}
              {data.success.engagement.perAction.length ? (
                <p className="muted">Actions taken: {data.success.engagement.perAction.map((a) => `${a.action} ×${a.acted}`).join(', ')}</p>
              ) : null}
            </div>
          </div>

          <Coherence client={client} data={data} onChanged={() => setTick((n) => n + 1)} />

          <TimeSaved client={client} data={data} onChanged={() => setTick((n) => n + 1)} />

          <h2 className="mon-h2">Operations</h2>
          <div className="mon-kpis mon-kpis--small">
            <Small label="runs started" value={data.runs.started} />
            <Small label="completed" value={data.runs.completed} />
            <Small label="failed" value={data.runs.failed} testId="ops-failed" />
            <Small label="skipped" value={data.runs.skipped} />
            <Small label="model calls" value={data.models.calls} />
            <Small label="model errors" value={data.models.errors} />
            <Small label="tokens" value={data.models.promptTokens + data.models.completionTokens} />
            <Small label="p95 model latency" value={data.models.p95LatencyMs === null ? '—' : formatDuration(data.models.p95LatencyMs)} />
            <Small label="timers overdue now" value={data.now.timersOverdue} />
            <Small label="agent mailbox now" value={data.now.agentMailbox} />
          </div>
          <div className="mon-card">
            <h3>Runs per flow</h3>
            {data.runs.perFlow.length === 0 ? <p className="muted">No runs in this period.</p> : (
              <table className="table mon-table" data-testid="per-flow">
                <thead><tr><th>Flow</th><th className="table__num">Started</th><th className="table__num">Completed</th><th className="table__num">Failed</th><th className="table__num">Skipped</th><th className="table__num">Median</th><th className="table__num">p95</th></tr></thead>
                <tbody>
                  {data.runs.perFlow.map((f) => (
                    <tr key={f.docId}>
                      <td>{f.name} <span className="muted">{f.kind}</span></td>
                      <td className="table__num">{f.started}</td>
                      <td className="table__num">{f.byStatus.completed ?? 0}</td>
                      <td className="table__num">{f.byStatus.failed ?? 0}</td>
                      <td className="table__num">{f.byStatus.skipped ?? 0}</td>
                      <td className="table__num">{f.p50Seconds === null ? '—' : formatDuration(f.p50Seconds * 1000)}</td>
                      <td className="table__num">{f.p95Seconds === null ? '—' : formatDuration(f.p95Seconds * 1000)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </>
      )}
    </section>
  );
}

function Kpi({ label, value, target, detail, good, testId }: { label: string; value: string; target: string; detail: string; good: boolean | null; testId: string }) {
  return (
    <div className={`mon-kpi mon-kpi--big${good === null ? '' : good ? ' mon-kpi--good' : ' mon-kpi--bad'}`} data-testid={testId}>
      <span className="mon-kpi__label">{label}</span>
      <span className="mon-kpi__value" data-testid={`${testId}-value`}>{value}</span>
      <span className="mon-kpi__target">{target}</span>
      <span className="mon-kpi__detail">{detail}</span>
    </div>
  );
}

function Small({ label, value, testId }: { label: string; value: number | string; testId?: string }) {
  return (
    <div className="mon-kpi" data-testid={testId}>
      <span className="mon-kpi__value">{typeof value === 'number' ? value.toLocaleString() : value}</span>
      <span className="mon-kpi__label">{label}</span>
    </div>
  );
}

/**
 * Coherence across sessions per agent, the memory probe on demand, and its latest questions and
 * answers (the audit trail of the figure).
 */
function Coherence({ client, data, onChanged }: { client: ApiClient; data: Metrics; onChanged: () => void }) {
  const c = data.success.coherence;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [trail, setTrail] = useState<Awaited<ReturnType<ApiClient['monitor']['coherenceProbes']['query']>>>([]);
  useEffect(() => {
    let cancelled = false;
    client.monitor.coherenceProbes.query({ limit: 8 }).then((t) => { if (!cancelled) setTrail(t); }, () => undefined);
    return () => {
      cancelled = true;
    };
  }, [client, data]);
  const probe = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await client.monitor.probeCoherence.mutate({});
      setNote(r.asked === 0 ? 'No agent has facts in its memory yet: nothing to ask.'
        : `Asked ${r.asked} question${r.asked === 1 ? '' : 's'}: ${r.consistent} answered consistently${r.failed.length ? `, ${r.failed.length} not answered (model error)` : ''}.`);
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="mon-split">
      <div className="mon-card" data-testid="coherence">
        <h3>Coherence per agent</h3>
        <p className="muted">The memory probe asks each agent, in a new session, about facts it stored earlier and checks the answer against its memory.</p>
        <div className="mon-probe">
          <button type="button" className="button button--secondary button--small" onClick={() => void probe()} disabled={busy} data-testid="run-probe">
            {busy ? 'Asking…' : 'Run the memory probe'}
          </button>
          {note ? <span className="muted" data-testid="probe-note">{note}</span> : null}
        </div>
        {error ? <Banner tone="error" message={describeError(error, 'run the memory probe')} /> : null}
        {!c || c.perAgent.length === 0 ? <p className="muted">No memory probe in this period.</p> : (
          <table className="table mon-table" data-testid="coherence-per-agent">
            <thead><tr><th>Agent</th><th className="table__num">Asked</th><th className="table__num">Consistent</th><th className="table__num">Rate</th></tr></thead>
            <tbody>
              {c.perAgent.map((a) => (
                <tr key={a.agentId}><td>{a.name}</td><td className="table__num">{a.asked}</td><td className="table__num">{a.consistent}</td><td className="table__num">{percent(a.rate)}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="mon-card">
        <h3>Latest probes</h3>
        {trail.length === 0 ? <p className="muted">None yet.</p> : (
          <table className="table mon-table" data-testid="coherence-trail">
            <thead><tr><th>Agent</th><th>Fact</th><th>Answer</th><th /></tr></thead>
            <tbody>
              {trail.map((t) => (
                <tr key={t.id} title={`Stored: ${JSON.stringify(t.expected)}\nAsked: ${t.question}`}>
                  <td>{t.agentName}</td><td><code>{t.key}</code></td><td className="mon-answer">{t.answer}</td>
                  <td><span className={`mon-state mon-state--${t.consistent ? 'succeeded' : 'failed'}`}>{t.consistent ? 'consistent' : 'inconsistent'}</span></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

/** Time saved per flow, and the minutes per step kind behind it, editable for all flows or one. */
function TimeSaved({ client, data, onChanged }: { client: ApiClient; data: Metrics; onChanged: () => void }) {
  const saved = data.success.timeSaved;
  const [scope, setScope] = useState<string>('');
  const [error, setError] = useState<unknown>(null);
  const kinds = Object.keys(saved.estimates.defaults);
  const valueOf = (kind: string) => (scope ? saved.estimates.perFlow[scope]?.[kind] : undefined) ?? saved.estimates.user[kind] ?? 0;
  const overridden = (kind: string) => (scope ? saved.estimates.perFlow[scope]?.[kind] !== undefined : saved.estimates.user[kind] !== saved.estimates.defaults[kind]);
  const set = useCallback(async (kind: string, minutes: number | null) => {
    try {
      await client.monitor.setEstimate.mutate({ nodeType: kind, minutes, ...(scope ? { docId: scope } : {}) });
      setError(null);
      onChanged();
    } catch (e) {
      setError(e);
    }
  }, [client, scope, onChanged]);
  return (
    <div className="mon-split">
      <div className="mon-card">
        <h3>Time saved per flow</h3>
        {saved.perFlow.length === 0 ? <p className="muted">No automated step succeeded in this period.</p> : (
          <table className="table mon-table" data-testid="saved-per-flow">
            <thead><tr><th>Flow</th><th className="table__num">Steps</th><th className="table__num">Saved</th></tr></thead>
            <tbody>
              {saved.perFlow.map((f) => (
                <tr key={f.docId} title={Object.entries(f.byKind).map(([k, v]) => `${nodeKindLabel(k)}: ${v.steps} × → ${formatMinutes(v.minutes)}`).join('\n')}>
                  <td>{f.name}</td><td className="table__num">{f.steps}</td><td className="table__num">{formatMinutes(f.minutes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="mon-card" data-testid="estimates">
        <h3>Minutes saved per successful step</h3>
        <p className="muted">What a person would spend doing each step by hand. Set them for all flows, or for one flow.</p>
        <select className="input input--compact" value={scope} onChange={(e) => setScope(e.target.value)} aria-label="Estimates for" data-testid="estimates-scope">
          <option value="">All flows</option>
          {saved.perFlow.map((f) => <option key={f.docId} value={f.docId}>{f.name}</option>)}
        </select>
        {error ? <Banner tone="error" message={describeError(error, 'save the estimate')} /> : null}
        <table className="table mon-table mon-estimates">
          <tbody>
            {kinds.map((k) => (
              <tr key={`${scope}:${k}`}>
                <td>{nodeKindLabel(k)}</td>
                <td className="table__num">
                  <input className="input input--compact mon-minutes" type="number" min={0} max={1440} step={0.5} defaultValue={valueOf(k)} aria-label={`Minutes for ${nodeKindLabel(k)}`}
                    data-testid={`estimate-${k}`}
                    onBlur={(e) => {
                      const v = Number(e.target.value);
                      if (e.target.value !== '' && Number.isFinite(v) && v !== valueOf(k)) void set(k, v);
                    }} /> min
                </td>
                <td>{overridden(k) ? <button type="button" className="button button--ghost button--small" onClick={() => void set(k, null)}>Reset</button> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
