import { AGENT_TOOLS, DEFAULT_AGENT_CAPS, DEFAULT_PERSONALITY, EXTERNAL_TOOLS, type AgentCaps, type AgentTool } from '@switchyard/schema';
import { useId, useState } from 'react';
import { Banner } from '../components/Banner';
import { describeError } from '../trpc';
import { CAP_FIELDS, capIssue, capsText, parseCaps, type CapKey, type CapsText } from './caps';
import { PersonalitySliders, issuesOf, type AgentItem, type Personality, type SkillItem } from './shared';
import { missingTools, neededBy, toggleSkill } from './skill-tools';

export interface AgentDraft {
  name: string;
  description: string;
  systemPrompt: string;
  skills: string[];
  tools: AgentTool[];
  personality: Personality;
  caps: AgentCaps;
  active: boolean;
}

export const draftOf = (agent: AgentItem | null): AgentDraft =>
  agent
    ? {
        name: agent.name,
        description: agent.description,
        systemPrompt: agent.systemPrompt,
        skills: [...agent.skills],
        tools: [...agent.tools],
        personality: { ...agent.personality },
        caps: { ...agent.caps },
        active: agent.active,
      }
    : { name: '', description: '', systemPrompt: '', skills: [], tools: [], personality: { ...DEFAULT_PERSONALITY }, caps: { ...DEFAULT_AGENT_CAPS }, active: true };

