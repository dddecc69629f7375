import { z } from 'zod';
import type { Skill } from './types';

/**
 * Routing a person's request to a skill without a model (the offline provider must act, not only
 * answer): the skill whose manifest (name, description, examples) shares the most words with the
 * request, and params filled from what the request names (a contact, an email address, the text).
 */

const STOP = new Set(['the', 'and', 'for', 'with', 'about', 'from', 'into', 'that', 'this', 'please', 'can', 'you', 'could', 'would', 'what', 'who', 'how',
  'your', 'our', 'their', 'them', 'they', 'are', 'was', 'will', 'all', 'any', 'some', 'her', 'his', 'him', 'she', 'now', 'then', 'want', 'like', 'need', 'its']);

/** Lower-case word stems of 3+ letters, stop words dropped (summarise = summarize, emails = email). */
export function stems(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.toLowerCase().replace(/[\w.+-]+@[\w.-]+/g, ' ').split(/[^a-z]+/)) {
    if (raw.length < 3 || STOP.has(raw)) continue;
    out.add(raw.replace(/is(e|ing|ed)$/, 'iz$1').replace(/(ies)$/, 'y').replace(/(ing|ed|es|s)$/, '') || raw);
  }
  return out;
}

export interface SkillMatch {
  skill: Skill;
  score: number;
}

/**
 * The skill a request asks for, or null when no manifest shares a word with it. Words of the
 * skill's name count double; a name word the request lacks costs a little, so "draft an email"
 * picks Draft Email over Draft Sales Email.
 */
export function matchSkill(request: string, skills: readonly Skill[]): SkillMatch | null {
  const words = stems(request);
  let best: SkillMatch | null = null;
  for (const skill of skills) {
    const name = stems(`${skill.name} ${skill.id.replace(/-/g, ' ')}`);
    const rest = stems(`${skill.description} ${skill.examples.map((e) => e.description).join(' ')}`);
    let score = 0;
    for (const w of words) score += name.has(w) ? 2 : rest.has(w) ? 1 : 0;
    for (const w of name) if (!words.has(w)) score -= 0.1;
    if (score >= 1 && (!best || score > best.score)) best = { skill, score };
  }
  return best;
}

/** The keys a skill's params accept (from its JSON Schema). */
export function paramKeys(skill: Skill): string[] {
  const schema = z.toJSONSchema(skill.params, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown> };
  return Object.keys(schema.properties ?? {});
}

export const firstEmail = (text: string) => /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/.exec(text)?.[0]?.toLowerCase() ?? null;

/**
 * Params for `skill` from a request: the contact it names (`contactId`, `to`, `email`, `address`),
 * the request itself as free text (`instructions`, `text`, `note`), a product after "pitch",
 * "offer" or "sell". Only keys the skill accepts; the registry validates the rest.
 */
export function paramsFromRequest(request: string, skill: Skill, found: { contact: { id: string; email: string } | null; email: string | null }): Record<string, unknown> {
  const keys = new Set(paramKeys(skill));
  const address = found.email ?? found.contact?.email ?? null;
  const product = /\b(?:pitch|offer|sell)(?:ing)?\s+(.+?)(?:\s+to\s+.*)?[.!?]?$/i.exec(request)?.[1]?.trim();
  const params: Record<string, unknown> = {};
  if (keys.has('contactId') && found.contact) params.contactId = found.contact.id;
  for (const k of ['to', 'email', 'address']) if (keys.has(k) && address) params[k] = address;
  for (const k of ['instructions', 'text', 'note']) if (keys.has(k)) params[k] = request.slice(0, 2000);
  if (keys.has('product') && product) params.product = product.slice(0, 200);
  return params;
}
