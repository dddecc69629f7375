import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLED_TEMPLATES, needsInstall, templateFrom } from './templates';

describe('issue 9: the empty flow list offers the templates that exist', () => {
  it('bundles every template in templates/ whose flows can be copied as they are, each with valid flow documents', () => {
    const dir = new URL('../../../templates/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    // Templates with agents or @{...} references are installed from the Templates page instead (issue 12).
    const copyable = files.filter((f) => !needsInstall(JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as never));
    expect(copyable.length).toBeGreaterThanOrEqual(5);
    expect(files.filter((f) => !copyable.includes(f)).sort()).toEqual(['dormant-contact-reactivation.json', 'meeting-scheduler.json', 'new-contact-webhook.json', 'research-and-reach-out.json', 'sales-assistant.json', 'tag-engaged-contacts.json']);
    expect(BUNDLED_TEMPLATES.map((t) => `${t.id}.json`).sort()).toEqual(copyable.sort());
    for (const t of BUNDLED_TEMPLATES) expect(t.documents.length).toBeGreaterThan(0);
  });

  it('leaves out a file that holds no valid flow rather than showing it', () => {
    expect(templateFrom({ id: 'x', name: 'X', documents: [] })).toBeNull();
    expect(templateFrom({ id: 'x', name: 'X', documents: [{ schemaVersion: 2 }] })).toBeNull();
    expect(templateFrom({ name: 'X', documents: [] })).toBeNull();
  });

  it('leaves out templates that create agents or need the installer\'s values', () => {
    expect(needsInstall({ agents: [{ ref: 'a' }], documents: [] })).toBe(true);
    expect(needsInstall({ documents: [{ nodes: [{ params: { title: 'For @{var.who}' } }] }] })).toBe(true);
    expect(needsInstall({ agents: [], documents: [{ nodes: [{ params: { title: 'Hi {{ trigger.name }}' } }] }] })).toBe(false);
  });
});
