import { FEEDBACK_ADJUSTMENTS, PERSONALITY_TRAITS, type FeedbackType, type Personality } from '@switchyard/schema';

const HIGH = 0.7;
const LOW = 0.3;

/** The traits as instructions (seed days 8-9: > 0.7 and < 0.3 thresholds). */
export function personalityPrompt(t: Personality): string {
  const traits: string[] = [];
  if (t.formality > HIGH) traits.push('formal and professional');
  else if (t.formality < LOW) traits.push('casual and friendly');
  if (t.enthusiasm > HIGH) traits.push('enthusiastic and energetic');
  else if (t.enthusiasm < LOW) traits.push('calm and reserved');
  if (t.brevity > HIGH) traits.push('concise and to-the-point');
  else if (t.brevity < LOW) traits.push('detailed and thorough');
  if (t.proactivity > HIGH) traits.push('proactive, suggesting next steps unprompted');
  else if (t.proactivity < LOW) traits.push('responsive, acting only when asked');
  if (t.creativity > HIGH) traits.push('creative and innovative');
  else if (t.creativity < LOW) traits.push('conventional and predictable');
  if (t.empathy > HIGH) traits.push('empathetic and understanding');
  else if (t.empathy < LOW) traits.push('logical and matter-of-fact');
  const list = traits.length ? traits.join(', ') : 'balanced and neutral';
  return `You have the following personality traits: ${list}.\nMaintain these characteristics consistently in all interactions.`;
}

const CASUAL: [RegExp, string][] = [[/\bDear ([^,\n]+),/g, 'Hi $1,'], [/\bKind regards,/g, 'Cheers,'], [/\bI would\b/g, "I'd"], [/\bI am\b/g, "I'm"], [/\bdo not\b/g, "don't"], [/\bcannot\b/g, "can't"]];
const FORMAL: [RegExp, string][] = [[/\bHi ([^,!\n]+)[,!]/g, 'Dear $1,'], [/\bI'd\b/g, 'I would'], [/\bI'm\b/g, 'I am'], [/\bdon't\b/g, 'do not'], [/\bcan't\b/g, 'cannot'], [/\bThanks,/g, 'Kind regards,']];

/** Adjusts an answer to the traits (seed's `adjustResponse`): formality and enthusiasm, rewording only. */
export function adjustResponse(text: string, t: Personality): string {
  let out = text;
  if (t.formality < LOW) for (const [re, to] of CASUAL) out = out.replace(re, to);
  else if (t.formality > HIGH) for (const [re, to] of FORMAL) out = out.replace(re, to);
  if (t.enthusiasm > HIGH && !/!/.test(out)) out = out.replace(/\.(\s*)$/, '!$1');
  // Brevity is asked of the model in the system prompt ("concise and to-the-point"), never done
  // here by cutting: trimming sentences deleted what the model wrote (a last sentence without a
  // full stop, "Kind regards,"). The adjustments above only reword.
  return out;
}

/** Applies feedback items in order, each clamped to 0..1 (rounded to avoid float drift). */
export function evolve(t: Personality, feedback: FeedbackType[]): Personality {
  const next = { ...t };
  for (const f of feedback) {
    const { trait, delta } = FEEDBACK_ADJUSTMENTS[f];
    next[trait] = Math.round(Math.max(0, Math.min(1, next[trait] + delta)) * 1000) / 1000;
  }
  return next;
}

export const isPersonality = (v: unknown): v is Personality =>
  !!v && typeof v === 'object' && PERSONALITY_TRAITS.every((k) => typeof (v as Record<string, unknown>)[k] === 'number');
