import { describe, expect, it } from 'vitest';
import { forEachProgressOf, runBadgeOf, type NodeRunView } from './overlay';

const view = (patch: Partial<NodeRunView>): NodeRunView => ({ state: 'succeeded', output: null, error: null, reason: null, attempts: 1, request: null, ...patch });

describe('issue 9: a run stopped by a condition is not a green Done', () => {
  it('shows "Stopped here" with the reason for a step that succeeded without firing an output', () => {
    expect(runBadgeOf(view({ reason: 'Sender bob@x.test is not a known contact' }))).toEqual({
      kind: 'stopped',
      label: 'Stopped here',
      reason: 'Sender bob@x.test is not a known contact',
    });
  });

  it('uses the fired handles when the view carries them', () => {
    expect(runBadgeOf(view({ handles: [] }))?.kind).toBe('stopped');
    expect(runBadgeOf(view({ handles: ['out'] }))?.kind).toBe('succeeded');
    expect(runBadgeOf(view({ handles: ['false'], reason: null }))?.kind).toBe('succeeded');
  });

  it('keeps Done for a step that passed, and the other states as they are', () => {
    expect(runBadgeOf(view({}))).toEqual({ kind: 'succeeded', label: 'Done' });
    expect(runBadgeOf(view({ state: 'skipped', reason: 'not reached' }))).toEqual({ kind: 'skipped', label: 'Skipped' });
    expect(runBadgeOf(view({ state: 'failed', reason: 'boom' }))?.kind).toBe('failed');
    expect(runBadgeOf(view({ state: 'pending' }))).toBeNull();
    expect(runBadgeOf(undefined)).toBeNull();
  });
});

describe('issue 10: a for-each running its branch per item shows how far its items got', () => {
  it('counts the items ended of those picked while it runs, and the items done at the end', () => {
    expect(forEachProgressOf(view({ state: 'running', output: { count: 2, total: 5, skipped: 1, pending: 2 } }))).toBe('2/4 items');
    expect(forEachProgressOf(view({ state: 'running', output: { count: 0, total: 0, skipped: 0, pending: 0 } }))).toBe('0/0 items');
    expect(forEachProgressOf(view({ output: { count: 3, total: 3, skipped: 0, results: [] } }))).toBe('3 items');
    expect(forEachProgressOf(view({ output: { count: 1, total: 1, skipped: 0, results: [] } }))).toBe('1 item');
  });

  it('says nothing without item counts: not started, failed, garbage', () => {
    expect(forEachProgressOf(view({ state: 'running', output: null }))).toBeNull();
    expect(forEachProgressOf(view({ state: 'failed', output: { error: { code: 'BAD_INPUT' } } }))).toBeNull();
    expect(forEachProgressOf(view({ output: { count: '3' } }))).toBeNull();
    expect(forEachProgressOf(view({ output: 'x' }))).toBeNull();
    expect(forEachProgressOf(undefined)).toBeNull();
  });
});
