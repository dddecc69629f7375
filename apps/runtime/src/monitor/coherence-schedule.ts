import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentsService } from '../agents/agents.service';
import { sql } from '../host/db';
import { probeCoherence } from './coherence';

/** The `schedule_fires` key of the daily memory probe (a fixed id: one row per day, whoever claims it). */
export const COHERENCE_PROBE_KEY = '00000000-0000-4000-8000-00000c0e7e9e';
const DAY = 86_400_000;

/**
 * The scheduled memory probe (coherence across sessions, docs/metrics.md): once a day at `hourUtc`
 * for every user with agents, as `monitor.probeCoherence` does on demand. Each day's slot is claimed
 * in `schedule_fires` (insert, on conflict nothing), so with several processes on one database it
 * runs once. The probe follows its claim: a process that dies in between skips that day (at most
 * once; the figure counts probes, a missing day only narrows it). Checked every minute and when the
 * runtime clock moves.
 */
export function createCoherenceSchedule(deps: {
  em: () => EntityManager;
  agents: () => AgentsService;
  clock: { now(): number; onChange?(fn: () => void): () => void };
  instanceId: string;
  hourUtc: number;
  factsPerAgent?: number;
  log?: { error(o: unknown, m?: string): void; info?(o: unknown, m?: string): void };
}) {
  let timer: ReturnType<typeof setInterval> | null = null;
  let unwatch: (() => void) | null = null;
  let running: Promise<unknown> | null = null;

  /** The newest slot at or before `now`: today's `hourUtc`, or yesterday's before that hour. */
  const slotOf = (now: number) => {
    const today = Math.floor(now / DAY) * DAY + deps.hourUtc * 3_600_000;
    return new Date(today <= now ? today : today - DAY).toISOString();
  };

  /** Claims the current slot; if this process got it, probes every user's agents. Returns the users probed (null: not claimed). */
  async function tick(): Promise<{ slot: string; users: number; asked: number } | null> {
    const now = deps.clock.now();
    const slot = slotOf(now);
    const claimed = await sql(deps.em(),
      'insert into schedule_fires (trigger_id, fire_at, claimed_by, claimed_at) values (?, ?, ?, ?) on conflict do nothing returning trigger_id',
      [COHERENCE_PROBE_KEY, slot, deps.instanceId, new Date(now).toISOString()]);
    if (!claimed.length) return null;
    const users = await sql<{ user_id: string }>(deps.em(), 'select distinct user_id from agents where deleted_at is null and active order by user_id');
    let asked = 0;
    for (const u of users) {
      try {
        const r = await probeCoherence({ em: deps.em, agents: deps.agents(), now: () => deps.clock.now() }, u.user_id, { factsPerAgent: deps.factsPerAgent ?? 5 });
        asked += r.asked;
      } catch (e) {
        deps.log?.error({ err: e, userId: u.user_id }, 'the scheduled memory probe failed for a user');
      }
    }
    deps.log?.info?.({ slot, users: users.length, asked }, 'ran the daily memory probe');
    return { slot, users: users.length, asked };
  }

  const check = () => {
    if (running) return;
    running = tick()
      .catch((e: unknown) => deps.log?.error({ err: e }, 'the scheduled memory probe could not run'))
      .finally(() => (running = null));
  };

  return {
    tick,
    slotOf,
    start() {
      timer = setInterval(check, 60_000);
      timer.unref();
      unwatch = deps.clock.onChange?.(check) ?? null;
      check();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      unwatch?.();
      unwatch = null;
      await running;
    },
  };
}
