import { useCallback, useEffect, useMemo, useState } from 'react';
import { hrefOf, navigate } from '../router';
import { describeError, switchyardCode, type ApiClient, type QueryOutput } from '../trpc';
import { levelsOf } from './plan-model';
import './plans.css';

export type ChatPlan = QueryOutput<ApiClient['plans']['chatProposals']>['items'][number];

/**
 * The plans an agent proposed in this chat, by the answer that offered each (`messageId`). Read
 * again whenever the conversation changes (`version`), so a new answer's card shows with it.
 */
export function useChatPlans(client: ApiClient, agentId: string, version: number) {
  const [byMessage, setByMessage] = useState<ReadonlyMap<number, ChatPlan>>(new Map());
  const [names, setNames] = useState<ReadonlyMap<string, string>>(new Map());
  const [skills, setSkills] = useState<ReadonlyMap<string, string>>(new Map());
  const load = useCallback(() => {
    client.plans.chatProposals.query({ agentId }).then(
      (r) => setByMessage(new Map(r.items.flatMap((p) => (p.messageId === null ? [] : [[p.messageId, p] as const])))),
      // The chat works without its cards; a card that cannot load is simply not shown.
      () => undefined,
    );
  }, [client, agentId]);
  useEffect(load, [load, version]);
  const hasPlans = byMessage.size > 0;
  useEffect(() => {
    if (!hasPlans) return;
    client.agents.list.query({ limit: 200 }).then((r) => setNames(new Map(r.items.map((a) => [a.id, a.name]))), () => undefined);
    client.skills.list.query({}).then((r) => setSkills(new Map(r.items.map((x) => [x.id, x.name]))), () => undefined);
  }, [client, hasPlans]);
  return useMemo(() => ({
    planOf: (messageId: number) => byMessage.get(messageId) ?? null,
    agentName: (id: string) => names.get(id) ?? null,
    skillName: (id: string) => skills.get(id) ?? id,
  }), [byMessage, names, skills]);
}

/**
 * A plan proposed in chat, under the answer that describes it: its steps (with the ones that run
 * at the same time side by side) and the two ways on — open it on the canvas to review and edit
 * it, or run it as proposed and follow it on its run page.
 */
export function ChatPlanCard({ client, plan, agentName, skillName = (id) => id }: {
  client: ApiClient; plan: ChatPlan; agentName: (id: string) => string | null; skillName?: (id: string) => string;
}) {
  const [busy, setBusy] = useState<'open' | 'run' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const doc = plan.document;
  const steps = doc.nodes.map((n) => {
    const p = n.params as { name?: string; skill?: string; agent?: string };
    return { id: n.id, name: p.name ?? n.id, skill: p.skill ?? '', agent: p.agent ?? 'any', dependsOn: doc.edges.filter((e) => e.target === n.id).map((e) => e.source) };
  });
  const levels = levelsOf(steps);
  const columns = [...new Set([...levels.values()])].sort((a, b) => a - b).map((l) => steps.filter((s) => (levels.get(s.name) ?? 0) === l));
  const errors = plan.diagnostics.filter((d) => d.severity === 'error');

  const act = async (what: 'open' | 'run') => {
    setBusy(what);
    setError(null);
    try {
      if (what === 'open') {
        // Opened before: the flow as it is now (with any edits made since), not the proposal saved over it.
        const opened = await client.flows.get.query({ docId: doc.id }).then(() => true, (e: unknown) => {
          if (switchyardCode(e) === 'NOT_FOUND') return false;
          throw e;
        });
        if (!opened) await client.flows.save.mutate({ document: doc });
        navigate(hrefOf({ page: 'editor', docId: doc.id }));
      } else {
        const run = await client.plans.run.mutate({ document: doc });
        navigate(hrefOf({ page: 'plans', runId: run.id }));
      }
    } catch (e) {
      setError(describeError(e, what === 'open' ? 'open the plan' : 'run the plan'));
      setBusy(null);
    }
  };

  return (
    <section className="chat-plan" aria-label="Proposed plan" data-testid="chat-plan" data-plan-id={plan.id}>
      <header className="chat-plan__head">
        <strong>Proposed plan</strong>
        <span className="muted">
          {steps.length} steps · {new Set(steps.map((s) => s.agent)).size} agents · {plan.source === 'model' ? 'planned by the model' : 'offline analyser'}
        </span>
      </header>
      <ol className="chat-plan__columns">
        {columns.map((col, i) => (
          <li key={i} className="chat-plan__column">
            {col.length > 1 ? <span className="chat-plan__together">at the same time</span> : null}
            {col.map((s) => (
              <div key={s.id} className="chat-plan__step" data-testid="chat-plan-step" data-step={s.name}>
                <code>{s.name}</code> <span className="muted">{skillName(s.skill)}</span>
                <div className="chat-plan__agent">{agentName(s.agent) ?? (s.agent === 'any' ? 'any capable agent' : '…')}</div>
              </div>
            ))}
          </li>
        ))}
      </ol>
      {errors.length ? <p className="chat-plan__problem">{errors.length} problem{errors.length === 1 ? '' : 's'} to fix on the canvas: {errors[0]!.message}</p> : null}
      {error ? <p className="chat-plan__problem" role="alert">{error}</p> : null}
      <div className="chat-plan__actions">
        <button type="button" className="button button--primary button--small" disabled={busy !== null} onClick={() => void act('open')} data-testid="chat-plan-open">
          {busy === 'open' ? 'Opening…' : 'Open on canvas'}
        </button>
        <button type="button" className="button button--secondary button--small" disabled={busy !== null || errors.length > 0}
          title={errors.length ? 'Fix its problems on the canvas first' : 'Run the plan as proposed'} onClick={() => void act('run')} data-testid="chat-plan-run">
          {busy === 'run' ? 'Starting…' : 'Run'}
        </button>
      </div>
    </section>
  );
}
