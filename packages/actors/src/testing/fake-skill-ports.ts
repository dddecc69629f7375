import type { CalendarEvent, EffectOutcome, SkillContact, SkillContext, SkillEmail, SkillPorts, SocialProfile, WebResult } from '../skills/types';

/**
 * In-memory SkillPorts for skill tests and the editor's simulator. The LLM answers with each
 * request's offline text; `overrides` replace any port.
 */
export function createFakeSkillPorts(options: {
  now?: number; contacts?: SkillContact[]; emails?: SkillEmail[]; events?: CalendarEvent[];
  web?: (q: { query: string; limit: number }) => Promise<WebResult[]>;
  social?: (q: { contact: SkillContact; providers: string[] }) => Promise<SocialProfile[]>;
} = {}) {
  const now = options.now ?? Date.UTC(2026, 0, 7, 15, 0);
  const memory = new Map<string, unknown>();
  const interactions: { entityType: string; entityId: string; data: unknown }[] = [];
  const effects: { kind: string; data: unknown }[] = [];
  const contacts = options.contacts ?? [];
  const done = (kind: string, data: unknown): EffectOutcome => {
    effects.push({ kind, data });
    return { status: 'done', id: `${kind}-${effects.length}` };
  };
  const ports: SkillPorts = {
    now: () => now,
    crm: {
      getContact: async (id) => contacts.find((c) => c.id === id) ?? null,
      findContactByEmail: async (email) => contacts.find((c) => c.email === email.toLowerCase()) ?? null,
      searchEmails: async ({ address, threadId, limit }) =>
        (options.emails ?? []).filter((e) => (!threadId || e.threadId === threadId) && (!address || e.from === address || e.to.includes(address))).slice(0, limit),
    },
    memory: {
      remember: async (k, v) => void memory.set(k, v),
      recall: async (k) => memory.get(k) ?? null,
      addInteraction: async (entityType, entityId, data) => void interactions.push({ entityType, entityId, data }),
    },
    llm: {
      complete: async (req) => {
        const o = req.offline();
        return { text: o.text, data: o.data, toolCalls: [], model: 'offline' };
      },
    },
    web: { search: options.web ?? (async ({ query }) => [{ title: `About ${query}`, url: 'https://example.test/a', snippet: query }]) },
    social: { enrich: options.social ?? (async ({ contact }) => [{ provider: 'linkedin', handle: contact.email.split('@')[0]!, headline: contact.title, signals: [] }]) },
    calendar: { list: async ({ from, to }) => (options.events ?? []).filter((e) => e.startsAt < to && e.endsAt > from) },
    effects: {
      createDraft: async (d) => done('draft', d),
      sendEmail: async (e) => done('email', e),
      scheduleFollowUp: async (f) => done('followUp', f),
      createCalendarEvent: async (e) => done('calendarEvent', e),
    },
    tools: { available: () => [], invoke: async (c) => ({ ok: false, refused: `No tool ${c.name} in tests` }) },
  };
  const context = (overrides: Partial<SkillContext> = {}): SkillContext => ({
    userId: 'u1', agent: { id: 'a1', name: 'Test Agent', systemPrompt: '', personalityPrompt: '' }, ports, ...overrides,
  });
  return { ports, memory, interactions, effects, context };
}
