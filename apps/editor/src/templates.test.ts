import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLED_TEMPLATES, templateFrom } from './templates';

describe('issue 9: the empty flow list offers the templates that exist', () => {
  it('bundles every template in templates/, each with valid flow documents', () => {
    const files = readdirSync(new URL('../../../templates', import.meta.url)).filter((f) => f.endsWith('.json'));
    expect(BUNDLED_TEMPLATES.map((t) => `${t.id}.json`).sort()).toEqual(files.sort());
    for (const t of BUNDLED_TEMPLATES) expect(t.documents.length).toBeGreaterThan(0);
  });

  it('leaves out a file that holds no valid flow rather than showing it', () => {
    expect(templateFrom({ id: 'x', name: 'X', documents: [] })).toBeNull();
    expect(templateFrom({ id: 'x', name: 'X', documents: [{ schemaVersion: 2 }] })).toBeNull();
    expect(templateFrom({ name: 'X', documents: [] })).toBeNull();
  });
});
