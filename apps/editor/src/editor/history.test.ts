import { describe, expect, it } from 'vitest';
import { HISTORY_LIMIT, createHistory, endGroup, record, redo, undo, type History } from './history';

/** Types `text` into one field a letter at a time, as the inspector reports it. */
function type(history: History, group: string, before: string, text: string, at = (s: string) => `title=${s}`): History {
  let h = history;
  for (let i = 1; i <= text.length; i++) h = record(h, at(before + text.slice(0, i)), group);
  return h;
}

describe('undo history', () => {
  it('makes every canvas edit a step that undo and redo walk exactly', () => {
    let h = createHistory('a');
    h = record(h, 'b');
    h = record(h, 'c');
    expect(h.past).toEqual(['a', 'b']);
    h = undo(h);
    expect(h.current).toBe('b');
    h = undo(h);
    expect(h.current).toBe('a');
    expect(undo(h)).toBe(h);
    h = redo(redo(h));
    expect(h.current).toBe('c');
    expect(redo(h)).toBe(h);
  });

  it('ignores a change that leaves the graph as it is (selection, measuring)', () => {
    const h = record(createHistory('a'), 'b');
    expect(record(h, 'b')).toBe(h);
    expect(record(h, 'b', 'task:title')).toBe(h);
  });

  it('groups the keystrokes of one field into one step, so undo removes the whole word and redo brings it back', () => {
    let h = record(createHistory('empty'), 'title=');
    h = type(h, 'task:title', '', 'Follow up');
    expect(h.current).toBe('title=Follow up');
    expect(h.past).toEqual(['empty', 'title=']);
    h = undo(h);
    expect(h.current).toBe('title=');
    h = redo(h);
    expect(h.current).toBe('title=Follow up');
  });

  it('starts a new step when the field lost focus, another field or node is edited, or the canvas changes', () => {
    let h = type(createHistory('title='), 'task:title', '', 'Call');
    h = endGroup(h);
    h = type(h, 'task:title', 'Call', ' back');
    // Another field of the same node, then the same field of another node.
    h = record(h, 'note', 'task:notes');
    h = record(h, 'other', 'task_2:title');
    // A canvas edit in between splits the same field's typing too.
    h = record(h, 'other+moved');
    h = record(h, 'other+moved+x', 'task_2:title');
    expect(h.past).toEqual(['title=', 'title=Call', 'title=Call back', 'note', 'other', 'other+moved']);
  });

  it('does not join an undone or redone step to the typing that follows', () => {
    let h = type(createHistory('title='), 'task:title', '', 'Call');
    h = undo(h);
    expect(h.future).toEqual(['title=Call']);
    h = type(h, 'task:title', '', 'Mail');
    expect(h.past).toEqual(['title=']);
    expect(h.future).toEqual([]);
    h = redo(undo(h));
    h = record(h, 'title=Mails', 'task:title');
    expect(h.past).toEqual(['title=', 'title=Mail']);
  });

  it('drops a step that typed back to where it began, so undo does not seem to do nothing', () => {
    let h = record(createHistory('a'), 'title=');
    h = type(h, 'task:title', '', 'x');
    h = record(h, 'title=', 'task:title');
    expect(h.past).toEqual(['a']);
    // Typing on in the same field is a fresh step from there.
    h = record(h, 'title=y', 'task:title');
    expect(h.past).toEqual(['a', 'title=']);
    expect(undo(undo(h)).current).toBe('a');
  });

  it(`keeps the last ${HISTORY_LIMIT} steps`, () => {
    let h = createHistory('0');
    for (let i = 1; i <= HISTORY_LIMIT + 5; i++) h = record(h, String(i));
    expect(h.past).toHaveLength(HISTORY_LIMIT);
    expect(h.past[0]).toBe('5');
  });
});
