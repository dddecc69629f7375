import { describe, expect, it } from 'vitest';
import { parseRoute, hrefOf } from '../router';
import { formatDuration, percent, waitsOnText } from './format';

describe('monitor formatting', () => {
  it('says what a run waits on in words', () => {
    const until = '2026-01-07T16:00:07.000Z';
    expect(waitsOnText({ type: 'delay', nodeId: 'wait', until, retry: false })).toMatch(/^waiting until /);
    expect(waitsOnText({ type: 'delay', nodeId: 'wait', until, retry: true })).toMatch(/^retrying at /);
    expect(waitsOnText({ type: 'approval', nodeId: 'ok' })).toBe('waiting for approval');
    expect(waitsOnText({ type: 'agent', nodeId: 'd', agentId: 'a', agentName: 'Sam', approval: false })).toBe('waiting for agent Sam');
    expect(waitsOnText({ type: 'agent', nodeId: 'd', agentId: 'a', agentName: 'Sam', approval: true })).toBe("waiting for your decision on Sam's proposal");
    expect(waitsOnText({ type: 'step', nodeId: 'e', nodeType: 'action.sendEmail' })).toBe('running Send email');
  });

  it('formats durations and rates', () => {
    expect(formatDuration(450)).toBe('450 ms');
    expect(formatDuration(3_200)).toBe('3.2 s');
    expect(formatDuration(61_000)).toBe('1 min 1 s');
    expect(formatDuration(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min');
    expect(formatDuration(null)).toBe('—');
    expect(percent(0.666)).toBe('67%');
    expect(percent(null)).toBe('—');
  });

  it('routes the Monitor tabs and a run timeline', () => {
    expect(parseRoute('/monitor')).toEqual({ page: 'monitor', tab: 'live' });
    expect(parseRoute('/monitor/metrics')).toEqual({ page: 'monitor', tab: 'metrics' });
    const runId = '0b9a4d2e-7c1f-4d2e-9a4d-2e7c1f0b9a4d';
    expect(parseRoute(`/monitor/runs/${runId}`)).toEqual({ page: 'monitor', tab: 'history', runId });
    expect(hrefOf({ page: 'monitor', tab: 'history', runId })).toBe(`/monitor/runs/${runId}`);
    expect(hrefOf({ page: 'monitor', tab: 'history' })).toBe('/monitor/history');
    expect(parseRoute('/monitor/nope').page).toBe('not-found');
  });
});
