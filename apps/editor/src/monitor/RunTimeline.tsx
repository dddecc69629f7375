import { useEffect, useMemo, useState } from 'react';
import { hrefOf, linkHandler, navigate } from '../router';
import type { ApiClient } from '../trpc';
import { isUnauthorized } from '../trpc';
import { LoadErrorBanner } from '../components/Banner';
import { formatDateTime } from '../format';
import { formatClock, formatDuration, nodeKindLabel, preview, type ModelCall, type Span, type Timeline } from './format';

/**
 * One run: its node activations drawn to scale on a time axis (waits and retry backoff shaded),
 * and the chosen step's parameters, input, output, error, effects and model calls. Reloads while
 * the run is active.
 */
export function RunTimeline({ client, runId, onUnauthorized }: { client: ApiClient; runId: string; onUnauthorized: () => void }) {
  const [data, setData] = useState<Timeline | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let cancelled = false;
    client.monitor.run.query({ runId }).then(
      (t) => {
        if (cancelled) return;
        setData(t);
        setError(null);
        setSelected((s) => s ?? pickDefault(t));
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
  }, [client, runId, tick, onUnauthorized]);

  const active = data ? ['running', 'waiting'].includes(data.run.status) : false;
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setTick((n) => n + 1), 2000);
    return () => clearInterval(t);
  }, [active]);

  const scale = useMemo(() => {
    if (!data) return null;
    const start = Date.parse(data.run.startedAt);
    const ends = data.spans.map((s) => Date.parse(s.endedAt ?? new Date().toISOString()));
    const end = Math.max(start + 1, data.run.finishedAt ? Date.parse(data.run.finishedAt) : Date.now(), ...ends);
    return { start, end, span: end - start };
  }, [data]);

  if (error) return <LoadErrorBanner error={error} task="load this run" onRetry={() => setTick((n) => n + 1)} />;
  if (!data || !scale) return <p className="muted">Loading the run…</p>;
  const { run } = data;
  const pos = (iso: string) => ((Date.parse(iso) - scale.start) / scale.span) * 100;
  const chosen = selected === null ? null : data.spans[selected] ?? null;
  const flowHref = hrefOf({ page: 'editor', docId: run.docId });
  const canvasHref = hrefOf({ page: 'editor', docId: run.docId, runId: run.id });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => ({ f, label: formatDuration(f * scale.span) }));

  return (
    <section className="mon-section" data-testid="run-timeline">
      <div className="mon-run-head">
        <div>
          <h2 className="mon-run-title">
            {run.flowName} <span className={`mon-state mon-state--${run.status}`} data-testid="run-status">{run.status}</span>
          </h2>
          <p className="muted">
            {run.flowKind} v{run.flowVersion} · {run.triggerType ?? 'run'} · started {formatDateTime(run.startedAt)}
            {run.finishedAt ? ` · took ${formatDuration(Date.parse(run.finishedAt) - Date.parse(run.startedAt))}` : ''}
            {run.owner ? <> · held by <code>{run.owner}</code></> : null} · {data.steps} stored steps · <code>{run.id}</code>
          </p>
          {run.replayOf ? (
            <p className="mon-replay" data-testid="replay-of">
              Replay of <RunLink runId={run.replayOf.runId} /> from <strong>{labelOf(data, run.replayOf.fromNodeId)}</strong>: the steps before it kept that run's results.
            </p>
          ) : null}
          {run.replays.length ? (
            <p className="mon-replay" data-testid="replays">
              Replayed as {run.replays.map((r, i) => (
                <span key={r.runId}>{i > 0 ? ', ' : ''}<RunLink runId={r.runId} /> <span className="muted">(from {labelOf(data, r.fromNodeId)}, {r.status})</span></span>
              ))}
            </p>
          ) : null}
          {run.error ? <p className="mon-error">{run.error.nodeId ? `${run.error.nodeId}: ` : ''}{run.error.message}</p> : run.reason ? <p className="muted">{run.reason}</p> : null}
        </div>
        <div className="mon-run-actions">
          <a className="button button--primary button--small" href={canvasHref} onClick={linkHandler(canvasHref)} data-testid="open-canvas"
            title={['running', 'waiting'].includes(run.status) ? 'The flow\'s canvas, following this run live' : 'The flow\'s canvas, showing how this run ended'}>Open on canvas</a>
          <a className="button button--secondary button--small" href={flowHref} onClick={linkHandler(flowHref)} data-testid="open-flow">Open flow</a>
        </div>
      </div>

      <div className="mon-gantt" data-testid="gantt">
        <div className="mon-gantt__axis" aria-hidden="true">
          {ticks.map((t) => <span key={t.f} style={{ left: `${t.f * 100}%` }}>{t.label}</span>)}
        </div>
        {data.spans.map((s, i) => {
          const left = pos(s.startedAt);
          const right = pos(s.endedAt ?? new Date(scale.end).toISOString());
          return (
            <button key={`${s.nodeId}#${s.activation}`} type="button" className={`mon-gantt__row${i === selected ? ' mon-gantt__row--selected' : ''}`}
              onClick={() => setSelected(i)} data-testid="span" data-node={s.nodeId} aria-pressed={i === selected}>
              <span className="mon-gantt__label">
                <strong>{s.label ?? s.nodeId}</strong>
                <span className="muted">{s.nodeType ? nodeKindLabel(s.nodeType) : ''}{s.activation > 1 ? ` #${s.activation}` : ''}</span>
              </span>
              <span className="mon-gantt__track">
                <span className={`mon-gantt__bar mon-gantt__bar--${s.status}${s.replayed ? ' mon-gantt__bar--replayed' : ''}`} style={{ left: `${left}%`, width: `max(3px, ${Math.max(0, right - left)}%)` }}
                  title={`${s.status} · ${formatDuration((s.endedAt ? Date.parse(s.endedAt) : scale.end) - Date.parse(s.startedAt))}`}>
                  {s.waits.map((w, k) => {
                    const wl = pos(w.from);
                    const wr = pos(w.to ?? new Date(scale.end).toISOString());
                    const inner = right - left > 0 ? ((wl - left) / (right - left)) * 100 : 0;
                    const width = right - left > 0 ? ((wr - wl) / (right - left)) * 100 : 0;
                    return <span key={k} className={`mon-gantt__wait mon-gantt__wait--${w.kind}`} style={{ left: `${inner}%`, width: `${width}%` }} />;
                  })}
                </span>
              </span>
              <span className="mon-gantt__dur">
                {formatDuration((s.endedAt ? Date.parse(s.endedAt) : scale.end) - Date.parse(s.startedAt))}
                {s.attempts > 1 ? ` · ${s.attempts} attempts` : ''}
                {s.modelCalls.length ? ` · ${s.modelCalls.length} model call${s.modelCalls.length === 1 ? '' : 's'}` : ''}
                {s.replayed ? ' · recorded' : ''}
              </span>
            </button>
          );
        })}
        <div className="mon-gantt__legend muted">
          <span><i className="mon-swatch mon-gantt__bar--succeeded" /> succeeded</span>
          <span><i className="mon-swatch mon-gantt__bar--failed" /> failed</span>
          <span><i className="mon-swatch mon-gantt__bar--running" /> running</span>
          <span><i className="mon-swatch mon-gantt__wait--delay" /> waiting (delay, approval, agent's proposal, retry backoff)</span>
          {data.spans.some((s) => s.replayed) ? <span><i className="mon-swatch mon-gantt__bar--succeeded mon-gantt__bar--replayed" /> recorded result (not run again)</span> : null}
        </div>
      </div>

      {chosen ? <StepDetails span={chosen} replay={replayable(data, chosen) ? { client, runId: run.id } : null} /> : null}
      {data.modelCalls.length ? (
        <div className="mon-card">
          <h3>Other model calls of this run</h3>
          {data.modelCalls.map((c) => <ModelCallDetails key={c.id} call={c} />)}
        </div>
      ) : null}
      {data.markers.length ? (
        <div className="mon-card">
          <h3>Runtime events</h3>
          <ul className="mon-markers">
            {data.markers.map((m) => <li key={m.seq}><code>{formatClock(m.at)}</code> {MARKER_TEXT[m.kind] ?? m.kind}{m.nodeId ? ` at ${m.nodeId}` : ''}</li>)}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

/** What each runtime event of a run's journal means (noted with the run's next step). */
const MARKER_TEXT: Record<string, string> = {
  restored: 'resumed from its stored state (a restart, an adoption, or a write that failed)',
  woken: 'woken from its stored state (it was parked; a decision, a timer or an event arrived)',
  replayed: 'started as a replay, from the recorded state',
};

/** The step to show first: a failed one, else a waiting one, else the last. */
function pickDefault(t: Timeline): number | null {
  if (!t.spans.length) return null;
  const failed = t.spans.findIndex((s) => s.status === 'failed');
  if (failed >= 0) return failed;
  const running = t.spans.findIndex((s) => !s.endedAt);
  if (running >= 0) return running;
  const withCalls = t.spans.findIndex((s) => s.modelCalls.length > 0);
  return withCalls >= 0 ? withCalls : t.spans.length - 1;
}

/** A step of a finished workflow run that ran in it (not one a replay reused) can be replayed from. */
function replayable(t: Timeline, s: Span): boolean {
  return t.run.flowKind === 'workflow' && ['completed', 'failed', 'skipped', 'cancelled'].includes(t.run.status) && !s.replayed && !s.decided && s.activation === 1;
}

const labelOf = (t: Timeline, nodeId: string) => t.spans.find((s) => s.nodeId === nodeId)?.label ?? nodeId;

function RunLink({ runId }: { runId: string }) {
  const href = hrefOf({ page: 'monitor', tab: 'history', runId });
  return <a className="flow-link" href={href} onClick={linkHandler(href)}><code>{runId.slice(0, 8)}</code></a>;
}

/**
 * "Replay from here": a new run of the same flow version that starts where this step started,
 * with the recorded results of the steps before it (no model is asked again for them).
 */
function ReplayButton({ client, runId, nodeId }: { client: ApiClient; runId: string; nodeId: string }) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const replay = () => {
    setBusy(true);
    setFailure(null);
    client.monitor.replay.mutate({ runId, fromNodeId: nodeId }).then(
      (r) => navigate(hrefOf({ page: 'monitor', tab: 'history', runId: r.runId })),
      (e: unknown) => {
        setBusy(false);
        setFailure(e instanceof Error ? e.message : String(e));
      },
    );
  };
  return (
    <span className="mon-replay-action">
      <button type="button" className="button button--secondary button--small" onClick={replay} disabled={busy} data-testid="replay-from-here"
        title="Run this step and the ones after it again; the steps before it keep their recorded results (no model call, no effect again)">
        {busy ? 'Replaying…' : 'Replay from here'}
      </button>
      {failure ? <span className="mon-error" role="alert">{failure}</span> : null}
    </span>
  );
}

function StepDetails({ span: s, replay }: { span: Span; replay: { client: ApiClient; runId: string } | null }) {
  return (
    <div className="mon-card" data-testid="step-details">
      <div className="mon-step-head">
        <h3>
          {s.label ?? s.nodeId} <span className="muted">{s.nodeType ? nodeKindLabel(s.nodeType) : ''}</span>{' '}
          <span className={`mon-state mon-state--${s.status}`}>{s.status}</span>
        </h3>
        {replay ? <ReplayButton client={replay.client} runId={replay.runId} nodeId={s.nodeId} /> : null}
      </div>
      {s.replayed ? <p className="muted" data-testid="step-replayed">Recorded result of the replayed run: this step did not run again (no model call, no effect).</p> : null}
      {s.decided ? <p className="muted" data-testid="step-decided">Decided in the step that reached it: a filter or an if has no step of its own. To run it again, replay from the step before it.</p> : null}
      <dl className="mon-facts">
        <dt>Started</dt><dd>{formatDateTime(s.startedAt)}</dd>
        <dt>Ended</dt><dd>{s.endedAt ? formatDateTime(s.endedAt) : 'not yet'}</dd>
        <dt>Attempts</dt><dd>{s.attempts || 1}</dd>
        {s.waits.length ? <><dt>Waited</dt><dd>{s.waits.map((w, i) => <span key={i}>{w.kind}{w.until ? ` until ${formatClock(w.until)}` : ''} for {formatDuration((w.to ? Date.parse(w.to) : Date.now()) - Date.parse(w.from))}{w.to ? '' : ' so far'}{i < s.waits.length - 1 ? '; ' : ''}</span>)}</dd></> : null}
        {s.reason ? <><dt>Reason</dt><dd>{s.reason}</dd></> : null}
      </dl>
      {s.error ? <p className="mon-error" data-testid="step-error"><strong>{s.error.code}</strong>: {s.error.message}</p> : null}
      <div className="mon-io">
        <div><h4>Parameters</h4><pre>{preview(s.params)}</pre></div>
        <div><h4>Input</h4><pre>{preview(s.input)}</pre></div>
        <div><h4>Output</h4><pre data-testid="step-output">{preview(s.output)}</pre></div>
      </div>
      {s.effects.length ? (
        <>
          <h4>Effects</h4>
          <ul className="mon-effects" data-testid="step-effects">
            {s.effects.map((e) => <li key={e.key}>{effectLabel(e.kind)} {e.record ? <RecordLink type={e.record.type} id={e.record.id} /> : <span className="muted">(nothing created)</span>} <span className="muted">at {formatClock(e.at)}</span></li>)}
          </ul>
        </>
      ) : null}
      {s.modelCalls.length ? (
        <>
          <h4>Model calls</h4>
          {s.modelCalls.map((c) => <ModelCallDetails key={c.id} call={c} />)}
        </>
      ) : null}
    </div>
  );
}

const EFFECT_LABEL: Record<string, string> = {
  email: 'Sent email', draft: 'Created draft', task: 'Created task', contact: 'Updated contact', notification: 'Sent notification',
  followUp: 'Scheduled follow-up', webhook: 'Called webhook', memory: 'Stored memory',
};
const effectLabel = (kind: string) => EFFECT_LABEL[kind] ?? kind;

/** Where the editor shows a CRM record an effect created or changed (the list, for kinds without a page of their own). */
function recordHref(type: string, id: string): string | null {
  switch (type) {
    case 'contact':
      return hrefOf({ page: 'contact', contactId: id });
    case 'draft':
      return hrefOf({ page: 'drafts', draftId: id });
    case 'task':
      return hrefOf({ page: 'tasks' });
    case 'followUp':
      return hrefOf({ page: 'follow-ups' });
    case 'notification':
      return hrefOf({ page: 'inbox' });
    default:
      return null;
  }
}

function RecordLink({ type, id }: { type: string; id: string }) {
  const href = recordHref(type, id);
  return (
    <span className="mon-record" data-testid="effect-record">
      {href ? <a className="flow-link" href={href} onClick={linkHandler(href)} title={`Open the ${type === 'followUp' ? 'follow-up' : type}`}><code>{id}</code></a> : <code>{id}</code>}
    </span>
  );
}

function ModelCallDetails({ call: c }: { call: ModelCall }) {
  const tokens = c.promptTokens !== null || c.completionTokens !== null ? `${c.promptTokens ?? '?'} in / ${c.completionTokens ?? '?'} out tokens` : 'tokens not reported';
  return (
    <details className="mon-call" data-testid="model-call">
      <summary>
        <span className={`mon-state mon-state--${c.status === 'ok' ? 'succeeded' : 'failed'}`}>{c.status}</span>
        <strong>{c.purpose}</strong> <span className="muted">{c.model} · {formatDuration(c.latencyMs)} · {c.promptChars.toLocaleString()} prompt chars · {tokens}{c.attempts > 1 ? ` · ${c.attempts} attempts` : ''}</span>
      </summary>
      <dl className="mon-facts">
        <dt>At</dt><dd>{formatDateTime(c.at)}</dd>
        <dt>Prompt size</dt><dd>{c.promptChars.toLocaleString()} characters</dd>
        <dt>Tokens</dt><dd>{tokens}</dd>
        <dt>Latency</dt><dd>{c.latencyMs} ms</dd>
      </dl>
      {c.error ? <p className="mon-error">{c.error}</p> : null}
      <h4>Response</h4>
      <pre data-testid="model-response">{preview(c.response)}</pre>
    </details>
  );
}
