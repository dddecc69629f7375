import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { SwitchyardError } from '@switchyard/schema';
import type { AgentsService } from '../agents/agents.service';
import { sql } from '../host/db';
import type { Period } from './success';

/**
 * Coherence across sessions (definition in docs/metrics.md): a memory probe takes facts an agent
 * stored in its memory before the probe (earlier sessions), asks the agent about each in a new
 * session — its full prompt, what it remembers, and the question, as one model call — and checks
 * that the answer states the stored value (normalised text; a structured value field by field).
 * Every probe is stored with its question, answer and verdict, so the figure can be recomputed.
 */

const MAX_PROBES = 100;
const REMEMBERED_SHOWN = 50;

/** Lower case, compatibility forms, one space, no surrounding quotes or punctuation. */
export const normalise = (s: string) =>
  s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim().replace(/^["'`“”‘’.,;:!?()[\]{}]+|["'`“”‘’.,;:!?()[\]{}]+$/g, '');

/** The texts an answer must state for a value: itself when scalar, each leaf of a structure. */
export function leavesOf(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return value.trim() ? [value] : [];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  if (typeof value === 'object') return Object.values(value as Record<string, unknown>).flatMap(leavesOf);
  return [];
}

/** Whether an answer states every leaf of the stored value. */
export function statesValue(answer: string, value: unknown): boolean {
  const said = normalise(answer);
  const leaves = leavesOf(value).map(normalise).filter(Boolean);
  return leaves.length > 0 && leaves.every((l) => said.includes(l));
}

const shown = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
};

export const questionFor = (key: string) => `In an earlier conversation you stored "${key}" in your memory. What is it? Answer with the stored value only.`;

/**
 * Runs the probe for one agent or all of the user's agents: up to `factsPerAgent` facts each,
 * oldest first, at most 100 in all. A question the model did not answer (an error) is not a
 * probe: it is counted in `failed` and not stored.
 */
export async function probeCoherence(
  deps: { em: () => EntityManager; agents: AgentsService; now: () => number },
  userId: string,
  input: { agentId?: string | undefined; factsPerAgent: number },
) {
  const { agents } = deps;
  const targets = input.agentId ? [await agents.get(userId, input.agentId)] : await agents.list(userId);
  const batchId = randomUUID();
  const startedAt = deps.now();
  const results: { agentId: string; agentName: string; key: string; expected: unknown; answer: string; consistent: boolean }[] = [];
  const failed: { agentId: string; key: string; error: string }[] = [];
  for (const target of targets) {
    if (results.length + failed.length >= MAX_PROBES) break;
    const agent = await agents.get(userId, target.id);
    const { items } = await agents.memory.entries(agent.id, { limit: 200 });
    // Facts from earlier sessions: stored before this probe began, oldest first (the ones most at risk).
    const facts = items
      .filter((e) => Date.parse(e.updatedAt) < startedAt && leavesOf(e.value).length > 0)
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.key.localeCompare(b.key))
      .slice(0, Math.min(input.factsPerAgent, MAX_PROBES - results.length - failed.length));
    if (!facts.length) continue;
    const remembered = [...items].sort((a, b) => a.key.localeCompare(b.key)).slice(0, REMEMBERED_SHOWN)
      .map((e) => `- ${e.key}: ${shown(e.value)}`).join('\n');
    const system = `${agent.systemPromptFull}\n\nWhat you remember from earlier sessions:\n${remembered}`;
    for (const fact of facts) {
      const question = questionFor(fact.key);
      // Offline, the agent answers from its memory as it is now: what it would recall.
      const recalled = await agents.memory.recall(agent.id, fact.key);
      try {
        const res = await agents.llm.complete({ userId, agentId: agent.id }, {
          purpose: 'coherence-probe', system, messages: [{ role: 'user', content: question }],
          offline: () => ({ text: recalled === null ? 'I do not remember that.' : shown(recalled) }),
        });
        const consistent = statesValue(res.text, fact.value);
        await sql(deps.em(),
          `insert into coherence_probes (id, user_id, agent_id, batch_id, fact_key, expected, fact_stored_at, question, answer, consistent, model, at)
           values (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)`,
          [randomUUID(), userId, agent.id, batchId, fact.key, JSON.stringify(fact.value), fact.updatedAt, question, res.text.slice(0, 4000), consistent, res.model,
            new Date(deps.now()).toISOString()]);
        results.push({ agentId: agent.id, agentName: agent.name, key: fact.key, expected: fact.value, answer: res.text.slice(0, 4000), consistent });
      } catch (e) {
        if (!(e instanceof SwitchyardError)) throw e;
        failed.push({ agentId: agent.id, key: fact.key, error: e.message });
      }
    }
  }
  const consistent = results.filter((r) => r.consistent).length;
  return { batchId, asked: results.length, consistent, rate: results.length ? consistent / results.length : null, probes: results, failed };
}

