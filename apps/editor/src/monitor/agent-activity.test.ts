import { describe, expect, it } from 'vitest';
import { activityText } from './agent-activity';
import type { AgentActor } from './format';

const agent = (patch: Partial<AgentActor>): AgentActor => ({
  kind: 'agent', id: 'a1', name: 'Sam', active: true, status: 'idle', currentRequest: null, mailboxDepth: 0, pendingApprovals: 0,
  owner: null, ownerAlive: false, lastError: null, updatedAt: '2026-01-07T16:00:00.000Z', ageMs: 0, ...patch,
});
const request = { id: 'q1', kind: 'skill', skill: 'draft-email', runId: 'r1', nodeId: 'reply', startedAt: '2026-01-07T16:00:00.000Z', owner: 'p1' };

describe('agent activity in words', () => {
  it('says what the agent works on, for which run step, since when and what waits behind it', () => {
    expect(activityText(agent({ status: 'working', currentRequest: request, mailboxDepth: 1, ageMs: 12_000 }))).toBe('Running draft-email for a run (step reply) · 12 s');
    expect(activityText(agent({ status: 'working', currentRequest: request, mailboxDepth: 3, ageMs: 500 }))).toBe('Running draft-email for a run (step reply) · 500 ms · 2 more queued');
    expect(activityText(agent({ status: 'working', currentRequest: { ...request, kind: 'chat', skill: null, runId: null, nodeId: null }, mailboxDepth: 1, ageMs: 2000 })))
      .toBe('Answering a chat message · 2.0 s');
  });

  it('says what waits for a person, what failed, and what is queued', () => {
    expect(activityText(agent({ status: 'waiting_approval', pendingApprovals: 2 }))).toBe('Waiting for your decision on 2 proposals');
    expect(activityText(agent({ status: 'waiting_approval', pendingApprovals: 1 }))).toBe('Waiting for your decision on 1 proposal');
    expect(activityText(agent({ status: 'error', lastError: 'the model crashed' }))).toBe('Last request failed: the model crashed');
    expect(activityText(agent({ status: 'idle', mailboxDepth: 1 }))).toBe('1 request queued');
    expect(activityText(agent({}))).toBe('Nothing to do');
  });
});
