import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TemplateSchema, type FlowDocument } from '@switchyard/schema';
import { bindBundle, checkBundle, diagnosticsOf, findSecrets, validateVariables } from '../src/templates/bundle';
import { mergeDocuments } from '../src/templates/upgrade';
import { BUILTIN_TEMPLATES_DIR } from '../src/templates/wiring';

const load = (id: string) => TemplateSchema.parse(JSON.parse(readFileSync(`${BUILTIN_TEMPLATES_DIR}/${id}.json`, 'utf8')));

describe('issue 12: template bundles (pure)', () => {
  it('every built-in passes the catalog checks and compiles once bound with its defaults', () => {
    const files = readdirSync(BUILTIN_TEMPLATES_DIR).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const { template } = checkBundle(JSON.parse(readFileSync(`${BUILTIN_TEMPLATES_DIR}/${f}`, 'utf8')));
      const ids = Object.fromEntries(template.agents.map((a, i) => [a.ref, `00000000-0000-4000-8000-00000000000${i}`]));
      const bound = bindBundle(template, validateVariables(template.variables, template.variables.some((v) => v.key === 'product') ? { product: 'X' } : template.variables.some((v) => v.key === 'url') ? { url: 'https://example.com/hook' } : {}), ids);
      // Plans go through the plan analyser (they have no trigger), the other kinds through the compiler.
      for (const doc of bound.documents) expect(diagnosticsOf(doc).filter((d) => d.severity === 'error'), f).toEqual([]);
    }
  });

  it('binds typed values, agent ids and targets', () => {
    const weekly = load('weekly-relationship-review');
    const bound = bindBundle(weekly, validateVariables(weekly.variables, { timezone: 'Europe/Paris' }), {});
    expect(bound.documents[0]!.nodes[0]!.params.timezone).toBe('Europe/Paris');
    const meeting = load('meeting-scheduler');
    const m = bindBundle(meeting, validateVariables(meeting.variables, { duration: 45 }), { scheduler: 'agent-uuid' });
    expect(m.documents[0]!.nodes[1]!.params).toMatchObject({ agentId: 'agent-uuid', params: { durationMinutes: 45, timezone: 'UTC', workdayStart: 9 } });
    expect(m.agents[0]!.systemPrompt).toContain('(UTC)');
    expect(() => validateVariables(meeting.variables, { duration: 5 })).toThrow(/at least 15/);
    expect(() => validateVariables(meeting.variables, { timezone: 'Mars/Olympus' })).toThrow(/timezone/);
    expect(() => validateVariables(meeting.variables, { nope: 1 })).toThrow(/Unknown variable/);
  });

  it('the plan template binds its two agents and the installer\'s values into the steps, typed', () => {
    const plan = load('research-and-reach-out');
    expect(plan.documents.map((d) => d.kind)).toEqual(['plan']);
    const bound = bindBundle(plan, validateVariables(plan.variables, { goal: 'Offer a demo', tone: 'concise', depth: 'basic', maxWords: 80 }), { researcher: 'r-id', writer: 'w-id' });
    const [research, email] = bound.documents[0]!.nodes;
    expect(research!.params).toMatchObject({ agent: 'r-id', params: { contactId: '{{ context.contactId }}', depth: 'basic' } });
    expect(email!.params).toMatchObject({ agent: 'w-id', params: { tone: 'concise', maxWords: 80, instructions: 'Offer a demo. Personalize it with what the research found: {{ join(steps.research.output.insights, "; ") }}' } });
    expect(bound.agents.find((a) => a.ref === 'writer')!.systemPrompt).toContain('a concise tone');
    expect(() => validateVariables(plan.variables, { maxWords: 10 })).toThrow(/at least 50/);
    expect(() => validateVariables(plan.variables, { depth: 'shallow' })).toThrow(/one of basic, detailed, comprehensive/);
  });

  it('finds secrets by key and by shape, not in variable references', () => {
    expect(findSecrets({ headers: { Authorization: 'Basic abc' } })).toEqual([['headers', 'Authorization']]);
    expect(findSecrets({ url: 'https://x.test/?k=sk-abcdefghijklmnopqrstu' })).toEqual([['url']]);
    expect(findSecrets({ headers: { Authorization: '@{var.token}' }, body: 'hello' })).toEqual([]);
    // Keys that contain a secret's name, at any depth; credentials in URLs; incoming-webhook URLs.
    expect(findSecrets({ a: { headers: { 'X-Webhook-Secret': 'abc', 'X-API-Token': 'abc', 'Private-Key': 'k', 'X-Hub-Signature': 's' } } }))
      .toEqual([['a', 'headers', 'X-Webhook-Secret'], ['a', 'headers', 'X-API-Token'], ['a', 'headers', 'Private-Key'], ['a', 'headers', 'X-Hub-Signature']]);
    expect(findSecrets({ u: 'https://u:p@x.test/', q: 'https://x.test/?api_key=1', k: 'https://x.test/?key=1', s: 'https://discord.com/api/webhooks/123/abcdefghijklmnopqrstuvwxyz' }))
      .toEqual([['u'], ['q'], ['k'], ['s']]);
    // Not secrets: expressions and installer values, a variable's own key, ordinary text and URLs.
    expect(findSecrets({ url: 'https://x.test/?token={{ trigger.t }}&page=2', variables: [{ key: 'token', label: 'Token' }], author: 'Ada', maxTokens: 10, note: 'a passing remark' })).toEqual([]);
  });

  it('refuses docs that could run script in any spelling, and keeps ordinary markdown', () => {
    const base = JSON.parse(readFileSync(`${BUILTIN_TEMPLATES_DIR}/notify-important-email.json`, 'utf8')) as Record<string, unknown>;
    for (const docs of ['<script>x</script>', '<img src=x onerror=alert(1)>', '<svg onload="x">', '<object data="x">', '[a](vbscript:msgbox)', '[a](JavaScript:alert(1))']) {
      expect(() => checkBundle({ ...base, docs }), docs).toThrow(/script/);
    }
    expect(checkBundle({ ...base, docs: '# Hi\n\nWhen a < b and onion = 3, nothing runs.' }).template.docs).toContain('onion');
  });

  it('merges an upgrade per node: theirs where only they changed, mine where only I did, mine plus a conflict where both did', () => {
    const node = (id: string, title: string) => ({ id, type: 'action.createTask', typeVersion: 1, position: { x: 0, y: 0 }, params: { title } });
    const doc = (nodes: ReturnType<typeof node>[]): FlowDocument => ({ schemaVersion: 1, id: 'f', kind: 'workflow', name: 'F', description: '', version: 1, nodes, edges: [], settings: {} });
    const base = doc([node('a', 'A'), node('b', 'B'), node('c', 'C')]);
    const mine = doc([node('a', 'A mine'), node('b', 'B'), node('c', 'C mine')]);
    const theirs = doc([node('a', 'A'), node('b', 'B theirs'), node('c', 'C theirs'), node('d', 'D new')]);
    const { document, conflicts } = mergeDocuments(base, mine, theirs);
    expect(document.nodes.map((n) => `${n.id}:${n.params.title}`)).toEqual(['a:A mine', 'b:B theirs', 'c:C mine', 'd:D new']);
    expect(conflicts.map((c) => c.nodeId)).toEqual(['c']);
  });
});
