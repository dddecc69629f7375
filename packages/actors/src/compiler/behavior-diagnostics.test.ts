import { describe, expect, it } from 'vitest';
import { compile } from './compile';
import { triggerHolds } from '../triggers';

/** A behavior checked every N minutes: a task when follow-ups are due. */
const behavior = (trigger: Record<string, unknown> | null, each: Record<string, unknown> = { items: '{{ trigger.people }}', action: 'action.createTask', with: { title: 'Call {{ item.name }}' } }) => ({
  schemaVersion: 1, id: 'checker', kind: 'behavior', name: 'Checker',
  nodes: [
    ...(trigger ? [{ id: 'check', type: 'trigger.condition', position: { x: 0, y: 0 }, params: trigger }] : []),
    { id: 'each', type: 'flow.forEach', position: { x: 200, y: 0 }, params: each },
  ],
  edges: trigger ? [{ id: 'e1', source: 'check', target: 'each' }] : [],
});
const codesAt = (doc: unknown) => compile(doc).diagnostics.map((d) => ({ code: d.code, nodeId: d.nodeId, param: d.path.at(-1) }));

describe('behavior compile diagnostics', () => {
  it('a condition trigger checked every N minutes compiles into a trigger that listens to no event', () => {
    const r = compile(behavior({ everyMinutes: 30, condition: 'trigger.followUpsDue > 0' }));
    expect(r.diagnostics).toEqual([]);
    expect(r.machine?.kind).toBe('behavior');
    expect(r.machine?.triggers).toEqual([{ nodeId: 'check', type: 'trigger.condition', listensTo: null, params: { everyMinutes: 30, condition: 'trigger.followUpsDue > 0' } }]);
    // Defaults: every 15 minutes, and an empty condition (every check starts it).
    expect(compile(behavior({})).machine?.triggers[0]?.params).toEqual({ everyMinutes: 15, condition: '' });
  });

  it('an invalid check interval is invalid-interval on the everyMinutes param; a bad condition is invalid-expression', () => {
    for (const everyMinutes of [0, -5, 1441, 2.5, 100_000]) {
      expect(codesAt(behavior({ everyMinutes }))).toEqual([{ code: 'invalid-interval', nodeId: 'check', param: 'everyMinutes' }]);
    }
    expect(codesAt(behavior({ everyMinutes: '15' }))).toEqual([{ code: 'invalid-params', nodeId: 'check', param: 'everyMinutes' }]);
    expect(codesAt(behavior({ everyMinutes: 1 }))).toEqual([]);
    expect(codesAt(behavior({ everyMinutes: 1440 }))).toEqual([]);
    expect(codesAt(behavior({ everyMinutes: 5, condition: 'trigger.followUpsDue >' }))).toEqual([{ code: 'invalid-expression', nodeId: 'check', param: 'condition' }]);
  });

  it('a behavior without a trigger is missing-trigger (and its nodes are not blamed for being unreachable)', () => {
    const r = compile(behavior(null));
    expect(r.machine).toBeNull();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['missing-trigger']);
  });

  it('a for-each without a list input is invalid-params on items', () => {
    expect(codesAt(behavior({ everyMinutes: 5 }, { items: '  ', action: 'action.createTask', with: { title: 'x' } })))
      .toEqual([{ code: 'invalid-params', nodeId: 'each', param: 'items' }]);
  });

  it('the check holds when its condition over the figures does; an empty condition always holds; a throwing one does not', () => {
    const compiled = compile(behavior({ everyMinutes: 5, condition: 'trigger.followUpsDue > 0 && trigger.unreadEmails < 10' })).machine!;
    expect(triggerHolds(compiled, 'check', { followUpsDue: 2, unreadEmails: 3 })).toEqual({ holds: true, error: null });
    expect(triggerHolds(compiled, 'check', { followUpsDue: 0, unreadEmails: 3 })).toEqual({ holds: false, error: null });
    expect(triggerHolds(compiled, 'each', {}).holds).toBe(false);
    expect(triggerHolds(compile(behavior({ everyMinutes: 5 })).machine!, 'check', {}).holds).toBe(true);
    const throwing = compile(behavior({ everyMinutes: 5, condition: 'trigger.a.b.c > 1' })).machine!;
    expect(triggerHolds(throwing, 'check', {})).toMatchObject({ holds: false });
  });

  it('a behavior for everyone compiles with its audience; one that could send mail, call out or ask agents in other users\' data is kind-not-allowed; a workflow cannot run for everyone', () => {
    const everyone = (nodes: Record<string, unknown>[], kind = 'behavior') => ({
      schemaVersion: 1, id: 'for-all', kind, name: 'For all', settings: { audience: 'everyone' },
      nodes: [{ id: 'login', type: 'trigger.userLogin', position: { x: 0, y: 0 }, params: {} }, ...nodes.map((n, i) => ({ position: { x: 200 * (i + 1), y: 0 }, ...n }))],
      edges: nodes.map((n, i) => ({ id: `e${i}`, source: i === 0 ? 'login' : String(nodes[i - 1]!.id), target: String(n.id) })),
    });
    const ok = compile(everyone([{ id: 'task', type: 'action.createTask', params: { title: 'Hello' } }]));
    expect(ok.diagnostics).toEqual([]);
    expect(ok.machine?.audience).toBe('everyone');
    expect(compile(behavior({ everyMinutes: 5 })).machine).not.toHaveProperty('audience');
    expect(codesAt(everyone([{ id: 'mail', type: 'action.sendEmail', params: { to: 'a@b.test', subject: 'x', body: 'y' } }])))
      .toEqual([{ code: 'kind-not-allowed', nodeId: 'mail', param: 'type' }]);
    expect(codesAt(everyone([{ id: 'each', type: 'flow.forEach', params: { items: '{{ trigger.x }}', action: 'action.webhook', with: { url: 'https://x.test' } } }])))
      .toEqual([{ code: 'kind-not-allowed', nodeId: 'each', param: 'action' }]);
    expect(codesAt(everyone([{ id: 'ask', type: 'agent.runSkill', params: { agentId: 'a1', skill: 'draft-email' } }])))
      .toEqual([{ code: 'kind-not-allowed', nodeId: 'ask', param: 'type' }]);
    expect(codesAt(everyone([{ id: 'task', type: 'action.createTask', params: { title: 'Hello' } }], 'workflow')))
      .toEqual([{ code: 'kind-not-allowed', nodeId: undefined, param: 'audience' }]);
  });
});
