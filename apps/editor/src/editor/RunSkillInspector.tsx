import type { NodeKindSpec } from '@switchyard/schema';
import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import { RetryButton } from '../components/Banner';
import { Prose } from '../components/Prose';
import { hrefOf, linkHandler } from '../router';
import { describeError, type ApiClient, type QueryOutput } from '../trpc';
import { useRemote } from '../useRemote';
import { listAllAgents } from '../agents/paged';
import { fieldsOf, fieldsOfJsonSchema, issuesByPath, type Field, type JsonSchema } from './param-fields';
import { ParamForm } from './ParamForm';
import { skillParamIssues, withAgent, withSkill } from './run-skill';

type Params = Record<string, unknown>;
type SkillItem = QueryOutput<ApiClient['skills']['list']>['items'][number];

/** Edited by the selects and the generated form; the rest of the node's params use the generic form. */
const OWN_KEYS = new Set(['agentId', 'skill', 'params']);

const JSON_FIELD: Field[] = [
  {
    kind: 'json',
    key: 'params',
    label: 'Skill parameters (JSON)',
    description: 'An object; string values may use {{ }} templates, e.g. "{{ trigger.from }}".',
    placeholder: '{ "tone": "friendly" }',
  },
];

/**
 * The inspector of an `agent.runSkill` step: the agent (one of yours), the skill (one of that
 * agent's), a form generated from the skill's params schema, then the node's own settings
 * (grantEffects, retry, continue on error). Every change goes through `onChange`, the same
 * document update as any other inspector edit, so undo covers it.
 */
export function RunSkillInspector({ client, spec, params, onChange }: { client: ApiClient; spec: NodeKindSpec; params: Params; onChange: (next: Params, field: string) => void }) {
  const agentFieldId = useId();
  const skillFieldId = useId();
  const loadAgents = useCallback(() => listAllAgents(client), [client]);
  const agents = useRemote(loadAgents);
  const loadSkills = useCallback(() => client.skills.list.query({}), [client]);
  const skills = useRemote(loadSkills);

  const agentId = typeof params.agentId === 'string' ? params.agentId : '';
  const skillId = typeof params.skill === 'string' ? params.skill : '';
  const agent = agents.data?.items.find((a) => a.id === agentId) ?? null;
  const agentMissing = agentId !== '' && agents.status !== 'loading' && agents.data !== null && agent === null;
  const skill = skills.data?.items.find((s) => s.id === skillId) ?? null;
  const skillName = (id: string) => skills.data?.items.find((s) => s.id === id)?.name ?? id;
  const nodeIssues = issuesByPath(spec.params, params);
  const policyFields = useMemo(() => fieldsOf(spec.params).filter((f) => !OWN_KEYS.has(f.key)), [spec]);

  let agentProblem: string | null = null;
  if (agentMissing) agentProblem = 'The agent this step uses no longer exists (it may have been deleted). Choose another agent, or the step fails when it runs.';
  else if (!agentId) agentProblem = nodeIssues.get('agentId') ?? null;

  let skillProblem: string | null = null;
  if (skillId && skills.data && !skill) skillProblem = `There is no skill “${skillId}” any more. Choose another one.`;
  else if (skillId && agent && !agent.skills.includes(skillId)) skillProblem = `${agent.name} does not have the skill “${skillName(skillId)}”. Add it on the Agents page or choose another.`;
  else if (!skillId && agentId && !agentMissing) skillProblem = nodeIssues.get('skill') ?? null;

  const missingTools = skill && agent ? skill.requiredTools.filter((t) => !agent.tools.includes(t)) : [];
  const skillOptions = agent ? agent.skills : [];
  const agentsHref = hrefOf({ page: 'agents' });

  return (
    <div className="form run-skill" data-testid="run-skill-inspector">
      <div className="field">
        <label className="field__label" htmlFor={agentFieldId}>
          Agent<span className="field__required"> *</span>
        </label>
        <select
          id={agentFieldId}
          className={`input input--compact${agentProblem ? ' input--invalid' : ''}`}
          value={agentId}
          disabled={agents.data === null}
          data-testid="field-agentId"
          onChange={(e) => onChange(withAgent(params, e.target.value, agents.data?.items.find((a) => a.id === e.target.value)?.skills ?? null), 'agentId')}
        >
          <option value="">{agents.data === null ? 'Loading agents…' : 'Choose an agent…'}</option>
          {agentMissing ? <option value={agentId}>Unknown agent ({agentId.slice(0, 8)}…)</option> : null}
          {agents.data?.items.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
              {a.active ? '' : ' (paused)'}
            </option>
          ))}
        </select>
        {agents.status === 'error' ? (
          <div className="run-skill__load-error">
            <p className="field__error">{describeError(agents.error, 'load your agents')}</p>
            <RetryButton onClick={agents.reload} />
          </div>
        ) : null}
        {agents.data && agents.data.items.length === 0 ? (
          <p className="field__hint">
            You have no agents yet.{' '}
            <a href={agentsHref} onClick={linkHandler(agentsHref)}>
              Create one
            </a>{' '}
            first.
          </p>
        ) : null}
        {agentProblem ? (
          <p className="field__error" role="alert" data-testid="run-skill-agent-error">
            {agentProblem}
          </p>
        ) : null}
      </div>

      <div className="field">
        <label className="field__label" htmlFor={skillFieldId}>
          Skill<span className="field__required"> *</span>
        </label>
        <select
          id={skillFieldId}
          className={`input input--compact${skillProblem ? ' input--invalid' : ''}`}
          value={skillId}
          disabled={!agent}
          data-testid="field-skill"
          onChange={(e) => onChange(withSkill(params, e.target.value), 'skill')}
        >
          <option value="">{agent ? (skillOptions.length ? 'Choose a skill…' : `${agent.name} has no skills`) : 'Choose an agent first'}</option>
          {skillId && !skillOptions.includes(skillId) ? <option value={skillId}>{skillName(skillId)}</option> : null}
          {skillOptions.map((id) => (
            <option key={id} value={id}>
              {skillName(id)}
            </option>
          ))}
        </select>
        {skillProblem ? (
          <p className="field__error" role="alert" data-testid="run-skill-skill-error">
            {skillProblem}
          </p>
        ) : null}
        {skill ? <SkillAbout skill={skill} /> : null}
        {missingTools.length && agent ? (
          <p className="field__hint run-skill__warn" data-testid="run-skill-missing-tools">
            {agent.name} may not use {missingTools.join(', ')}, which this skill needs: those calls will be refused.
          </p>
        ) : null}
      </div>

      {skillId && (!skills.data || skill) ? <SkillParams key={skillId} client={client} skillId={skillId} params={params} issue={nodeIssues.get('params')} onChange={onChange} /> : null}

      <ParamForm fields={policyFields} params={params} issues={nodeIssues} onChange={onChange} />
    </div>
  );
}

