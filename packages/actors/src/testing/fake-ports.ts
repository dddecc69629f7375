import type { ContactRef, RunPorts } from '../ports';

export interface FakeEffect {
  kind: 'email' | 'draft' | 'task' | 'contact' | 'notification' | 'followUp' | 'webhook' | 'memory' | 'skill';
  key: string;
  data: unknown;
}

/**
 * In-memory ports for simulation (the editor's "test run") and tests. Effects are keyed by
 * `effectKey` like the real ledger, so replays do not duplicate them.
 */
export function createFakePorts(options: { contacts?: ContactRef[]; now?: number; webhookStatus?: number } = {}) {
  let now = options.now ?? Date.UTC(2026, 0, 7, 15, 0); // a Wednesday, 10:00 in New York
  const contacts = [...(options.contacts ?? [])];
  const effects: FakeEffect[] = [];
  const byKey = new Map<string, { id: string }>();
  const record = (kind: FakeEffect['kind'], key: string, data: unknown) => {
    const hit = byKey.get(key);
    if (hit) return hit;
    const result = { id: `${kind}-${effects.length + 1}` };
    effects.push({ kind, key, data });
    byKey.set(key, result);
    return result;
  };
  const ports: RunPorts = {
    clock: { now: () => now },
    timers: { sleep: async (_t, ms) => void (now += ms) },
    composer: {
      draftReply: async ({ email, contact, tone }) => ({
        body: `Hi ${contact?.name ?? email.fromName ?? 'there'},\n\nThanks for your email about "${email.subject}". (${tone})`,
        model: 'fake',
      }),
    },
    crm: {
      findContactByEmail: async (_u, email) => contacts.find((c) => c.email === email.toLowerCase()) ?? null,
      // CRM queries: the fake contacts by strength (no interaction history), no follow-ups, no emails.
      findContacts: async (_u, q) =>
        contacts
          .filter((c) => q.minStrength === undefined || c.relationshipStrength > q.minStrength)
          .sort((a, b) => (q.order === 'asc' ? a.relationshipStrength - b.relationshipStrength : b.relationshipStrength - a.relationshipStrength))
          .slice(0, q.limit)
          .map((c) => ({ ...c, lastInteractionAt: null, daysSinceInteraction: null, tags: [] })),
      findFollowUps: async () => [],
      hasRecentEmail: async () => ({ count: 0, lastEmailAt: null }),
      sendEmail: async (m, e) => record('email', m.effectKey, e),
      createDraft: async (m, d) => record('draft', m.effectKey, d),
      createTask: async (m, t) => record('task', m.effectKey, t),
      updateContact: async (m, c) => (contacts.some((x) => x.email === c.email) ? record('contact', m.effectKey, c) : null),
      createNotification: async (m, n) => record('notification', m.effectKey, n),
      scheduleFollowUp: async (m, f) => (contacts.some((x) => x.email === f.email) ? record('followUp', m.effectKey, f) : null),
    },
    outbound: {
      request: async (m, r) => {
        record('webhook', m.effectKey, r);
        return { status: options.webhookStatus ?? 200, body: '{"ok":true}' };
      },
    },
    memory: { remember: async (m, key, value) => void record('memory', m.effectKey, { key, value }) },
    // A fake agent: every skill "succeeds" and echoes its request, so flows with agent nodes simulate.
    agents: {
      runSkill: async (m, r) => {
        record('skill', m.effectKey, { agentId: r.agentId, skill: r.skill, params: r.params });
        return {
          success: true, output: { agentId: r.agentId, skill: r.skill, params: r.params, simulated: true },
          sideEffects: [], suggestedNextSteps: [], pendingApprovals: [], model: 'fake',
        };
      },
      // Every proposal is approved at once (a simulation has nobody to ask).
      awaitApprovals: async (_m, ids) => ids.map((id) => ({ id, tool: 'unknown', status: 'approved' as const, result: null })),
    },
  };
  return { ports, effects, advance: (ms: number) => void (now += ms), setNow: (t: number) => void (now = t) };
}
