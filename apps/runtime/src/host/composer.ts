import type { ComposerPort } from '@switchyard/actors';

const OPENINGS = {
  professional: (name: string) => `Dear ${name},`,
  friendly: (name: string) => `Hi ${name}!`,
  concise: (name: string) => `Hi ${name},`,
} as const;

const CLOSINGS = { professional: 'Kind regards,', friendly: 'Talk soon,', concise: 'Thanks,' } as const;

/**
 * The offline model: deterministic replies built from the email and the contact, used when no
 * OpenAI-compatible server is configured. Same input, same text — so runs can be replayed.
 */
export function createOfflineComposer(): ComposerPort {
  return {
    async draftReply({ email, contact, tone, maxLength, instructions }) {
      const name = (contact?.name ?? email.fromName ?? email.from.split('@')[0] ?? 'there').split(/\s+/)[0]!;
      const topic = email.subject.replace(/^(re|fwd?):\s*/i, '').trim() || 'your message';
      const middle =
        tone === 'concise'
          ? `Thanks for your note about "${topic}". I'll get back to you shortly.`
          : `Thank you for your email about "${topic}". I have read it and will follow up with a detailed answer shortly.` +
            (contact?.company ? ` I appreciate the continued work with ${contact.company}.` : '');
      const extra = instructions.trim() ? `\n\n${instructions.trim()}` : '';
      const words = `${OPENINGS[tone](name)}\n\n${middle}${extra}\n\n${CLOSINGS[tone]}`.split(/(\s+)/);
      // maxLength counts words; whitespace tokens are kept so line breaks survive.
      let count = 0;
      const kept = words.filter((w) => (w.trim() ? ++count <= maxLength : count < maxLength));
      return { body: kept.join('').trim(), model: 'offline' };
    },
  };
}
