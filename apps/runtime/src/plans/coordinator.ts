import { createHash } from 'node:crypto';
import { firstEmail, matchSkill, paramsFromRequest, type Skill } from '@switchyard/actors';
import { SwitchyardError, TaskAnalysisSchema, type TaskAnalysis } from '@switchyard/schema';

/** The most steps a plan made from a task may have (`TaskAnalysisSchema` holds at most this many). */
export const MAX_TASK_STEPS = 50;

/** A task that splits into more steps than a plan from a task may hold: a typed error, not a crash. */
export class TooManyStepsError extends SwitchyardError {
  constructor(readonly steps: number) {
    super('BAD_INPUT', `This task needs ${steps} steps; a plan made from a task holds at most ${MAX_TASK_STEPS}: split it into smaller tasks`, {
      issues: [{ path: ['description'], message: `At most ${MAX_TASK_STEPS} steps`, code: 'too-many-steps' }],
    });
  }
}

/**
 * The person's own words, copied into a step's params, stay words: a `{{` or `}}` they typed is
 * spaced apart so it is not read as a template (`{{ context.x }}` in a task is text, not a value).
 */
export const literalText = (text: string) => text.replace(/\{(?=\{)/g, '{ ').replace(/\}(?=\})/g, '} ');

/** A contact the task names. */
export interface NamedContact {
  id: string;
  name: string;
  email: string;
}

/** Result names for the skills the seed's plans use; others get the skill id in camelCase. */
const STEP_NAMES: Record<string, string> = {
  'research-contact': 'research', 'draft-email': 'email', 'draft-sales-email': 'salesEmail', 'summarize-thread': 'summary',
};
/** Skills that gather what later steps use (their steps run first, and side by side). */
const GATHERING = new Set(['enrichment', 'analysis']);