/** How long after the start of a user's last memory probe the next may start (in one process). */
export const PROBE_INTERVAL_MS = 60_000;

/**
 * The on-demand probe's cost limit, per user and per runtime process: one probe at a time, and the next
 * one at least `PROBE_INTERVAL_MS` after the previous one started (a probe asks the model up to 100
 * questions). A probe that fails as a whole (an unknown agent, say) does not count. Refusals are
 * `RATE_LIMITED`. The daily scheduled probe (coherence-schedule.ts) is not limited by it.
 */
export class ProbeLimiter {
  private readonly running = new Set<string>();
  private readonly lastStart = new Map<string, number>();

  constructor(private readonly intervalMs = PROBE_INTERVAL_MS) {}

  /** Runs `probe` for `userId` if the limit allows it now (`now` in epoch ms), else throws RATE_LIMITED. */
  async run<T>(userId: string, now: number, probe: () => Promise<T>): Promise<T> {
    if (this.running.has(userId)) {
      throw new SwitchyardError('RATE_LIMITED', 'A memory probe of yours is running already: wait for its result before starting another');
    }
    const last = this.lastStart.get(userId);
    if (last !== undefined && now - last < this.intervalMs) {
      const wait = Math.max(1, Math.ceil((last + this.intervalMs - now) / 1000));
      throw new SwitchyardError('RATE_LIMITED', `The memory probe runs at most once a minute: try again in ${wait} s`);
    }
    this.running.add(userId);
    this.lastStart.set(userId, now);
    try {
      return await probe();
    } catch (e) {
      // Nothing was probed: it does not hold the next one back.
      if (this.lastStart.get(userId) === now) {
        if (last === undefined) this.lastStart.delete(userId);
        else this.lastStart.set(userId, last);
      }
      throw e;
    } finally {
      this.running.delete(userId);
    }
  }
}

/** The coherence figure over a period: probes answered consistently / probes asked, overall, per day and per agent. */
export async function coherenceMetrics(em: EntityManager, userId: string, p: Period) {
  const rows = await sql<{ agent_id: string; name: string | null; day: string; asked: string; consistent: string }>(em,
    `select c.agent_id, a.name, to_char(date_trunc('day', c.at at time zone ?), 'YYYY-MM-DD') as day,
            count(*) as asked, count(*) filter (where c.consistent) as consistent
       from coherence_probes c left join agents a on a.id = c.agent_id
      where c.user_id = ? and c.at >= ?::timestamptz and c.at < ?::timestamptz
      group by 1, 2, 3`, [p.timeZone, userId, p.from, p.to]);
  const last = await sql<{ at: Date }>(em, 'select max(at) as at from coherence_probes where user_id = ?', [userId]);
  const rate = (n: number, d: number) => (d > 0 ? n / d : null);
  const perAgent = new Map<string, { agentId: string; name: string; asked: number; consistent: number }>();
  const byDay = new Map<string, { asked: number; consistent: number }>();
  for (const r of rows) {
    const a = perAgent.get(r.agent_id) ?? { agentId: r.agent_id, name: r.name ?? 'Deleted agent', asked: 0, consistent: 0 };
    a.asked += Number(r.asked);
    a.consistent += Number(r.consistent);
    perAgent.set(r.agent_id, a);
    const d = byDay.get(r.day) ?? { asked: 0, consistent: 0 };
    d.asked += Number(r.asked);
    d.consistent += Number(r.consistent);
    byDay.set(r.day, d);
  }
  const asked = [...perAgent.values()].reduce((s, a) => s + a.asked, 0);
  const consistent = [...perAgent.values()].reduce((s, a) => s + a.consistent, 0);
  const lastAt = last[0]?.at ? new Date(last[0].at).toISOString() : null;
  return {
    asked, consistent, rate: rate(consistent, asked), target: 0.9, lastProbeAt: lastAt,
    perAgent: [...perAgent.values()].map((a) => ({ ...a, rate: rate(a.consistent, a.asked) })).sort((x, y) => y.asked - x.asked || x.name.localeCompare(y.name)),
    daily: [...byDay.entries()].map(([day, d]) => ({ day, ...d, rate: rate(d.consistent, d.asked) })).sort((a, b) => a.day.localeCompare(b.day)),
  };
}
