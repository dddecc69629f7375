import type { Diagnostic, FlowDocument } from '@switchyard/schema';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Banner, LoadErrorBanner } from '../components/Banner';
import { formatDateTime } from '../format';
import { PlanBoard, type BoardCard } from '../plans/PlanBoard';
import { PlanTimeline } from '../plans/PlanTimeline';
import { capableAgents } from '../plans/plan-model';
import '../plans/plans.css';
import { hrefOf, linkHandler, navigate } from '../router';
import { describeError, isUnauthorized, type ApiClient, type QueryOutput } from '../trpc';
import { useRemote } from '../useRemote';

type PlanRun = QueryOutput<ApiClient['plans']['get']>;
type Proposal = Awaited<ReturnType<ApiClient['plans']['fromTask']['mutate']>>;
type AgentItem = QueryOutput<ApiClient['agents']['list']>['items'][number];
type SkillItem = QueryOutput<ApiClient['skills']['list']>['items'][number];

const EXAMPLES = ['Research Ada Lovelace and draft a personalized email', 'Research Ada Lovelace and Grace Hopper, then draft an email to Ada Lovelace'];

/** `/plans`: "Plan from a task" and recent runs. `/plans/runs/:id`: one run, live. */
export function PlansPage({ client, runId, onUnauthorized }: { client: ApiClient; runId: string | null; onUnauthorized: () => void }) {
  const loadAgents = useCallback(() => client.agents.list.query({ limit: 200 }), [client]);
  const agents = useRemote(loadAgents);
  const loadSkills = useCallback(() => client.skills.list.query({}), [client]);
  const skills = useRemote(loadSkills);
  const unauthorized = [agents, skills].some((r) => r.status === 'error' && isUnauthorized(r.error));
  useEffect(() => {
    if (unauthorized) onUnauthorized();
  }, [unauthorized, onUnauthorized]);
  const lookup = useMemo(() => ({
    agents: agents.data?.items ?? [],
    agentName: (id: string) => agents.data?.items.find((a) => a.id === id)?.name ?? (id === 'any' ? 'Any capable agent' : 'Unknown agent'),
    skill: (id: string) => skills.data?.items.find((s) => s.id === id),
  }), [agents.data, skills.data]);
  return runId
    ? <PlanRunView key={runId} client={client} runId={runId} lookup={lookup} />
    : <PlanComposer client={client} lookup={lookup} />;
}

interface Lookup {
  agents: AgentItem[];
  agentName: (id: string) => string;
  skill: (id: string) => SkillItem | undefined;
}

/** The steps of a plan document as board cards, with the analyser's problems pinned on each. */
function cardsOf(doc: FlowDocument, diagnostics: Diagnostic[], lookup: Lookup): BoardCard[] {
  const nameOf = new Map(doc.nodes.map((n) => [n.id, String(n.params.name ?? n.id)]));
  return doc.nodes.map((n) => {
    const p = n.params as { name?: string; skill?: string; agent?: string; critical?: boolean };
    return {
      name: p.name ?? n.id, skill: p.skill ?? '', skillName: lookup.skill(p.skill ?? '')?.name ?? p.skill ?? '?',
      agentId: p.agent ?? 'any', agentName: lookup.agentName(p.agent ?? 'any'), critical: p.critical !== false,
      dependsOn: doc.edges.filter((e) => e.target === n.id).map((e) => nameOf.get(e.source) ?? e.source),
      problems: diagnostics.filter((d) => d.nodeId === n.id).map((d) => ({ severity: d.severity, message: d.message })),
    };
  });
}