const camel = (id: string) => id.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The contact a piece of text names: by email address, full name, then first name (whole word). */
export function contactIn(text: string, contacts: readonly NamedContact[]): NamedContact | null {
  const lower = text.toLowerCase();
  const email = firstEmail(text);
  if (email) return contacts.find((c) => c.email.toLowerCase() === email) ?? null;
  const full = contacts.find((c) => c.name.trim() && lower.includes(c.name.toLowerCase().trim()));
  if (full) return full;
  const words = new Set(lower.split(/[^\p{L}\p{N}'-]+/u));
  return contacts.find((c) => {
    const first = c.name.toLowerCase().trim().split(/\s+/)[0] ?? '';
    return first.length >= 3 && words.has(first);
  }) ?? null;
}

/**
 * The deterministic analyser used without a model (the offline provider's answer): the task is
 * split into clauses ("and", "then", commas); each clause goes to the skill whose manifest (name,
 * description, examples) matches it best, with params filled from the contact it names. A clause
 * with no skill of its own but another contact repeats the previous skill for that contact
 * ("research Ada and Grace"). Skills some active agent can run are preferred. Gathering skills (enrichment, analysis) run side by side; a step
 * that writes or acts depends on the gathering steps about the same contact, and "then" makes a
 * step wait for the one before it. Null when no clause matches any skill; a task of more than
 * `MAX_TASK_STEPS` steps is `TooManyStepsError` (BAD_INPUT).
 */
export function offlineAnalysis(description: string, skills: readonly Skill[], contacts: readonly NamedContact[], held: readonly Skill[] = skills): TaskAnalysis | null {
  const parts = description.split(/(\bthen\b|,|;|\.\s|\band\b|\balso\b)/i);
  const clauses: { text: string; after: boolean }[] = [];
  let after = false;
  for (const p of parts) {
    if (/^(then|,|;|\.\s|and|also)$/i.test(p.trim() || p)) {
      if (/then/i.test(p)) after = true;
      continue;
    }
    if (!p.trim()) continue;
    clauses.push({ text: p.trim(), after });
    after = false;
  }
  const taskContact = contactIn(description, contacts);
  type Draft = { name: string; skill: Skill; contact: NamedContact | null; text: string; after: boolean };
  const drafts: Draft[] = [];
  for (const c of clauses) {
    // Skills your agents can run first ("draft an email" goes to Draft Email when a writer has it),
    // then any skill (a plan that needs a skill nobody has then says so by name).
    const match = matchSkill(c.text, held) ?? matchSkill(c.text, skills);
    const contact = contactIn(c.text, contacts);
    const prev = drafts.at(-1);
    if (!match) {
      if (prev && contact && contact.id !== prev.contact?.id) drafts.push({ ...prev, contact, text: c.text, after: c.after, name: '' });
      continue;
    }
    drafts.push({ name: '', skill: match.skill, contact: contact ?? (GATHERING.has(match.skill.category) ? taskContact : prev?.contact ?? taskContact), text: c.text, after: c.after });
  }
  if (!drafts.length) return null;
  if (drafts.length > MAX_TASK_STEPS) throw new TooManyStepsError(drafts.length);

  const used = new Map<string, number>();
  for (const d of drafts) {
    const base = STEP_NAMES[d.skill.id] ?? camel(d.skill.id);
    const n = (used.get(base) ?? 0) + 1;
    used.set(base, n);
    d.name = n === 1 ? base : `${base}${n}`;
  }

  const requiredSkills = drafts.map((d, i) => {
    const earlier = drafts.slice(0, i);
    const gathering = GATHERING.has(d.skill.category);
    const feeds = gathering ? [] : earlier.filter((e) => GATHERING.has(e.skill.category) && (!d.contact || !e.contact || e.contact.id === d.contact.id));
    const dependsOn = new Set(feeds.map((e) => e.name));
    if (d.after && i > 0) dependsOn.add(drafts[i - 1]!.name);
    const text = literalText(d.text);
    const params = paramsFromRequest(text, d.skill, { contact: d.contact, email: firstEmail(d.text) });
    const research = feeds.find((e) => e.skill.id === 'research-contact');
    if (research && d.skill.id === 'draft-email') {
      // The email is built from the research: its address, a subject and what was found.
      params.to = `{{ steps.${research.name}.output.profile.email }}`;
      params.subject = `A note for {{ steps.${research.name}.output.profile.name }}`;
      // The insights are a list: joined, they read as text (mixed into text a list is JSON).
      params.instructions = `${text}. Personalize it with what the research found: {{ join(steps.${research.name}.output.insights, "; ") }}`;
    }
    return { name: d.name, skill: d.skill.id, dependsOn: [...dependsOn], params, critical: true };
  });
  const depth = new Map<string, number>();
  for (const s of requiredSkills) depth.set(s.name, 1 + Math.max(0, ...s.dependsOn.map((d) => depth.get(d) ?? 0)));
  const levels = Math.max(...depth.values());
  const sequencing = levels === 1 ? 'parallel' : levels === requiredSkills.length ? 'sequential' : 'mixed';
  return TaskAnalysisSchema.parse({ requiredSkills, sequencing, estimatedDurationMinutes: levels });
}

/** The task's context as the prompt shows it: JSON, cut at 4,000 characters (the API lets a context be megabytes). */
const contextForPrompt = (context: Record<string, unknown>) => {
  const json = JSON.stringify(context);
  return json.length > 4000 ? `${json.slice(0, 4000)}… (cut)` : json;
};

/** The prompt for the model's analysis: the skills that exist and the contacts the task names. */
export function analysisPrompt(description: string, context: Record<string, unknown>, skills: readonly Skill[], contacts: readonly NamedContact[]) {
  const catalogue = skills.map((s) => `- ${s.id}: ${s.name}. ${s.description}. Examples: ${s.examples.map((e) => `${e.description} ${JSON.stringify(e.params)}`).join('; ')}`).join('\n');
  const people = contacts.length ? contacts.map((c) => `- ${c.name} <${c.email}> id ${c.id}`).join('\n') : '(none named)';
  return {
    system: [
      'You are a task analysis expert. Split the task into steps, each one skill from the list. Use only skill ids from the list.',
      'Give each step a short result name (lowerCamelCase, e.g. "research", "email"), the names of the steps it needs first (dependsOn),',
      'and its params. A param string may use the output of a step it depends on as {{ steps.<name>.output.<field> }}',
      '(research-contact outputs profile.name, profile.email, insights, recommendations; a list reads as text with {{ join(steps.<name>.output.insights, "; ") }}).',
      'Steps that do not need each other run in parallel.',
      'Answer with JSON: {"requiredSkills": [{"name", "skill", "dependsOn", "params", "critical"}], "sequencing": "parallel"|"sequential"|"mixed", "estimatedDurationMinutes": number}.',
    ].join('\n'),
    user: `Task: ${description}\nContext: ${contextForPrompt(context)}\n\nSkills:\n${catalogue}\n\nContacts named in the task:\n${people}`,
  };
}

/** A valid document id for a plan made from a task. */
export function planDocId(description: string, salt: string) {
  const slug = description.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'task';
  return `plan-${slug}-${createHash('sha256').update(`${description}|${salt}`).digest('hex').slice(0, 6)}`;
}

/** Canvas positions: one column per dependency level, one lane (row) per agent. */
export function layoutSteps(steps: { name: string; dependsOn: string[]; agent: string }[]) {
  const level = new Map<string, number>();
  const order = [...steps];
  for (let pass = 0; pass < steps.length; pass++) {
    for (const s of order) level.set(s.name, s.dependsOn.length ? 1 + Math.max(...s.dependsOn.map((d) => level.get(d) ?? 0)) : 0);
  }
  const lanes = [...new Set(steps.map((s) => s.agent))];
  const slot = new Map<string, number>();
  return new Map(steps.map((s) => {
    const lane = lanes.indexOf(s.agent);
    const key = `${lane}:${level.get(s.name)}`;
    const n = slot.get(key) ?? 0;
    slot.set(key, n + 1);
    return [s.name, { x: 80 + (level.get(s.name) ?? 0) * 300, y: 60 + lane * 220 + n * 90 }];
  }));
}
