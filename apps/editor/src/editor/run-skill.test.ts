import { describe, expect, it } from 'vitest';
import { fieldsOfJsonSchema } from './param-fields';
import { skillParamIssues, withAgent, withSkill } from './run-skill';

describe('the agent.runSkill inspector', () => {
  it('builds the params form from a skill manifest as JSON Schema', () => {
    const fields = fieldsOfJsonSchema({
      type: 'object',
      properties: {
        to: { type: 'string', description: 'Who to write to' },
        tone: { type: 'string', enum: ['professional', 'friendly'], default: 'professional' },
        maxWords: { type: 'integer', minimum: 20, maximum: 2000, default: 200 },
        replyTo: { type: 'object', properties: { from: { type: 'string' }, body: { type: 'string' } }, required: ['from'] },
      },
      required: ['to'],
    });
    const byKey = Object.fromEntries(fields.map((f) => [f.key, f]));
    expect(byKey.to).toMatchObject({ kind: 'text', required: true, description: 'Who to write to' });
    expect(byKey.tone).toMatchObject({ kind: 'enum', defaultValue: 'professional' });
    expect(byKey.maxWords).toMatchObject({ kind: 'number', integer: true, min: 20, max: 2000, placeholder: '200' });
    expect(byKey.replyTo?.kind === 'object' && byKey.replyTo.fields.map((f) => [f.key, f.kind])).toEqual([
      ['from', 'text'],
      ['body', 'text'],
    ]);
  });

  it('places skill param problems on their fields, but not on templates', () => {
    const record = { to: '{{ trigger.from }}', replyTo: { from: 'not-an-email' } };
    const issues = skillParamIssues(
      [
        { path: ['to'], message: 'Invalid email address' },
        { path: ['replyTo', 'from'], message: 'Invalid email address' },
        { path: ['subject'], message: 'Invalid input: expected string, received undefined' },
      ],
      record,
    );
    expect([...issues]).toEqual([
      ['params.replyTo.from', 'Invalid email address'],
      ['params.subject', 'Required'],
    ]);
  });

  it('keeps the skill when the new agent has it, else takes its only skill or none', () => {
    const params = { agentId: 'a1', skill: 'draft-email', params: { tone: 'friendly' }, grantEffects: true };
    expect(withAgent(params, 'a2', ['draft-email', 'summarize-email'])).toEqual({ ...params, agentId: 'a2' });
    expect(withAgent(params, 'a3', ['check-calendar'])).toEqual({ agentId: 'a3', skill: 'check-calendar', params: {}, grantEffects: true });
    expect(withAgent(params, 'a4', ['a', 'b'])).toEqual({ agentId: 'a4', grantEffects: true });
    // Agents not loaded: only the id changes.
    expect(withAgent(params, 'a5', null)).toEqual({ ...params, agentId: 'a5' });
  });

  it('starts a newly chosen skill from empty params, and leaves the same skill alone', () => {
    const params = { agentId: 'a1', skill: 'draft-email', params: { tone: 'friendly' } };
    expect(withSkill(params, 'draft-email')).toBe(params);
    expect(withSkill(params, 'summarize-email')).toEqual({ agentId: 'a1', skill: 'summarize-email', params: {} });
    expect(withSkill(params, '')).toEqual({ agentId: 'a1' });
  });
});
