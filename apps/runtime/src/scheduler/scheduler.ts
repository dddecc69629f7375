import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import Bree from 'bree';
import { CronExpressionParser } from 'cron-parser';
import type { EntityManager } from '@mikro-orm/postgresql';
import { triggerHolds } from '@switchyard/actors';
import type { RuntimeClock } from '../host/clock';
import { sql } from '../host/db';
import type { Host } from '../host/host';
import { uuidFromName } from '../host/ids';

const TICK_WORKER = fileURLToPath(new URL('./tick.worker.mjs', import.meta.url));
const SWEEP_JOB = 'sweep';
const CONDITIONS_JOB = 'conditions';
const MINUTE = 60_000;

interface ScheduleRow {
  id: string;
  flow_id: string;
  user_id: string;
  version: number;
  node_id: string;
  cron: string;
  timezone: string | null;
  /** `everyone`: a behavior that runs for every active user (one claim and activation per user). */
  audience?: string | null;
}

interface ConditionRow {
  id: string;
  flow_id: string;
  user_id: string;
  version: number;
  node_id: string;
  every_minutes: number | null;
  audience?: string | null;
}

/** The figures a condition trigger's check sees as `trigger`: the user's own data, counted now. */
export interface ConditionFigures {
  unreadEmails: number;
  importantUnreadEmails: number;
  followUpsDue: number;
  openTasks: number;
  overdueTasks: number;
  unreadNotifications: number;
  contacts: number;
}

/** The interval a condition check belongs to: intervals of N minutes counted from the Unix epoch (UTC). */
export function intervalOf(everyMinutes: number, at: number): Date {
  const size = everyMinutes * MINUTE;
  return new Date(Math.floor(at / size) * size);
}

/** The scheduled slot a tick belongs to: the latest cron occurrence at or before `at`. */
export function slotOf(cron: string, timezone: string | null, at: number): Date {
  // A tick can arrive a little early or late; +1s lets an on-time tick land on its own slot.
  return CronExpressionParser.parse(cron, { tz: timezone ?? 'UTC', currentDate: new Date(at + 1000) }).prev().toDate();
}

/**
 * Cron triggers and sweeps through bree. Every fire is claimed by a unique
 * (trigger, fire time) row, so several runtime processes never start the same tick twice.
 */
