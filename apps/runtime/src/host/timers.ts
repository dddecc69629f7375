import type { EntityManager } from '@mikro-orm/postgresql';
import type { TimerPort } from '@switchyard/actors';
import type { RuntimeClock } from './clock';
import { sqlOne, sql } from './db';

interface Waiter {
  dueAt: number;
  resolve: () => void;
  reject: (e: unknown) => void;
  runId: string;
  key: string;
}

/**
 * Durable timers. XState does not restore delayed events from a snapshot (statelyai/xstate#5331),
 * so a wait is a row `(run, key, due_at)`: the first call stores the due time, a call after a
 * restart finds it and waits only for what is left.
 */
export function createTimerService(deps: { em: () => EntityManager; clock: RuntimeClock; pollMs?: number }) {
  const waiters = new Set<Waiter>();
  const byRun = new Map<string, Set<Waiter>>();
  const add = (w: Waiter) => {
    waiters.add(w);
    let set = byRun.get(w.runId);
    if (!set) byRun.set(w.runId, (set = new Set()));
    set.add(w);
  };
  const remove = (w: Waiter) => {
    waiters.delete(w);
    const set = byRun.get(w.runId);
    set?.delete(w);
    if (set?.size === 0) byRun.delete(w.runId);
  };
  let interval: NodeJS.Timeout | null = null;

  const check = () => {
    const now = deps.clock.now();
    for (const w of waiters) {
      if (w.dueAt <= now) {
        remove(w);
        void sql(deps.em(), 'update timers set fired_at = now() where run_id = ? and key = ? and fired_at is null', [w.runId, w.key])
          .catch(() => undefined)
          .finally(w.resolve);
      }
    }
  };
  const unsubscribe = deps.clock.onChange(check);

  const port: TimerPort = {
    async sleep({ runId, key }, ms, signal) {
      const proposed = new Date(deps.clock.now() + ms).toISOString();
      const em = deps.em();
      await sql(em, 'insert into timers (run_id, key, due_at) values (?, ?, ?) on conflict (run_id, key) do nothing', [runId, key, proposed]);
      const row = await sqlOne<{ due_at: Date | string }>(em, 'select due_at from timers where run_id = ? and key = ?', [runId, key]);
      const dueAt = new Date(row?.due_at ?? proposed).getTime();
      if (signal.aborted) throw signal.reason;
      await new Promise<void>((resolve, reject) => {
        const w: Waiter = { dueAt, resolve, reject, runId, key };
        add(w);
        signal.addEventListener('abort', () => {
          remove(w);
          reject(signal.reason);
        }, { once: true });
        check();
      });
    },
  };

  return {
    port,
    start() {
      interval ??= setInterval(check, deps.pollMs ?? 200);
    },
    stop() {
      if (interval) clearInterval(interval);
      interval = null;
      unsubscribe();
      waiters.clear();
      byRun.clear();
    },
    /** Due times of timers not yet fired, for the monitor and tests. */
    pending: () => [...waiters].map((w) => ({ runId: w.runId, key: w.key, dueAt: w.dueAt })),
    /**
     * How many of a run's waits are armed (their row stored, the wait registered here) and the
     * earliest due time among them: the host parks a run only when every timer it waits on is armed.
     */
    armed(runId: string): { count: number; nextDue: number | null } {
      let nextDue: number | null = null;
      const set = byRun.get(runId);
      for (const w of set ?? []) nextDue = nextDue === null ? w.dueAt : Math.min(nextDue, w.dueAt);
      return { count: set?.size ?? 0, nextDue };
    },
  };
}
export type TimerService = ReturnType<typeof createTimerService>;
