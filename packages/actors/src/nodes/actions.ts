import { SwitchyardError, parseDuration } from '@switchyard/schema';
import type { ContactRef, EffectMeta, EmailRef } from '../ports';
import type { Scope } from '../expression';
import { stableStringify } from '../stable-json';
import { pass, type Invocation, type InvokeImplementation } from './types';

const meta = (inv: Invocation<unknown>): EffectMeta => ({
  runId: inv.runId, userId: inv.userId, nodeId: inv.nodeId, nodeType: inv.nodeType, effectKey: inv.effectKey,
  ...(inv.ride ? { ride: inv.ride } : {}),
});

const addresses = (v: unknown): string[] =>
  (Array.isArray(v) ? v : String(v ?? '').split(/[,;]/)).map((s) => String(s).trim().toLowerCase()).filter(Boolean);

const dueAt = (now: number, text: string) => {
  const ms = parseDuration(text);
  if (ms === null) throw new SwitchyardError('BAD_INPUT', `"${text}" is not a duration`);
  return new Date(now + ms).toISOString();
};

/** The contact found by an upstream "contact exists" node, if any. */
const contactInScope = (scope: Scope): ContactRef | null => {
  const nodes = (scope.nodes ?? {}) as Record<string, { contact?: ContactRef } | undefined>;
  for (const out of Object.values(nodes)) if (out?.contact?.id) return out.contact;
  return null;
};

export const sendEmail: InvokeImplementation<'action.sendEmail'> = {
  kind: 'invoke',
  async run(inv, { crm }) {
    const to = addresses(inv.params.to);
    if (to.length === 0) throw new SwitchyardError('BAD_INPUT', 'The email has no recipient');
    const sent = await crm.sendEmail(meta(inv), { to, subject: String(inv.params.subject), body: String(inv.params.body) });
    return pass({ emailId: sent.id, to });
  },
};

export const draftReply: InvokeImplementation<'action.draftReply'> = {
  kind: 'invoke',
  async run(inv, { crm, composer }) {
    const email = inv.scope.trigger as Partial<EmailRef> | undefined;
    if (!email?.from) throw new SwitchyardError('BAD_INPUT', 'There is no email to reply to');
    const subject = String(email.subject ?? '');
    const contact = contactInScope(inv.scope);
    const { body, model } = await composer.draftReply({
      email: { from: email.from, fromName: email.fromName, to: email.to ?? [], subject, body: String(email.body ?? ''), threadId: email.threadId },
      contact, tone: inv.params.tone, maxLength: inv.params.maxLength, instructions: String(inv.params.instructions), signal: inv.signal,
    });
    const draft = {
      to: [email.from.toLowerCase()],
      subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`,
      body,
      ...(email.threadId ? { threadId: email.threadId } : {}),
      ...(contact ? { contactId: contact.id } : {}),
    };
    const created = await crm.createDraft(meta(inv), draft);
    return pass({ draftId: created.id, subject: draft.subject, body, model });
  },
};

export const createTask: InvokeImplementation<'action.createTask'> = {
  kind: 'invoke',
  async run(inv, { crm, clock }) {
    const contact = contactInScope(inv.scope);
    const task = {
      title: String(inv.params.title), description: String(inv.params.description),
      dueAt: dueAt(clock.now(), inv.params.dueIn), priority: inv.params.priority,
      ...(contact ? { contactId: contact.id } : {}),
    };
    const created = await crm.createTask(meta(inv), task);
    return pass({ taskId: created.id, ...task });
  },
};

export const updateContact: InvokeImplementation<'action.updateContact'> = {
  kind: 'invoke',
  async run(inv, { crm }) {
    const email = String(inv.params.email).trim().toLowerCase();
    const updated = await crm.updateContact(meta(inv), {
      email, addTags: inv.params.addTags, appendNote: String(inv.params.appendNote),
      touchLastInteraction: inv.params.touchLastInteraction,
      ...(inv.params.relationshipStrength === undefined ? {} : { relationshipStrength: inv.params.relationshipStrength }),
    });
    if (!updated) throw new SwitchyardError('NOT_FOUND', `No contact with address ${email}`);
    return pass({ contactId: updated.id });
  },
};

export const sendNotification: InvokeImplementation<'action.sendNotification'> = {
  kind: 'invoke',
  async run(inv, { crm }) {
    const p = inv.params;
    const contactId = String(p.contactId ?? '').trim();
    const suggestionKey = String(p.suggestionKey ?? '').trim();
    const window = parseDuration(p.dedupeWindow);
    const n = {
      type: p.notificationType, title: String(p.title), body: String(p.body), priority: p.priority,
      // Rendered templates may give non-strings ("{{ item.id }}" as a number): the runtime stores text.
      actions: p.actions.map((a) => ({
        id: a.id, label: a.label, kind: a.kind,
        ...(a.kind === 'compose-email' ? { draft: { to: String(a.draftTo ?? ''), subject: String(a.draftSubject ?? ''), body: String(a.draftBody ?? '') } } : {}),
        ...(a.followUpId === undefined ? {} : { followUpId: String(a.followUpId) }),
        ...(a.snoozeFor === undefined ? {} : { snoozeFor: a.snoozeFor }),
      })),
      ...(contactId ? { contactId } : {}),
      ...(suggestionKey ? { suggestionKey, dedupeWindowMs: window ?? 0 } : {}),
    };
    const created = await crm.createNotification(meta(inv), n);
    return pass({ notificationId: created.id, title: n.title, deduped: created.deduped ?? false, ...(contactId ? { contactId } : {}) });
  },
};

export const scheduleFollowUp: InvokeImplementation<'action.scheduleFollowUp'> = {
  kind: 'invoke',
  async run(inv, { crm, clock }) {
    const email = String(inv.params.email).trim().toLowerCase();
    const created = await crm.scheduleFollowUp(meta(inv), { email, dueAt: dueAt(clock.now(), inv.params.dueIn), note: String(inv.params.note) });
    if (!created) throw new SwitchyardError('NOT_FOUND', `No contact with address ${email}`);
    return pass({ followUpId: created.id });
  },
};

export const webhook: InvokeImplementation<'action.webhook'> = {
  kind: 'invoke',
  async run(inv, { outbound }) {
    const body = inv.params.method === 'GET' ? undefined
      : String(inv.params.body) || stableStringify({ trigger: inv.scope.trigger ?? null, nodes: inv.scope.nodes ?? {} });
    const res = await outbound.request(meta(inv), {
      url: String(inv.params.url), method: inv.params.method, timeoutMs: inv.params.timeoutMs,
      headers: { 'content-type': 'application/json', ...inv.params.headers },
      ...(body === undefined ? {} : { body }),
    });
    if (res.status >= 400) throw new SwitchyardError('OUTBOUND_FAILED', `The webhook answered HTTP ${res.status}`);
    let parsed: unknown = res.body;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      /* keep text */
    }
    return pass({ status: res.status, body: parsed });
  },
};

export const setMemory: InvokeImplementation<'action.setMemory'> = {
  kind: 'invoke',
  async run(inv, { memory }) {
    const key = String(inv.params.key);
    await memory.remember(meta(inv), key, inv.params.value, inv.params.ttlSeconds);
    return pass({ key, value: inv.params.value });
  },
};
