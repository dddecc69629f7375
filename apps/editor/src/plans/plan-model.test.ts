import { describe, expect, it } from 'vitest';
import { capableAgents, lanesOf, levelsOf, outputGist, overlapsFromJournal, overlapsOf, timelineNote, timelineOf } from './plan-model';

const step = (name: string, agentId: string, dependsOn: string[] = [], extra: Record<string, unknown> = {}) =>
  ({ name, skill: 'research-contact', agentId, dependsOn, critical: true, ...extra });

describe('plan view model', () => {
  it('columns follow dependencies; lanes group steps by agent', () => {
    const steps = [step('research', 'r'), step('research2', 'r2'), step('email', 'w', ['research', 'research2']), step('followUp', 'w', ['email'])];
    expect([...levelsOf(steps)]).toEqual([['research', 0], ['research2', 0], ['email', 1], ['followUp', 2]]);
    expect(lanesOf(steps).map((l) => [l.agentId, l.steps.map((s) => `${s.name}@${s.level}`)])).toEqual([
      ['r', ['research@0']], ['r2', ['research2@0']], ['w', ['email@1', 'followUp@2']],
    ]);
    // A cycle does not hang the board.
    expect(levelsOf([step('a', 'x', ['b']), step('b', 'x', ['a'])]).size).toBe(2);
  });

  it('the timeline scales bars to the run and finds the steps that overlapped', () => {
    const t = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();
    const steps = [
      step('a', 'r', [], { status: 'done', startedAt: t(0), finishedAt: t(1000) }),
      step('b', 'r2', [], { status: 'done', startedAt: t(100), finishedAt: t(800) }),
      step('c', 'w', ['a', 'b'], { status: 'running', startedAt: t(1000), finishedAt: null }),
      step('d', 'w', ['c'], { status: 'pending' }),
    ];
    const { bars, totalMs } = timelineOf(steps, Date.UTC(2026, 0, 1) + 2000);
    expect(totalMs).toBe(2000);
    expect(bars.map((b) => [b.name, Math.round(b.left), Math.round(b.width), b.ms])).toEqual([['a', 0, 50, 1000], ['b', 5, 35, 700], ['c', 50, 50, null]]);
    expect(overlapsOf(steps)).toEqual([['a', 'b']]);
    // From the journal's order: a and b both started before either finished; c came after both.
    const j = (event: string, step: string) => ({ event, step });
    expect(overlapsFromJournal([j('step.started', 'a'), j('step.started', 'b'), j('step.done', 'b'), j('step.done', 'a'), j('step.started', 'c'), j('step.done', 'c')])).toEqual([['a', 'b']]);
  });

  it('capable agents: active, with the skill and its tools', () => {
    const agents = [
      { id: '1', active: true, skills: ['draft-email'], tools: ['getContact', 'createDraft'] },
      { id: '2', active: false, skills: ['draft-email'], tools: ['getContact', 'createDraft'] },
      { id: '3', active: true, skills: ['draft-email'], tools: ['getContact'] },
    ];
    expect(capableAgents(agents, { id: 'draft-email', requiredTools: ['getContact', 'createDraft'] }).map((a) => a.id)).toEqual(['1']);
    expect(outputGist({ subject: 'Hi', to: ['a@b.test'] })).toBe('Draft “Hi” to a@b.test');
    expect(outputGist({ insights: ['CTO at Acme', 'x', 'y', 'z'] })).toBe('CTO at Acme · x · y');
  });

  it("the timeline's note: how long and what overlapped, in the present while the run goes on", () => {
    expect(timelineNote(1340, [['research', 'research2']], false)).toBe('1.34 s from the first start to the last end. Ran at the same time: research + research2.');
    expect(timelineNote(900, [], false)).toBe('0.90 s from the first start to the last end. No steps overlapped.');
    expect(timelineNote(620, [['research', 'research2']], true)).toBe('0.62 s so far. At the same time: research + research2.');
    expect(timelineNote(100, [], true)).toBe('0.10 s so far.');
  });
});
