import { describe, expect, it } from 'vitest';
import { decidePop, hrefOf, indexOf, parseRoute } from './router';

const editor = { path: '/flows/welcome', index: 3 };

describe('indexOf', () => {
  it('reads the index the router stores in history.state', () => {
    expect(indexOf({ index: 0 })).toBe(0);
    expect(indexOf({ index: 7 })).toBe(7);
  });

  it('is null for entries the router did not make', () => {
    for (const state of [null, undefined, 3, 'x', {}, { index: '2' }]) expect(indexOf(state)).toBeNull();
  });
});

describe('decidePop', () => {
  it('holds Back off the guarded editor: a step forward returns to it', () => {
    expect(decidePop(editor, { path: '/', state: { index: 2 } }, true)).toEqual({ type: 'hold', undo: 1 });
  });

  it('holds Forward and a jump of several entries with the opposite step', () => {
    expect(decidePop(editor, { path: '/agents', state: { index: 4 } }, true)).toEqual({ type: 'hold', undo: -1 });
    expect(decidePop(editor, { path: '/', state: { index: 0 } }, true)).toEqual({ type: 'hold', undo: 3 });
  });

  it('follows without a guard', () => {
    expect(decidePop(editor, { path: '/', state: { index: 2 } }, false)).toEqual({ type: 'follow', index: 2, stamp: false });
  });

  it('follows the return to the editor that a hold starts, though the guard is still there', () => {
    expect(decidePop({ path: '/flows/welcome', index: 3 }, { path: '/flows/welcome', state: { index: 3 } }, true)).toEqual({
      type: 'follow',
      index: 3,
      stamp: false,
    });
  });

  it('follows an entry a fragment link pushed, as the next index, and asks to write it there', () => {
    expect(decidePop(editor, { path: '/flows/welcome', state: null }, true)).toEqual({ type: 'follow', index: 4, stamp: true });
  });

  it('never holds with a step of 0, which would reload the page', () => {
    expect(decidePop(editor, { path: '/', state: { index: 3 } }, true)).toEqual({ type: 'follow', index: 3, stamp: false });
  });
});

describe('parseRoute', () => {
  it('knows the editor, agent and list pages', () => {
    expect(parseRoute('/flows/welcome')).toEqual({ page: 'editor', docId: 'welcome' });
    expect(parseRoute('/agents/a-1')).toEqual({ page: 'agent', agentId: 'a-1' });
    expect(parseRoute('/')).toEqual({ page: 'flows' });
    expect(parseRoute('/flows')).toEqual({ page: 'flows' });
  });

  it('issue 9: an unknown URL is a not-found page, not the flow list', () => {
    expect(parseRoute('/elsewhere')).toEqual({ page: 'not-found', path: '/elsewhere' });
    expect(parseRoute('/nope')).toEqual({ page: 'not-found', path: '/nope' });
    expect(parseRoute('/flows/9bad')).toEqual({ page: 'not-found', path: '/flows/9bad' });
    expect(parseRoute('/flows/a/b')).toEqual({ page: 'not-found', path: '/flows/a/b' });
  });

  it('issue 13: a flow opened on one of its runs, and back to its path', () => {
    const runId = '0b6c8f3e-3a52-4d0a-9a43-2f6f3b9c1d7e';
    const route = parseRoute(`/flows/welcome/runs/${runId}`);
    expect(route).toEqual({ page: 'editor', docId: 'welcome', runId });
    expect(hrefOf(route)).toBe(`/flows/welcome/runs/${runId}`);
    expect(hrefOf({ page: 'editor', docId: 'welcome' })).toBe('/flows/welcome');
    // Not a run id: a not-found page, not the flow without its run.
    expect(parseRoute('/flows/welcome/runs/42')).toEqual({ page: 'not-found', path: '/flows/welcome/runs/42' });
    expect(parseRoute('/flows/welcome/runs/')).toEqual({ page: 'not-found', path: '/flows/welcome/runs/' });
  });
});
