import { readFileSync } from 'node:fs';
import type { FlowDocument } from '@switchyard/schema';
import { describe, expect, it } from 'vitest';
import { contextFieldsOf, labelOfKey, MAX_CONTEXT_VALUE, runContextOf } from './run-context';
import { planStepSummary } from './step-card';

const step = (id: string, params: Record<string, unknown>, name = id) =>
  ({ id, type: 'plan.step', typeVersion: 1, position: { x: 0, y: 0 }, params: { name, skill: 'research-contact', agent: 'any', params } });

describe('the Run plan dialog: what a plan reads from its context', () => {
  it('the built-in "Research and reach out" plan asks for a contact, read by its research step', () => {
    const bundle = JSON.parse(readFileSync(new URL('../../../../templates/research-and-reach-out.json', import.meta.url), 'utf8')) as { documents: FlowDocument[] };
    expect(contextFieldsOf(bundle.documents[0]!)).toEqual([{ key: 'contactId', kind: 'contact', steps: ['research'] }]);
  });

  it('finds keys in nested params and mixed text, once each, in order; deeper reads need an object; other references are not context', () => {
    const doc = {
      nodes: [
        step('a', { q: 'About {{ context.topic }} for {{context.accountContactId}}', deep: { list: ['{{ context.deal.amount }}'] } }),
        step('b', { again: '{{ context.topic }}', other: '{{ steps.a.output.context.x }}', idx: '{{ context.rows[0] }}', plain: 'context.notAReference' }),
        { id: 't', type: 'action.createTask', typeVersion: 1, position: { x: 0, y: 0 }, params: { params: { title: '{{ context.ignored }}' } } },
      ],
    };
    expect(contextFieldsOf(doc as never)).toEqual([
      { key: 'topic', kind: 'text', steps: ['a', 'b'] },
      { key: 'accountContactId', kind: 'contact', steps: ['a'] },
      { key: 'deal', kind: 'json', steps: ['a'] },
      { key: 'rows', kind: 'json', steps: ['b'] },
    ]);
    expect(contextFieldsOf({ nodes: [step('a', { q: 'no context here' })] } as never)).toEqual([]);
  });

  it('builds the context: every field required, text trimmed, JSON fields must be objects', () => {
    const fields = [
      { key: 'contactId', kind: 'contact' as const, steps: ['research'] },
      { key: 'topic', kind: 'text' as const, steps: ['a'] },
      { key: 'deal', kind: 'json' as const, steps: ['a'] },
    ];
    expect(runContextOf(fields, { contactId: 'c-1', topic: '  pricing ', deal: '{"amount": 1200}' }))
      .toEqual({ ok: true, context: { contactId: 'c-1', topic: 'pricing', deal: { amount: 1200 } } });
    expect(runContextOf(fields, { topic: '   ', deal: '[1]' })).toEqual({
      ok: false, errors: { contactId: 'Pick a contact', topic: 'Enter a value', deal: 'Enter a JSON object, e.g. {"amount": 1200}' },
    });
    const bad = runContextOf(fields, { contactId: 'c-1', topic: 'x'.repeat(MAX_CONTEXT_VALUE + 1), deal: '{amount' });
    expect(bad).toEqual({ ok: false, errors: { topic: `At most ${MAX_CONTEXT_VALUE} characters`, deal: 'Not valid JSON, e.g. {"amount": 1200}' } });
    expect(runContextOf([], {})).toEqual({ ok: true, context: {} });
  });

  it('labels fields from their keys', () => {
    expect(['contactId', 'accountContactId', 'dealNotes', 'due_date', 'topic'].map(labelOfKey)).toEqual(['Contact', 'Account contact', 'Deal notes', 'Due date', 'Topic']);
  });
});

describe('a plan step card on the canvas', () => {
  it('names the chosen agent, says "any capable agent" when none is chosen, and marks non-critical steps', () => {
    expect(planStepSummary({ name: 'research', agent: 'a-1' }, 'Researcher')).toBe('research · Researcher');
    expect(planStepSummary({ name: 'research', agent: 'any', critical: false }, null)).toBe('research · any capable agent · not critical');
    expect(planStepSummary({ agent: '' }, null)).toBe('? · any capable agent');
    expect(planStepSummary({ name: 'email', agent: 'a-2' }, null)).toBe('email · …');
  });
});