export function createScheduler(deps: {
  em: () => EntityManager; host: Host; clock: RuntimeClock; log?: { error(o: unknown, m?: string): void }; sweepMs?: number;
  /** Milliseconds between condition checks (each claims its trigger's current interval once); default 20 s. */
  conditionsMs?: number;
  /** Test-only: SIGKILL right after a tick's claim-and-start committed. */
  crashAfterClaim?: boolean;
}) {
  const instance = `${hostname()}:${process.pid}`;
  const schedules = new Map<string, ScheduleRow>();
  let bree: Bree | null = null;
  let resync: NodeJS.Timeout | null = null;

  async function fire(triggerId: string, at = deps.clock.now()) {
    // Always re-read: another process may have undeployed the flow since this job was scheduled.
    const s = (await sql<ScheduleRow>(deps.em(),
      `select t.* from flow_triggers t join flows f on f.id = t.flow_id where t.id = ? and t.kind = 'schedule' and t.active and f.deleted_at is null`, [triggerId]))[0];
    if (!s) {
      if (schedules.delete(triggerId)) await bree?.remove(triggerId).catch(() => undefined);
      return null;
    }
    return claimAndStart(s, slotOf(s.cron, s.timezone, at).toISOString());
  }

  /**
   * Who a trigger fires for, each with the key its claims use: the flow's user, or — a behavior for
   * everyone — every active user, each with a claim key of their own (so a tick is claimed once per
   * user, whichever process claims it).
   */
  async function audienceOf(t: { id: string; user_id: string; audience?: string | null }): Promise<{ userId: string; key: string }[]> {
    if (t.audience !== 'everyone') return [{ userId: t.user_id, key: t.id }];
    const users = await sql<{ id: string }>(deps.em(), `select id from users where token_hash not like 'revoked:%' order by created_at, id`);
    return users.map((u) => ({ userId: u.id, key: u.id === t.user_id ? t.id : uuidFromName(`${t.id}:${u.id}`) }));
  }

  const claimOf = (key: string, fireAt: string) => async (tx: EntityManager) => (await sql(tx,
    'insert into schedule_fires (trigger_id, fire_at, claimed_by, claimed_at) values (?, ?, ?, ?) on conflict do nothing returning trigger_id',
    [key, fireAt, instance, new Date(deps.clock.now()).toISOString()])).length > 0;

  /**
   * Claiming the (trigger, slot) row and inserting its run are one transaction: several processes
   * never fire a tick twice, and a crash never leaves a claimed tick without its run (a run row
   * that exists is resumed by whichever process restores it). A behavior for everyone: once per user.
   */
  async function claimAndStart(s: ScheduleRow, fireAt: string) {
    let first: { runId: string; fireAt: string } | null = null;
    for (const { userId, key } of await audienceOf(s)) {
      try {
        const { runId, created } = await deps.host.startRun({
          userId, flowId: s.flow_id, version: s.version, triggerNodeId: s.node_id,
          trigger: { type: 'schedule', eventId: null, payload: { firedAt: fireAt, cron: s.cron, timezone: s.timezone } },
          runId: uuidFromName(`${key}@${fireAt}`),
          claim: claimOf(key, fireAt),
        });
        if (!created) continue;
        if (deps.crashAfterClaim) process.kill(process.pid, 'SIGKILL');
        first ??= { runId, fireAt };
      } catch (e) {
        // One user's failure does not cost the others their tick.
        if (s.audience !== 'everyone') throw e;
        deps.log?.error({ err: e, triggerId: s.id, userId }, 'a tick could not start for one user');
      }
    }
    return first;
  }

  /**
   * Ticks missed while no process ran: a trigger with `missed: 'runOnce'` fires its latest slot
   * since it was deployed (once, claimed like any tick); `skip` (the default) lets them go.
   */
  async function catchUp() {
    // A trigger row keeps the node's params (defaults applied) in `filters`.
    const rows = await sql<ScheduleRow & { missed: string | null; deployed_at: Date }>(deps.em(),
      `select t.*, t.created_at as deployed_at, t.filters->>'missed' as missed
         from flow_triggers t join flows f on f.id = t.flow_id
        where t.kind = 'schedule' and t.active and f.deleted_at is null`);
    let fired = 0;
    for (const s of rows) {
      if (s.missed !== 'runOnce') continue;
      try {
        const slot = slotOf(s.cron, s.timezone, deps.clock.now());
        if (slot.getTime() < new Date(s.deployed_at).getTime()) continue;
        if (await claimAndStart(s, slot.toISOString())) fired++;
      } catch (e) {
        deps.log?.error({ err: e, triggerId: s.id }, 'could not catch up a missed tick');
      }
    }
    return fired;
  }

  async function figuresOf(userId: string, at: number): Promise<ConditionFigures> {
    const now = new Date(at).toISOString();
    const row = (await sql<ConditionFigures>(deps.em(),
      `select
         (select count(*) from emails where user_id = ? and direction = 'inbound' and is_unread)::int as "unreadEmails",
         (select count(*) from emails where user_id = ? and direction = 'inbound' and is_unread and is_important)::int as "importantUnreadEmails",
         (select count(*) from follow_ups where user_id = ? and status <> 'completed' and due_at <= ?
             and (status <> 'snoozed' or snoozed_until is null or snoozed_until <= ?))::int as "followUpsDue",
         (select count(*) from tasks where user_id = ? and status = 'open')::int as "openTasks",
         (select count(*) from tasks where user_id = ? and status = 'open' and due_at is not null and due_at < ?)::int as "overdueTasks",
         (select count(*) from notifications where user_id = ? and state = 'unread')::int as "unreadNotifications",
         (select count(*) from contacts where user_id = ?)::int as "contacts"`,
      [userId, userId, userId, now, now, userId, userId, now, userId, userId]))[0]!;
    return row;
  }

  /**
   * One check of a condition trigger for the interval `at` falls in: the first process to claim
   * `(trigger, interval start)` checks, so the condition is checked once per interval across
   * processes. When it holds, the claim and the run (or the behavior's activation) are one
   * transaction, like a cron tick; when it does not, only the claim is stored.
   */
  async function checkCondition(t: ConditionRow, userId: string, key: string, at: number) {
    const every = Number(t.every_minutes);
    if (!Number.isInteger(every) || every < 1 || every > 1440) return null;
    const checkedAt = intervalOf(every, at).toISOString();
    const claim = claimOf(key, checkedAt);
    // Claimed already (here or by another process): nothing to count.
    const taken = await sql(deps.em(), 'select 1 as x from schedule_fires where trigger_id = ? and fire_at = ?', [key, checkedAt]);
    if (taken.length) return null;
    const payload = { checkedAt, at: new Date(at).toISOString(), everyMinutes: every, ...(await figuresOf(userId, at)) };
    const { holds, error } = triggerHolds(await deps.host.compiledFor(t.flow_id, t.version), t.node_id, payload);
    if (error) deps.log?.error({ triggerId: t.id, error }, 'a condition trigger\'s condition could not be checked');
    if (!holds) {
      await claim(deps.em());
      return null;
    }
    const { runId, created } = await deps.host.startRun({
      userId, flowId: t.flow_id, version: t.version, triggerNodeId: t.node_id,
      trigger: { type: 'condition', eventId: null, payload },
      runId: uuidFromName(`${key}@${checkedAt}`),
      claim,
    });
    return created ? { runId, checkedAt } : null;
  }

  /** Checks every active condition trigger whose current interval was not checked yet. */
  async function checkConditions(at = deps.clock.now()) {
    const rows = await sql<ConditionRow>(deps.em(),
      `select t.id, t.flow_id, t.user_id, t.version, t.node_id, t.audience, (t.filters->>'everyMinutes')::int as every_minutes
         from flow_triggers t join flows f on f.id = t.flow_id
        where t.kind = 'condition' and t.active and f.deleted_at is null order by t.created_at`);
    const started: { runId: string; checkedAt: string }[] = [];
    for (const t of rows) {
      // A behavior for everyone: each user's figures, each user's check.
      for (const { userId, key } of await audienceOf(t)) {
        try {
          const r = await checkCondition(t, userId, key, at);
          if (r) started.push(r);
        } catch (e) {
          deps.log?.error({ err: e, triggerId: t.id, userId }, 'a condition check failed');
        }
      }
    }
    return started;
  }

  /*
   * A clock that jumps (only the test clock does) passes slots bree never sees: bree's cron runs on
   * the system clock. Each jump fires, for every schedule trigger, the latest slot it passed (at
   * most one, like `missed: runOnce`), and checks the condition triggers at the new time; claims
   * keep this exactly-once across processes whose clocks are moved alike.
   */
  let seenAt = deps.clock.now();
  let moving: Promise<unknown> = Promise.resolve();
  async function clockMoved(from: number, to: number) {
    const rows = await sql<ScheduleRow & { deployed_at: Date }>(deps.em(),
      `select t.*, t.created_at as deployed_at from flow_triggers t join flows f on f.id = t.flow_id
        where t.kind = 'schedule' and t.active and f.deleted_at is null order by t.created_at`);
    for (const s of rows) {
      try {
        const slot = slotOf(s.cron, s.timezone, to).getTime();
        if (slot <= from || slot < new Date(s.deployed_at).getTime()) continue;
        await claimAndStart(s, new Date(slot).toISOString());
      } catch (e) {
        deps.log?.error({ err: e, triggerId: s.id }, 'could not fire a tick the clock moved past');
      }
    }
    await checkConditions(to);
  }
  const unsubscribeClock = deps.clock.onChange(() => {
    const from = seenAt;
    const to = deps.clock.now();
    seenAt = to;
    if (to <= from || !bree) return;
    moving = moving.then(() => clockMoved(from, to)).catch((e: unknown) => deps.log?.error({ err: e }, 'firing ticks after a clock move failed'));
  });

  /** Deletes expired memory: workflow memory and agents' memory (reads already treat it as gone). */
  async function sweep() {
    const now = new Date(deps.clock.now()).toISOString();
    const flows = await sql(deps.em(), 'delete from memory_entries where expires_at is not null and expires_at <= ? returning key', [now]);
    const agents = await sql(deps.em(), 'delete from agent_memory where expires_at is not null and expires_at <= ? returning key', [now]);
    return { memoryEntries: flows.length, agentMemory: agents.length };
  }

  const jobOf = (s: ScheduleRow) => ({
    name: s.id, path: TICK_WORKER, cron: s.cron, timezone: s.timezone ?? 'UTC',
    hasSeconds: s.cron.trim().split(/\s+/).length === 6,
  });

  /** Brings bree's jobs in line with the active schedule triggers in the database. */
  async function sync() {
    if (!bree) return;
    const rows = await sql<ScheduleRow>(deps.em(),
      `select t.* from flow_triggers t join flows f on f.id = t.flow_id where t.kind = 'schedule' and t.active and f.deleted_at is null`);
    const wanted = new Map(rows.map((r) => [r.id, r]));
    for (const id of [...schedules.keys()]) {
      if (!wanted.has(id)) {
        schedules.delete(id);
        await bree.remove(id).catch(() => undefined);
      }
    }
    for (const r of rows) {
      if (schedules.has(r.id)) continue;
      try {
        await bree.add(jobOf(r));
        await bree.start(r.id);
        schedules.set(r.id, r);
      } catch (e) {
        deps.log?.error({ err: e, triggerId: r.id, cron: r.cron }, 'could not schedule cron trigger');
      }
    }
  }

  return {
    fire,
    catchUp,
    checkConditions,
    /** Resolves once the ticks and checks caused by clock moves so far are done (tests). */
    settled: () => moving,
    sync,
    sweep,
    scheduled: () => [...schedules.keys()],
    async start() {
      bree = new Bree({
        root: false, doRootCheck: false, logger: false,
        jobs: [
          { name: SWEEP_JOB, path: TICK_WORKER, interval: deps.sweepMs ?? 60_000 },
          { name: CONDITIONS_JOB, path: TICK_WORKER, interval: deps.conditionsMs ?? 20_000 },
        ],
        workerMessageHandler: ({ name, message }) => {
          if (!(message && typeof message === 'object' && 'tick' in message)) return;
          const task = name === SWEEP_JOB ? sweep() : name === CONDITIONS_JOB ? checkConditions() : fire(name);
          task.catch((e: unknown) => deps.log?.error({ err: e, job: name }, 'scheduled job failed'));
        },
        errorHandler: (err, data) => deps.log?.error({ err, job: data?.name }, 'scheduler worker error'),
      });
      await bree.start(SWEEP_JOB);
      await bree.start(CONDITIONS_JOB);
      seenAt = deps.clock.now();
      await sync();
      await catchUp().catch((e: unknown) => deps.log?.error({ err: e }, 'catching up missed ticks failed'));
      // Other processes may deploy flows; pick their schedules up.
      resync = setInterval(() => void sync().catch((e) => deps.log?.error({ err: e }, 'schedule sync failed')), 30_000);
    },
    async stop() {
      unsubscribeClock();
      if (resync) clearInterval(resync);
      resync = null;
      const b = bree;
      bree = null;
      schedules.clear();
      await b?.stop();
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