/** Create or edit an agent; typed API errors are shown next to their field. */
export function AgentForm({
  agent,
  skills,
  skillsError,
  onSubmit,
  onCancel,
}: {
  agent: AgentItem | null;
  skills: SkillItem[] | null;
  skillsError: unknown;
  onSubmit: (draft: AgentDraft) => Promise<void>;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<AgentDraft>(() => draftOf(agent));
  const [saving, setSaving] = useState(false);
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  // Limits are edited as text so a half-typed or invalid number can be shown and explained.
  const [caps, setCaps] = useState<CapsText>(() => capsText(draftOf(agent).caps));
  const [capsTouched, setCapsTouched] = useState<Partial<Record<CapKey, boolean>>>({});
  const set = <K extends keyof AgentDraft>(key: K, value: AgentDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    // An edited field's old error no longer applies.
    setIssues((i) => {
      if (!(key in i)) return i;
      const { [key]: _gone, ...rest } = i;
      return rest;
    });
  };
  const toggle = <T extends string>(list: T[], item: T): T[] => (list.includes(item) ? list.filter((x) => x !== item) : [...list, item]);

  const setCap = (key: CapKey, value: string) => {
    setCaps((c) => ({ ...c, [key]: value }));
    setCapsTouched((t) => ({ ...t, [key]: true }));
    setIssues((i) => {
      const path = `caps.${key}`;
      if (!(path in i)) return i;
      const { [path]: _gone, ...rest } = i;
      return rest;
    });
  };

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const parsed = parseCaps(caps);
    if (!parsed.ok) {
      // Shown at every invalid limit, touched or not, and nothing is sent.
      setCapsTouched({ maxSteps: true, maxToolCalls: true, maxTokens: true });
      setFailure('Some fields need attention.');
      return;
    }
    setSaving(true);
    setIssues({});
    setFailure(null);
    try {
      await onSubmit({ ...draft, caps: parsed.caps });
    } catch (error) {
      const found = issuesOf(error);
      setIssues(found);
      setFailure(Object.keys(found).length ? 'Some fields need attention.' : describeError(error, agent ? 'save the agent' : 'create the agent'));
    } finally {
      setSaving(false);
    }
  };

  const err = (key: string) =>
    issues[key] ? (
      <span className="field__error" role="alert" data-testid={`error-${key}`}>
        {issues[key]}
      </span>
    ) : null;

  return (
    <form className="agent-form" onSubmit={(e) => void submit(e)} data-testid="agent-form" noValidate>
      <h2 className="agent-form__title">{agent ? `Edit “${agent.name}”` : 'New agent'}</h2>
      {failure ? <Banner tone="error" message={failure} testId="form-error" /> : null}
      <div className="agent-form__grid">
        <div className="agent-form__col">
          <label className="field">
            <span className="field__label">
              Name <span className="field__required">*</span>
            </span>
            <input
              className={`input${issues.name ? ' input--invalid' : ''}`}
              value={draft.name}
              onChange={(e) => set('name', e.target.value)}
              aria-invalid={issues.name ? true : undefined}
              data-testid="agent-name"
              placeholder="e.g. Sales assistant"
            />
            {err('name')}
          </label>
          <label className="field">
            <span className="field__label">Description</span>
            <input
              className={`input${issues.description ? ' input--invalid' : ''}`}
              value={draft.description}
              onChange={(e) => set('description', e.target.value)}
              data-testid="agent-description"
              placeholder="What this agent is for"
            />
            {err('description')}
          </label>
          <label className="field">
            <span className="field__label">System prompt</span>
            <textarea
              className={`input input--area${issues.systemPrompt ? ' input--invalid' : ''}`}
              rows={5}
              value={draft.systemPrompt}
              onChange={(e) => set('systemPrompt', e.target.value)}
              data-testid="agent-system-prompt"
              placeholder="You are a helpful sales assistant…"
            />
            <span className="field__hint">The personality below is added to this prompt.</span>
            {err('systemPrompt')}
          </label>
          <fieldset className="fieldset">
            <legend className="fieldset__legend">Personality</legend>
            <PersonalitySliders value={draft.personality} onChange={(p) => set('personality', p)} />
            {err('personality')}
          </fieldset>
          <div className="check agent-form__active">
            <label className="switch">
              <input
                type="checkbox"
                role="switch"
                checked={draft.active}
                aria-label="Active"
                onChange={(e) => set('active', e.target.checked)}
                data-testid="agent-active"
              />
              <span className="switch__track" aria-hidden="true" />
            </label>
            <span>Active — accepts chats and workflow requests</span>
          </div>
        </div>
        <div className="agent-form__col">
          <fieldset className="fieldset">
            <legend className="fieldset__legend">Skills</legend>
            {skills === null ? (
              skillsError ? (
                <p className="field__error">{describeError(skillsError, 'load the skills')}</p>
              ) : (
                <p className="muted">Loading skills…</p>
              )
            ) : (
              <ul className="skill-pick" data-testid="skills-picker">
                {skills.map((s) => (
                  <li key={s.id} className="skill-pick__item">
                    <div className="skill-pick__row">
                      <label className="check">
                        <input
                          type="checkbox"
                          checked={draft.skills.includes(s.id)}
                          onChange={() => {
                            // Choosing a skill grants the tools it needs.
                            const next = toggleSkill(draft, s);
                            set('skills', next.skills);
                            set('tools', next.tools);
                          }}
                          data-testid={`skill-${s.id}`}
                        />
                        <span className="skill-pick__name">{s.name}</span>
                      </label>
                      <button
                        type="button"
                        className="button button--ghost button--small"
                        aria-expanded={open === s.id}
                        onClick={() => setOpen(open === s.id ? null : s.id)}
                      >
                        {open === s.id ? 'Hide' : 'Details'}
                      </button>
                    </div>
                    <p className="skill-pick__desc">{s.description}</p>
                    {open === s.id ? (
                      <div className="skill-pick__more" data-testid="skill-details">
                        {s.docs ? <p>{s.docs}</p> : null}
                        {s.requiredTools.length ? (
                          <p className="muted">Needs tools: {s.requiredTools.join(', ')}</p>
                        ) : null}
                        {s.examples.length ? (
                          <>
                            <p className="skill-pick__sub">Examples</p>
                            {s.examples.map((ex, i) => (
                              <div key={i} className="skill-pick__example">
                                <span>{ex.description}</span>
                                <code className="code">{JSON.stringify(ex.params)}</code>
                              </div>
                            ))}
                          </>
                        ) : null}
                      </div>
                    ) : null}
                  </li>
                ))}
              </ul>
            )}
            {err('skills')}
          </fieldset>
          <fieldset className="fieldset">
            <legend className="fieldset__legend">Tool allow-list</legend>
            <p className="field__hint">The agent can use only these tools, whatever a prompt says.</p>
            <div className="tool-grid" data-testid="tools">
              {AGENT_TOOLS.map((t) => (
                <label key={t} className="check">
                  <input type="checkbox" checked={draft.tools.includes(t)} onChange={() => set('tools', toggle(draft.tools, t))} data-testid={`tool-${t}`} />
                  <span className="code-inline">{t}</span>
                  {EXTERNAL_TOOLS.includes(t) ? <span className="badge badge--draft" title="Waits for approval after untrusted input">external</span> : null}
                  {skills && neededBy(t, draft, skills).length ? (
                    <span className="muted" title={`Needed by ${neededBy(t, draft, skills).join(', ')}`} data-testid={`tool-needed-${t}`}>
                      needed
                    </span>
                  ) : null}
                </label>
              ))}
            </div>
            {skills
              ? missingTools(draft, skills).map(({ skill, tools }) => (
                  <p key={skill.id} className="field__error" data-testid="missing-tools">
                    {skill.name} needs {tools.join(', ')}: without {tools.length === 1 ? 'it' : 'them'} the skill fails when it runs.{' '}
                    <button type="button" className="button button--small" onClick={() => set('tools', [...draft.tools, ...tools])} data-testid={`grant-${skill.id}`}>
                      Allow {tools.length === 1 ? 'it' : 'them'}
                    </button>
                  </p>
                ))
              : null}
            {err('tools')}
          </fieldset>
          <fieldset className="fieldset" data-testid="agent-caps-form">
            <legend className="fieldset__legend">Limits</legend>
            <p className="field__hint">A run that reaches a limit stops with an error instead of spending more.</p>
            <div className="caps-grid">
              {CAP_FIELDS.map((f) => (
                <CapInput
                  key={f.key}
                  label={f.label}
                  help={f.help}
                  min={f.min}
                  max={f.max}
                  defaultValue={f.defaultValue}
                  value={caps[f.key]}
                  error={(capsTouched[f.key] ? capIssue(f, caps[f.key]) : null) ?? issues[`caps.${f.key}`] ?? null}
                  onChange={(v) => setCap(f.key, v)}
                  testId={`cap-${f.key}`}
                />
              ))}
            </div>
            {err('caps')}
          </fieldset>
        </div>
      </div>
      <div className="agent-form__actions">
        <button type="button" className="button button--secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button button--primary" disabled={saving} data-testid="save-agent">
          {saving ? 'Saving…' : agent ? 'Save changes' : 'Create agent'}
        </button>
      </div>
    </form>
  );
}

function CapInput({
  label,
  help,
  min,
  max,
  defaultValue,
  value,
  error,
  onChange,
  testId,
}: {
  label: string;
  help: string;
  min: number;
  max: number;
  defaultValue: number;
  value: string;
  error: string | null;
  onChange: (value: string) => void;
  testId: string;
}) {
  const id = useId();
  return (
    <div className="field cap-field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        className={`input input--compact cap-field__input${error ? ' input--invalid' : ''}`}
        type="number"
        inputMode="numeric"
        min={min}
        max={max}
        step={1}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-help`}
        data-testid={testId}
      />
      <span className="field__hint" id={`${id}-help`}>
        {help.charAt(0).toLowerCase() + help.slice(1)} · default {defaultValue.toLocaleString('en-US')}
      </span>
      {error ? (
        <span className="field__error" role="alert" data-testid={`error-${testId}`}>
          {error}
        </span>
      ) : null}
    </div>
  );
}
