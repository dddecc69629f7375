import { describe, expect, it } from 'vitest';
import { runBadgeOf, type NodeRunView } from './overlay';

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
