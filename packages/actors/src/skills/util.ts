import type { EffectOutcome, SkillContext, SkillEmail } from './types';

export interface EmailLike {
  from: string;
  fromName?: string;
  subject: string;
  body: string;
  threadId?: string;
}

/** The email a workflow was triggered by, if its trigger was an email. */
export function emailFromTrigger(trigger: unknown): EmailLike | null {
  if (!trigger || typeof trigger !== 'object') return null;
  const t = trigger as Record<string, unknown>;
  if (typeof t.from !== 'string' || !t.from) return null;
  return {
    from: t.from, subject: typeof t.subject === 'string' ? t.subject : '', body: typeof t.body === 'string' ? t.body : '',
    ...(typeof t.fromName === 'string' ? { fromName: t.fromName } : {}),
    ...(typeof t.threadId === 'string' ? { threadId: t.threadId } : {}),
  };
}

export const firstName = (name: string | undefined, email: string) => (name?.trim() || email.split('@')[0] || 'there').split(/\s+/)[0]!;

/** Keeps the first `max` words, keeping line breaks. */
export function limitWords(text: string, max: number): string {
  let count = 0;
  return text.split(/(\s+)/).filter((w) => (w.trim() ? ++count <= max : count < max)).join('').trim();
}

export const sentences = (text: string) => text.replace(/\s+/g, ' ').split(/(?<=[.!?])\s+/).map((s) => s.trim()).filter(Boolean);

export const daysBetween = (a: number, b: number) => Math.floor(Math.abs(a - b) / 86_400_000);

export const describeOutcome = (o: EffectOutcome) =>
  o.status === 'done' ? { status: o.status, id: o.id } : o.status === 'pending' ? { status: o.status, approvalId: o.approvalId } : { status: o.status, reason: o.reason };

/** Runs the tool calls a model asked for through the dispatcher; returns what happened to each. */
export async function runToolCalls(ctx: SkillContext, calls: { id: string; name: string; arguments: unknown }[]) {
  const outcomes: { name: string; ok: boolean; refused?: string; result?: unknown }[] = [];
  for (const call of calls) {
    const r = await ctx.ports.tools.invoke(call);
    outcomes.push({ name: call.name, ok: r.ok, ...(r.refused ? { refused: r.refused } : {}), ...(r.ok ? { result: r.result } : {}) });
  }
  return outcomes;
}

export const emailDigest = (emails: SkillEmail[]) =>
  emails.map((e) => `From: ${e.from}\nDate: ${e.at}\nSubject: ${e.subject}\n\n${e.body}`).join('\n\n---\n\n');
