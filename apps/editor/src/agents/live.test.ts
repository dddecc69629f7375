import { describe, expect, it } from 'vitest';
import { applyAgentEvent, liveKey, reconnectDelay, type AgentLive } from './live';

const event = (over: Partial<AgentLive>): AgentLive => ({ id: 'a1', state: 'idle', pendingApprovals: 0, queued: 0, lastError: null, at: '2026-01-07T15:00:00.000Z', ...over });

describe('live agent state', () => {
  it('keeps the newest event per agent and ignores one that arrives late', () => {
    let known = applyAgentEvent({}, event({ state: 'working', at: '2026-01-07T15:00:01.000Z' }));
    known = applyAgentEvent(known, event({ id: 'a2' }));
    expect(Object.keys(known)).toEqual(['a1', 'a2']);
    const stale = applyAgentEvent(known, event({ state: 'idle', at: '2026-01-07T15:00:00.500Z' }));
    expect(stale).toBe(known);
    expect(applyAgentEvent(known, event({ state: 'waiting_approval', pendingApprovals: 1, at: '2026-01-07T15:00:02.000Z' })).a1?.state).toBe('waiting_approval');
  });

  it('reloads on a new state or a new number of proposals, not on queue changes', () => {
    expect(liveKey(event({}))).toBe(liveKey(event({ queued: 3, at: '2026-01-07T16:00:00.000Z' })));
    expect(liveKey(event({}))).not.toBe(liveKey(event({ pendingApprovals: 1 })));
    expect(liveKey(undefined)).toBeNull();
  });

  it('backs off reconnecting: 1 s, 2 s, 4 s … at most 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map(reconnectDelay)).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});