function SkillAbout({ skill }: { skill: SkillItem }) {
  // The docs are Markdown; a short read is enough here: paragraphs, with `code` kept.
  const docs = skill.docs.replace(/\*\*/g, '').split(/\n\s*\n/).map((p) => p.replace(/\s*\n\s*/g, ' ').trim()).filter(Boolean);
  return (
    <div className="run-skill__about" data-testid="skill-about">
      <p className="field__hint">{skill.description}</p>
      {docs.length ? (
        <details className="run-skill__docs">
          <summary>How it works</summary>
          {docs.map((p, i) => (
            <p key={i}>
              <Prose text={p} />
            </p>
          ))}
        </details>
      ) : null}
    </div>
  );
}

/** The skill's own params: generated fields, or the whole record as JSON. */
function SkillParams({ client, skillId, params, issue, onChange }: { client: ApiClient; skillId: string; params: Params; issue: string | undefined; onChange: (next: Params, field: string) => void }) {
  const loadSkill = useCallback(() => client.skills.get.query({ id: skillId }), [client, skillId]);
  const skill = useRemote(loadSkill);
  const [asJson, setAsJson] = useState(false);
  // Plain fields first: a nested object (an email to answer) is the rarely filled part.
  const fields = useMemo(() => (skill.data ? [...fieldsOfJsonSchema(skill.data.params as JsonSchema)].sort((x, y) => Number(x.kind === 'object') - Number(y.kind === 'object')) : null), [skill.data]);
  const record = params.params;
  const issues = useSkillIssues(client, skillId, record);
  if (issue) issues.set('params', issue);

  return (
    <section className="run-skill__params" aria-label="Skill parameters" data-testid="skill-params">
      <div className="run-skill__params-head">
        <h3 className="inspector__subtitle">Skill parameters</h3>
        <button type="button" className="button button--ghost button--small" aria-pressed={asJson} onClick={() => setAsJson((j) => !j)} data-testid="skill-params-json-toggle">
          {asJson ? 'Edit as form' : 'Edit as JSON'}
        </button>
      </div>
      <p className="field__hint">
        From {skill.data?.name ?? 'the skill'}’s parameters. Text may use <code>{'{{ }}'}</code> templates, e.g. <code>{'{{ trigger.subject }}'}</code>.
      </p>
      {skill.status === 'error' ? (
        <div className="run-skill__load-error">
          <p className="field__error">{describeError(skill.error, 'load the skill’s parameters')}</p>
          <RetryButton onClick={skill.reload} />
        </div>
      ) : null}
      {asJson || (fields === null && skill.status === 'error') ? (
        <ParamForm fields={JSON_FIELD} params={params} issues={issues} onChange={onChange} />
      ) : fields === null ? (
        <p className="inspector__hint">Loading the skill’s parameters…</p>
      ) : fields.length === 0 ? (
        <p className="inspector__hint">This skill has no parameters.</p>
      ) : (
        <ParamForm fields={fields} params={params} issues={issues} onChange={onChange} prefix={['params']} />
      )}
      {issue && !asJson ? <p className="field__error">{issue}</p> : null}
    </section>
  );
}

/**
 * Problems of the skill params as the runtime sees them (`skills.validate`), a moment after the
 * last keystroke. Templates are skipped: they are resolved when the step runs.
 */
function useSkillIssues(client: ApiClient, skillId: string, record: unknown): Map<string, string> {
  const [issues, setIssues] = useState<Map<string, string>>(() => new Map());
  const json = JSON.stringify(record ?? {});
  useEffect(() => {
    let alive = true;
    const timer = setTimeout(() => {
      const value: unknown = JSON.parse(json);
      client.skills.validate.query({ skill: skillId, params: value }).then(
        (result) => alive && setIssues(result.ok ? new Map() : skillParamIssues(result.issues, value)),
        // Not being able to check is no reason to block editing; the compiler and the run check again.
        () => alive && setIssues(new Map()),
      );
    }, 300);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [client, skillId, json]);
  return new Map(issues);
}