function PlanComposer({ client, lookup }: { client: ApiClient; lookup: Lookup }) {
  const [task, setTask] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [proposal, setProposal] = useState<Proposal | null>(null);
  const loadRuns = useCallback(() => client.plans.list.query({ limit: 20 }), [client]);
  const runs = useRemote(loadRuns);

  const act = async (what: string, f: () => Promise<void>) => {
    setBusy(what);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(describeError(e, what));
    } finally {
      setBusy(null);
    }
  };

  const propose = () => void act('plan the task', async () => {
    setProposal(await client.plans.fromTask.mutate({ description: task }));
  });

  /** Edits a step's params, then asks the runtime for the plan's diagnostics again. */
  const editStep = (name: string, patch: Record<string, unknown>) => {
    if (!proposal) return;
    const document: FlowDocument = {
      ...proposal.document,
      nodes: proposal.document.nodes.map((n) => (n.params.name === name ? { ...n, params: { ...n.params, ...patch } } : n)),
    };
    setProposal({ ...proposal, document });
    void act('check the plan', async () => {
      const { diagnostics } = await client.plans.validate.mutate({ document });
      setProposal((p) => (p && p.document === document ? { ...p, diagnostics } : p));
    });
  };

  const cards = proposal ? cardsOf(proposal.document, proposal.diagnostics, lookup) : [];
  const errors = proposal ? proposal.diagnostics.filter((d) => d.severity === 'error') : [];

  return (
    <div className="page" data-testid="plans-page">
      <div className="page__header">
        <div>
          <h1 className="page__title">Plans</h1>
          <p className="page__subtitle">Describe a task: your agents split it into skill steps, run what can run at the same time, and pass results forward.</p>
        </div>
        <div className="page__actions">
          <a className="button button--secondary" href="/" onClick={linkHandler('/')}>All flows</a>
        </div>
      </div>
      {error ? <Banner tone="error" message={error} testId="plan-error" /> : null}

      <section className="plan-card">
        <h2 className="plan-card__title">Plan from a task</h2>
        <form className="plan-task" onSubmit={(e) => { e.preventDefault(); propose(); }}>
          <textarea
            className="input input--area"
            placeholder={`e.g. “${EXAMPLES[0]}”`}
            aria-label="Task"
            value={task}
            maxLength={5000}
            onChange={(e) => setTask(e.target.value)}
            data-testid="plan-task"
          />
          <button type="submit" className="button button--primary" disabled={busy !== null || !task.trim()} data-testid="plan-propose">
            {busy === 'plan the task' ? 'Planning…' : 'Propose a plan'}
          </button>
        </form>
        <p className="plan-try muted">
          Try:{' '}
          {EXAMPLES.map((x) => (
            <button key={x} type="button" className="plan-try__example" onClick={() => setTask(x)}>“{x}”</button>
          ))}
        </p>
      </section>

      {proposal ? (
        <section className="plan-card" data-testid="plan-proposal">
          <h2 className="plan-card__title">Proposed plan: {proposal.document.name}</h2>
          <div className="plan-facts">
            <span>Analysis by <b>{proposal.source === 'model' ? `the model (${proposal.model})` : 'the offline analyser'}</b></span>
            <span>Sequencing <b>{proposal.analysis.sequencing}</b></span>
            <span>About <b>{proposal.analysis.estimatedDurationMinutes} min</b></span>
            <span><b>{cards.length}</b> steps across <b>{new Set(cards.map((c) => c.agentId)).size}</b> agents</span>
          </div>
          {proposal.notice ? <Banner tone="info" message={proposal.notice} testId="plan-notice" /> : null}
          <PlanBoard
            steps={cards}
            agentOptions={(step) => {
              const capable = capableAgents(lookup.agents, lookup.skill(step.skill));
              return capable.some((a) => a.id === step.agentId) ? capable : [{ id: step.agentId, name: step.agentName }, ...capable];
            }}
            onReassign={(step, agentId) => editStep(step.name, { agent: agentId })}
            onToggleCritical={(step, critical) => editStep(step.name, { critical })}
          />
          <p className="muted" style={{ fontSize: 12 }}>
            Agents were picked among those able to run each skill (active, with the skill and its tools): the shortest mailbox first, then the best past success rate.
          </p>
          <div className="plan-actions">
            <button type="button" className="button button--primary" disabled={busy !== null || errors.length > 0} data-testid="plan-run"
              onClick={() => void act('run the plan', async () => {
                const run = await client.plans.run.mutate({ document: proposal.document });
                navigate(hrefOf({ page: 'plans', runId: run.id }));
              })}>
              {busy === 'run the plan' ? 'Starting…' : 'Run now'}
            </button>
            <button type="button" className="button button--secondary" disabled={busy !== null} data-testid="plan-open-canvas"
              onClick={() => void act('save the plan', async () => {
                const saved = await client.flows.save.mutate({ document: proposal.document });
                navigate(hrefOf({ page: 'editor', docId: saved.flow.docId }));
              })}>
              Open on the canvas
            </button>
            <button type="button" className="button button--ghost" onClick={() => setProposal(null)}>Discard</button>
          </div>
        </section>
      ) : null}

      <section className="plan-card">
        <h2 className="plan-card__title">Recent plan runs</h2>
        {runs.status === 'error' ? <LoadErrorBanner error={runs.error} task="load the plan runs" onRetry={runs.reload} /> : null}
        {runs.data && runs.data.items.length === 0 ? <p className="muted">No plan has run yet.</p> : null}
        {runs.data && runs.data.items.length > 0 ? (
          <table className="table plan-runs" data-testid="plan-runs">
            <thead><tr><th>Plan</th><th>Status</th><th>Started</th><th className="table__num">Took</th></tr></thead>
            <tbody>
              {runs.data.items.map((r) => (
                <tr key={r.id}>
                  <td><a className="flow-link" href={hrefOf({ page: 'plans', runId: r.id })} onClick={linkHandler(hrefOf({ page: 'plans', runId: r.id }))}>{r.name}</a></td>
                  <td><span className={`plan-status plan-status--${r.status}`}>{r.status}</span></td>
                  <td>{formatDateTime(r.startedAt)}</td>
                  <td className="table__num">{r.duration === null ? '—' : `${(r.duration / 1000).toFixed(1)} s`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </div>
  );
}

/** One run: the board with each step's live state and output, the timeline, the outcome. */
function PlanRunView({ client, runId, lookup }: { client: ApiClient; runId: string; lookup: Lookup }) {
  const [run, setRun] = useState<PlanRun | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [now, setNow] = useState(Date.now());
  const [live, setLive] = useState(false);

  const load = useCallback(() => {
    client.plans.get.query({ id: runId }).then((r) => { setRun(r); setError(null); }, setError);
  }, [client, runId]);

  useEffect(() => {
    load();
    // Live overlay: the runtime pushes the run after every step transition. Should the stream
    // fail, the page polls instead while the plan runs.
    let poll: ReturnType<typeof setInterval> | undefined;
    const sub = client.plans.watch.subscribe({ id: runId }, {
      onStarted: () => setLive(true),
      onData: (r) => setRun(r),
      onError: () => {
        setLive(false);
        poll ??= setInterval(load, 1000);
      },
      onComplete: () => setLive(false),
    });
    return () => {
      sub.unsubscribe();
      if (poll) clearInterval(poll);
    };
  }, [client, runId, load]);

  const running = run?.status === 'running';
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [running]);

  if (error && !run) return <div className="page"><LoadErrorBanner error={error} task="load the plan run" onRetry={load} /></div>;
  if (!run) return <div className="page"><p className="muted">Loading the plan run…</p></div>;

  const cards: BoardCard[] = run.steps.map((s) => ({
    name: s.name, skill: s.skill, skillName: lookup.skill(s.skill)?.name ?? s.skill, agentId: s.agentId ?? '?', agentName: s.agentName ?? lookup.agentName(s.agentId ?? ''),
    dependsOn: s.dependsOn, critical: s.critical, status: s.status, attempt: s.attempt, error: s.error, output: s.output,
    startedAt: s.startedAt, finishedAt: s.finishedAt,
  }));
  const outcome = run.outcome;
  return (
    <div className="page" data-testid="plan-run-page" data-status={run.status}>
      <div className="page__header">
        <div>
          <h1 className="page__title">{run.name}</h1>
          <p className="page__subtitle">
            <span className={`plan-status plan-status--${run.status}`} data-testid="plan-run-status">{run.status}</span>{' '}
            started {formatDateTime(run.startedAt)}{outcome ? ` · took ${(outcome.duration / 1000).toFixed(2)} s` : ''}{running ? (live ? ' · live' : ' · updating') : ''}
          </p>
        </div>
        <div className="page__actions">
          <a className="button button--secondary" href="/plans" onClick={linkHandler('/plans')}>All plans</a>
          {running ? (
            <button type="button" className="button button--destructive" data-testid="plan-cancel"
              onClick={() => client.plans.cancel.mutate({ id: runId }).then(setRun, setError)}>Cancel</button>
          ) : null}
        </div>
      </div>
      {error ? <Banner tone="error" message={describeError(error, 'update the plan run')} /> : null}
      {outcome ? (
        <section className="plan-card" data-testid="plan-outcome">
          <h2 className="plan-card__title">Outcome</h2>
          <p className="plan-summary" data-testid="plan-summary">{outcome.summary}</p>
          {outcome.errors.length ? (
            <ul>{outcome.errors.map((e) => <li key={e.step}><b>{e.step}</b>{e.critical ? ' (critical)' : ''}: {e.message}</li>)}</ul>
          ) : null}
          <details>
            <summary>Results ({Object.keys(outcome.results).join(', ') || 'none'})</summary>
            <pre style={{ fontSize: 11, maxHeight: 300, overflow: 'auto' }}>{JSON.stringify(outcome.results, null, 2)}</pre>
          </details>
        </section>
      ) : null}
      <section className="plan-card">
        <h2 className="plan-card__title">Steps by agent</h2>
        <PlanBoard steps={cards} />
      </section>
      <section className="plan-card">
        <h2 className="plan-card__title">Timeline</h2>
        <PlanTimeline steps={cards} now={now} journal={run.journal} />
      </section>
    </div>
  );
}
