import { ANY_AGENT, type NodeKindSpec } from '@switchyard/schema';
import { useCallback, useId, useMemo } from 'react';
import { listAllAgents } from '../agents/paged';
import { ParamForm } from '../editor/ParamForm';
import { fieldsOf, issuesByPath, type Field } from '../editor/param-fields';
import type { ApiClient } from '../trpc';
import { useRemote } from '../useRemote';
import { capableAgents } from './plan-model';

type Params = Record<string, unknown>;
const OWN_KEYS = new Set(['agent', 'skill']);
const PARAMS_FIELD: Field[] = [{
  kind: 'json', key: 'params', label: 'Skill parameters (JSON)',
  description: 'Strings may use results of upstream steps, e.g. "{{ steps.research.output.profile.email }}".',
  placeholder: '{ "to": "{{ steps.research.output.profile.email }}" }',
}];

/**
 * The inspector of a plan step on the canvas: the skill, the agent (any capable agent, or one of
 * the agents able to run the skill: active, holding it, allowed its tools), then the step's own
 * settings (result name, params, critical, retry, timeout) from the catalog.
 */
export function PlanStepInspector({ client, spec, params, onChange }: { client: ApiClient; spec: NodeKindSpec; params: Params; onChange: (next: Params, field: string) => void }) {
  const skillId = useId();
  const agentId = useId();
  const loadAgents = useCallback(() => listAllAgents(client), [client]);
  const agents = useRemote(loadAgents);
  const loadSkills = useCallback(() => client.skills.list.query({}), [client]);
  const skills = useRemote(loadSkills);
  const skill = skills.data?.items.find((s) => s.id === params.skill);
  const agent = typeof params.agent === 'string' ? params.agent : ANY_AGENT;
  const capable = capableAgents(agents.data?.items ?? [], skill);
  const chosen = agents.data?.items.find((a) => a.id === agent);
  const issues = issuesByPath(spec.params, params);
  const rest = useMemo(() => fieldsOf(spec.params).filter((f) => !OWN_KEYS.has(f.key) && f.key !== 'params'), [spec]);
  const problem = agent === ANY_AGENT
    ? skill && agents.data && !capable.length ? `No agent can run ${skill.name} yet: give an active agent the skill and its tools.` : null
    : agents.data && !chosen ? 'This agent no longer exists: choose another.'
      : chosen && skill && !capable.some((a) => a.id === chosen.id) ? `${chosen.name} cannot run ${skill.name} (paused, without the skill, or not allowed its tools).` : null;

  return (
    <div className="form" data-testid="plan-step-inspector">
      <div className="field">
        <label className="field__label" htmlFor={skillId}>Skill</label>
        <select id={skillId} className="input input--compact" value={typeof params.skill === 'string' ? params.skill : ''} data-testid="field-skill"
          onChange={(e) => onChange({ ...params, skill: e.target.value }, 'skill')}>
          {skills.data?.items.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
        {skill ? <p className="field__hint">{skill.description}</p> : null}
      </div>
      <div className="field">
        <label className="field__label" htmlFor={agentId}>Agent</label>
        <select id={agentId} className={`input input--compact${problem ? ' input--invalid' : ''}`} value={agent} data-testid="field-agent"
          onChange={(e) => onChange({ ...params, agent: e.target.value }, 'agent')}>
          <option value={ANY_AGENT}>Any capable agent (picked when the plan runs)</option>
          {chosen && !capable.some((a) => a.id === chosen.id) ? <option value={chosen.id}>{chosen.name} (cannot run it)</option> : null}
          {capable.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
        </select>
        {problem ? <p className="field__error" role="alert">{problem}</p> : null}
      </div>
      <ParamForm fields={[...rest.filter((f) => f.key === 'name'), ...PARAMS_FIELD, ...rest.filter((f) => f.key !== 'name')]} params={params} issues={issues} onChange={onChange} />
    </div>
  );
}
