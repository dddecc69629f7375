import { FEEDBACK_ADJUSTMENTS, FEEDBACK_TYPES, PERSONALITY_TRAITS, type FeedbackType, type PersonalityTrait } from '@switchyard/schema';
import { isTRPCClientError } from '@trpc/client';
import type { ApiClient, QueryOutput } from '../trpc';
import type { WatchStatus } from './live';

export type AgentItem = QueryOutput<ApiClient['agents']['list']>['items'][number];
export type AgentDetail = QueryOutput<ApiClient['agents']['get']>;
export type SkillItem = QueryOutput<ApiClient['skills']['list']>['items'][number];
export type MemoryView = QueryOutput<ApiClient['agents']['memory']>;
export type Personality = Record<PersonalityTrait, number>;

export const TRAIT_LABEL: Record<PersonalityTrait, { label: string; low: string; high: string }> = {
  formality: { label: 'Formality', low: 'Casual', high: 'Formal' },
  enthusiasm: { label: 'Enthusiasm', low: 'Reserved', high: 'Enthusiastic' },
  brevity: { label: 'Brevity', low: 'Verbose', high: 'Concise' },
  proactivity: { label: 'Proactivity', low: 'Reactive', high: 'Proactive' },
  creativity: { label: 'Creativity', low: 'Conventional', high: 'Creative' },
  empathy: { label: 'Empathy', low: 'Logical', high: 'Empathetic' },
};

/** "too-formal" -> "Too formal". */
export const feedbackLabel = (f: FeedbackType): string => {
  const words = f.replaceAll('-', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};
export const FEEDBACK: ReadonlyArray<{ id: FeedbackType; label: string; trait: PersonalityTrait }> = FEEDBACK_TYPES.map((id) => ({
  id,
  label: feedbackLabel(id),
  trait: FEEDBACK_ADJUSTMENTS[id].trait,
}));

const STATE_LABEL: Record<string, { label: string; tone: string }> = {
  idle: { label: 'Idle', tone: 'idle' },
  working: { label: 'Working', tone: 'working' },
  waiting_approval: { label: 'Waiting for approval', tone: 'waiting' },
  error: { label: 'Error', tone: 'error' },
};

export function AgentStateBadge({ state, title }: { state: string; title?: string | undefined }) {
  const s = STATE_LABEL[state] ?? { label: state, tone: 'idle' };
  return (
    <span className={`agent-state agent-state--${s.tone}`} data-testid="agent-state" data-state={state} title={title}>
      <span className="agent-state__dot" aria-hidden="true" />
      {s.label}
    </span>
  );
}

/** A quiet line while `agents.watch` is down: the page shows the last known state meanwhile. */
export function LiveNote({ status, retryInMs }: { status: WatchStatus; retryInMs: number | null }) {
  if (status !== 'paused') return null;
  return (
    <p className="live-note" role="status" data-testid="live-paused">
      <span className="live-note__dot" aria-hidden="true" />
      Live updates paused, retrying{retryInMs ? ` in ${Math.round(retryInMs / 1000)} s` : ''}…
    </p>
  );
}

/**
 * Field issues of a typed Switchyard error, keyed by their first path segment ("name", "caps")
 * and by their full dotted path ("caps.maxSteps"), so a form can place them either way.
 */
export function issuesOf(error: unknown): Record<string, string> {
  if (!isTRPCClientError(error)) return {};
  const data: unknown = error.data;
  const out: Record<string, string> = {};
  if (data && typeof data === 'object' && 'switchyard' in data) {
    const sy: unknown = data.switchyard;
    if (sy && typeof sy === 'object' && 'issues' in sy && Array.isArray(sy.issues)) {
      for (const issue of sy.issues as unknown[]) {
        if (!issue || typeof issue !== 'object') continue;
        const path = 'path' in issue && Array.isArray(issue.path) ? (issue.path as unknown[]).map(String) : [];
        const message = 'message' in issue && typeof issue.message === 'string' ? issue.message : 'Invalid value';
        out[path[0] ?? ''] ??= message;
        if (path.length > 1) out[path.join('.')] ??= message;
      }
    }
  }
  return out;
}

export function PersonalitySliders({
  value,
  onChange,
  readOnly = false,
}: {
  value: Personality;
  onChange?: (next: Personality) => void;
  readOnly?: boolean;
}) {
  return (
    <div className="traits" data-testid="personality">
      {PERSONALITY_TRAITS.map((t) => {
        const v = value[t];
        const id = `trait-${t}`;
        return (
          <div className="trait" key={t}>
            <div className="trait__head">
              {readOnly ? (
                <span className="trait__label">{TRAIT_LABEL[t].label}</span>
              ) : (
                <label className="trait__label" htmlFor={id}>
                  {TRAIT_LABEL[t].label}
                </label>
              )}
              <output className="trait__value" htmlFor={id} data-testid={`trait-value-${t}`}>
                {v.toFixed(1)}
              </output>
            </div>
            {readOnly ? (
              <div
                id={id}
                className="trait__meter"
                role="slider"
                aria-readonly="true"
                aria-disabled="true"
                aria-label={TRAIT_LABEL[t].label}
                aria-valuemin={0}
                aria-valuemax={1}
                aria-valuenow={v}
                aria-valuetext={`${v.toFixed(2)} (${TRAIT_LABEL[t].low} 0 – ${TRAIT_LABEL[t].high} 1)`}
                data-testid={`trait-${t}`}
              >
                <span className="trait__fill" style={{ width: `${v * 100}%` }} />
                <span className="trait__thumb" style={{ left: `${v * 100}%` }} />
              </div>
            ) : (
              <input
                id={id}
                className="trait__slider"
                type="range"
                min={0}
                max={1}
                step={0.05}
                value={v}
                aria-valuenow={v}
                aria-valuetext={`${v.toFixed(2)} (${TRAIT_LABEL[t].low} 0 – ${TRAIT_LABEL[t].high} 1)`}
                data-testid={`trait-${t}`}
                onChange={(e) => onChange?.({ ...value, [t]: Number(e.target.value) })}
              />
            )}
            <div className="trait__ends" aria-hidden="true">
              <span>{TRAIT_LABEL[t].low}</span>
              <span>{TRAIT_LABEL[t].high}</span>
            </div>
          </div>
        );
      })}
    </div>
  );
}
