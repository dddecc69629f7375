import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFlowFile } from './flow-file';

const template = JSON.parse(readFileSync(new URL('../../../../templates/welcome-new-contact.json', import.meta.url), 'utf8')) as { documents: Array<Record<string, unknown>> };
const doc = () => structuredClone(template.documents[0]!) as Record<string, unknown> & { nodes: Array<Record<string, unknown>> };
const problemOf = (value: unknown) => {
  const result = readFlowFile(JSON.stringify(value));
  if (result.ok) throw new Error('expected the file to be refused');
  return result.problem;
};

describe('issue 9: a malformed flow file says what is wrong in words, naming the field', () => {
  it('reads a good file', () => {
    expect(readFlowFile(JSON.stringify(doc())).ok).toBe(true);
  });

  it('names schemaVersion instead of "Invalid input: expected 1"', () => {
    const problem = problemOf({ ...doc(), schemaVersion: 2 });
    expect(problem).toBe('“schemaVersion” must be 1, but the file has 2.');
    expect(problem).not.toMatch(/Invalid input/);
  });

  it('says a field is missing, has the wrong type, or is not one of the allowed values', () => {
    const noName = doc();
    delete noName.name;
    expect(problemOf(noName)).toBe('“name” is missing (it should be text).');
    expect(problemOf({ ...doc(), kind: 'robot' })).toBe('“kind” must be one of “workflow”, “behavior”, “plan”, but the file has “robot”.');
    expect(problemOf({ ...doc(), name: '' })).toBe('“name” is empty.');
  });

  it('points into nodes by their id', () => {
    const d = doc();
    const first = d.nodes[0]!;
    first.position = 'top left';
    expect(problemOf(d)).toBe(`“position” of node “${String(first.id)}” should be an object, but the file has text.`);
  });

  it('refuses what is not JSON or not an object, in words', () => {
    expect(readFlowFile('{ nope')).toEqual({ ok: false, problem: 'it is not valid JSON.' });
    expect(readFlowFile('[1, 2]')).toEqual({ ok: false, problem: 'it holds no flow: a flow file is one JSON object.' });
    for (const text of ['1', '"x"', 'null', '{}']) {
      const result = readFlowFile(text);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problem).not.toMatch(/Invalid input|expected \w+, received/);
    }
  });
});
