import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createActor, type Actor, type AnyActorRef, type AnyStateMachine, type EventObject } from 'xstate';
import {
  createRunMachine, matchTrigger, nodeStatesOf, nodeStatesOfSnapshot, RIDES_WITH_STEP, runStatusOf, waitingApprovals,
  type CompiledMachine, type DurabilityPort, type RunContext, type RunEvent, type RunPorts, type RunStatus,
} from '@switchyard/actors';
import { SwitchyardError, type DomainEvent } from '@switchyard/schema';
import type { RuntimeClock } from './clock';
import { sql, sqlOne } from './db';
import { uuidFromName } from './ids';
import { isDeadLocalInstance } from './instances';
import { createMachineRegistry, type MachineRegistry } from './machines';
import { createInboxWriter, DELIVER_CTES, TRIGGERS_SQL, type PredictedStarts, type TriggerRow } from './inbox';
import { recordLeasesLost } from '../monitor/metrics';
import { deltaHolds, diffPersisted } from './state-diff';
import { riderSql } from './effects';
import { createRunStore, isFinal, PersistError, type Fence, type Rider, type RiderWrite, type JournalEntry, type Lease, type RunRow, type RunStore, type WriteOutcome } from './run-store';

interface LiveRun {
  id: string;
  userId: string;
  compiled: CompiledMachine;
  actor: AnyActorRef;
  version: number;
  nodeStates: Record<string, string>;
  status: RunStatus;
  /** The newest queued write: resolves once it committed, rejects when it did not. */
  tail: Promise<void>;
  /** Like `tail`, but never settles on failure: what node implementations wait for (persist before effect). */
  committed: Promise<void>;
  finished: boolean;
  /** Stopped here without persisting anything more (graceful stop, lost lease, failed write). */
  halted: boolean;
  fence: Fence | null;
  lastSnapshot: unknown;
  /** The forwarded command whose transition is being computed (acknowledged by that write). */
  commandId: string | null;
  delivered: Set<string>;
  /** performance.now() of its last transition: a run parks only after it has been idle a while. */
  lastActive: number;
  /** Writes queued and not settled yet: a run parks only with none. */
  writes: number;
  /**
   * The last state written and its journal seq: the base of the next delta (null: write a
   * checkpoint). The persisted snapshot itself (immutable, sharing structure with the next one),
   * or the JSON read back on a restore.
   */
  stored: { state: unknown; seq: number } | null;
  /** Steps written as deltas since the last checkpoint. */
  sinceCheckpoint: number;
  /** The event the run's machine is processing (or last processed): what made the next snapshot. */
  event: EventObject;
  /**
   * The journal row that marks this relaunch (`restored`, `woken`, `replayed`), not written yet: it
   * goes with the run's next write, in the same statement, so a relaunch costs no statement of its
   * own (a restart of 1,000 runs wrote 1,000 marker rows before any of them moved).
   */
  marker: Parameters<RunStore['write']>[0] | null;
}

export interface RunUpdate {
  runId: string;
  userId: string;
  status: RunStatus;
  version: number;
  nodes: Record<string, string>;
  changed: string[];
}

export interface HostDeps {
  em: () => EntityManager;
  clock: RuntimeClock;
  ports: RunPorts;
  /** Replaces the PostgreSQL run store (benchmarks measure the host without I/O this way). */
  store?: RunStore;
  /** Run ownership when several processes share the database; without it every active run is this process's. */
  lease?: Lease;
  /** Claim every active run on restore, leases or not (an embedded database has one process by construction). */
  adoptAll?: boolean;
  /** With leases: how often approvals/cancels sent through another process are picked up (default 500 ms). */
  commandPollMs?: number;
  /** Compiled machines of flow versions (pinned); defaults to the database-backed registry. */
  machines?: MachineRegistry;
  /** Publish every stored transition with NOTIFY (PostgreSQL: other processes' watchers follow it). */
  notify?: boolean;
  /** Group commits in flight at once, runs split between them (default 1; PostgreSQL runs them side by side, PGlite one at a time). */
  writeLanes?: number;
  log?: { error(obj: unknown, msg?: string): void; warn?(obj: unknown, msg?: string): void; info?(obj: unknown, msg?: string): void };
  /** Test-only: SIGKILL right after a forwarded command reached the actor, before its transition is stored. */
  crashAfterCommand?: boolean;
  /**
   * Test-only: SIGKILL right after `emit` stored the n-th event that starts runs (its statement
   * committed: the runs it started with the event exist, nothing is launched; the rest not inserted).
   */
  crashAfterInbox?: number;
  /**
   * Check every journal delta against a full JSON copy of both states (tests): on a mismatch a
   * checkpoint is written instead and the error logged, or with 'throw' the step fails loudly.
   * Defaults to 'throw' under vitest.
   */
  verifyDeltas?: boolean | 'throw';
  /**
   * Parking: a run that waits only on timers and approvals and has been idle `afterMs` is stopped
   * here (no actor, nothing in memory; it stays owned by this process) and woken from the database
   * when one of its timers is due or a command for it arrives. `armed` tells which of a run's
   * timers have their row stored and their wait registered (see timers.ts).
   */
  park?: { afterMs: number; pollMs?: number; armed(runId: string): { count: number; nextDue: number | null } };
}

const NEVER = new Promise<never>(() => undefined);
/** Group commits in flight at once on PostgreSQL (see `writeLanes`; bench: durable group). */
export const POSTGRES_WRITE_LANES = 2;
/** A full snapshot every this many steps (besides the first, status changes and the last): restore applies at most this many deltas. */
const CHECKPOINT_EVERY = 20;
/**
 * How long steps may run on before the event loop turns (`DurabilityPort.pace`). Nodes that wait
 * for no commit chain their runs' steps through microtasks: 100 runs of 20 conditions were 120 ms
 * of steps during which the database's answers sat unread and no batch was sent, then 115 ms of
 * batches sent one after another with nothing left to run.
 */
const PACE_SLICE_MS = 4;
const RESUME_BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000];


/**
 * The actor host: runs compiled flows as XState actors and makes them durable.
 *
 * - Persist before effect: every transition is queued for the database as it happens, and a
 *   node's implementation waits (DurabilityPort) until the transition that started it committed.
 * - Acknowledged means durable: API calls that change a run wait for their write; a write the
 *   database did not take halts the run here (its queued writes are dropped) and resumes it from
 *   what was stored, with backoff; the caller gets a typed UNAVAILABLE error.
 * - Fencing: with leases, every write is conditional on (owner, epoch); a heartbeat that does not
 *   renew a run, or a refused write, halts the run here before it does anything else.
 */
export function createHost(deps: HostDeps) {
  const store = deps.store ?? createRunStore(deps.em, { notify: deps.notify ?? false, lanes: deps.writeLanes ?? 1, riders: riderSql });
  const machinesRegistry = deps.machines ?? createMachineRegistry({ em: deps.em });
  const inbox = createInboxWriter(deps.em, { lanes: deps.writeLanes ?? 1 });
  const live = new Map<string, LiveRun>();
  /** Runs halted by a failed write, to resume after a backoff (their lease is kept meanwhile). */
  const resuming = new Map<string, { fence: Fence | null; attempt: number; timer: NodeJS.Timeout }>();
  const machines = new WeakMap<CompiledMachine, ReturnType<typeof createRunMachine>>();
  const verifyDeltas = deps.verifyDeltas ?? (process.env.VITEST ? 'throw' : false);
  const updates = new EventEmitter();
  updates.setMaxListeners(0);
  /** The clock's time as ISO text; steps in the same millisecond share one string (bench: events through the host). */
  let isoAt = Number.NaN;
  let isoText = '';
  const iso = () => {
    const now = deps.clock.now();
    if (now !== isoAt) {
      isoText = new Date(now).toISOString();
      isoAt = now;
    }
    return isoText;
  };
  let stopping = false;

  const durability: DurabilityPort = {
    async committed(runId, signal) {
      // The transition that started the node is queued synchronously right after the node starts
      // (xstate starts invoked actors before it reports the snapshot): let that happen first.
      await Promise.resolve();
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      const run = live.get(runId);
      if (!run || run.halted) return aborted;
      await Promise.race([run.committed, aborted]);
      await Promise.race([leaseConfirmed(run), aborted]);
    },
    // Asked as the node starts, before the step that started it is queued (xstate starts invoked
    // actors before it reports the snapshot): `attach` takes a write of that step or a later one
    // (a run's writes commit in order), while it is still queued.
    ride(runId, signal) {
      const from = live.get(runId)?.version ?? Number.POSITIVE_INFINITY;
      return {
        async attach(write) {
          // The node may ask before the step that started it is queued: let that happen first.
          await Promise.resolve();
          const run = live.get(runId);
          if (!run || run.halted || run.version <= from || signal.aborted) return null;
          let settle!: Pick<Rider, 'resolve' | 'reject'>;
          const outcome = new Promise<unknown>((resolve, reject) => (settle = { resolve, reject }));
          return store.ride(runId, { ...(write as RiderWrite), ...settle }) ? { outcome } : null;
        },
        committed: () => durability.committed(runId, signal),
      };
    },
  };
  /** When the current slice of steps began (performance.now()), or -1 when the event loop has turned since. */
  let sliceStart = -1;
  /** Whether steps may go on now: the slice began less than PACE_SLICE_MS ago (one begins if none has since the loop turned). */
  const sliceOpen = () => {
    const now = performance.now();
    if (sliceStart < 0) {
      sliceStart = now;
      setImmediate(() => {
        sliceStart = -1;
      });
      return true;
    }
    return now - sliceStart < PACE_SLICE_MS;
  };
  // A node held back tries again at the loop's next turns, until a slice has room: every run held
  // back resumes at one turn, and once that turn's slice is spent the others wait for the next.
  durability.pace = () => {
    if (sliceOpen()) return undefined;
    return new Promise<void>((resolve) => {
      const attempt = () => (sliceOpen() ? resolve() : setImmediate(attempt));
      setImmediate(attempt);
    });
  };
  const ports: RunPorts = { ...deps.ports, durability };

  /** performance.now() when the last heartbeat that renewed this process's lease was sent. */
  let leaseAt = Number.NEGATIVE_INFINITY;

  /** Resolves while this process's lease is fresh; otherwise after a heartbeat renewed it (never, if the run was lost). */
  async function leaseConfirmed(run: LiveRun) {
    const lease = deps.lease;
    if (!lease || !run.fence) return;
    if (performance.now() - leaseAt < lease.leaseMs * 0.8) return;
    await heartbeatNow();
    if (run.halted) await NEVER;
  }

  function describe(snapshot: { context: RunContext; value: unknown; status: string; hasTag(t: string): boolean }) {
    const status = runStatusOf(snapshot);
    const ctx = snapshot.context;
    const reason = status === 'skipped' ? ctx.skipReason : status === 'cancelled' ? 'Cancelled' : null;
    return { status, reason, error: ctx.failure };
  }

  /** Queues one write of a run; wires its outcome to the run's tail, barrier and halt logic. */
  function queueWrite(run: LiveRun, w: Parameters<RunStore['write']>[0], after?: () => void) {
    if (run.marker && run.marker !== w) {
      const marker = run.marker;
      run.marker = null;
      queueWrite(run, marker);
    }
    const written: Promise<WriteOutcome> = store.write(w);
    const done = written.then((outcome) => {
      if (outcome === 'fenced') throw new SwitchyardError('CONFLICT', 'Another process owns this run now');
    });
    run.tail = done;
    run.committed = done.catch(() => NEVER);
    run.writes++;
    void done.catch(() => undefined).finally(() => run.writes--);
    done.then(
      () => {
        if (!run.halted) after?.();
        updates.emit('changed', run.id);
      },
      (e: unknown) => {
        if (e instanceof PersistError) {
          deps.log?.error({ err: e.cause ?? e, runId: run.id, version: w.version }, 'a run write failed; resuming the run from what was stored');
          halt(run, 'failed', e);
        } else {
          deps.log?.error({ runId: run.id, version: w.version }, 'another process owns this run now; stopping it here');
          halt(run, 'lost', e);
        }
      },
    );
  }

  /**
   * A run's persisted state: XState's `getPersistedSnapshot`, without its walk of the whole context
   * for actor refs to replace (`persistContext`), which costs the size of the state (a 50 KB trigger
   * payload) at every step. A run's context holds none: its items and nodes are children, never
   * assigned to context; so its context is its own persisted form. Checked with the deltas: under
   * tests, XState's own walk must return the context unchanged.
   */
  function persistedOf(run: LiveRun, snap: { context: RunContext }) {
    const persisted = (run.actor as unknown as Actor<AnyStateMachine>).logic.getPersistedSnapshot({ ...snap, context: undefined } as never) as { context?: unknown };
    persisted.context = snap.context;
    if (verifyDeltas && (run.actor.getPersistedSnapshot() as { context?: unknown }).context !== snap.context) {
      deps.log?.error({ runId: run.id }, 'a run context holds an actor ref; it is persisted without it');
      if (verifyDeltas === 'throw') throw new Error(`the context of run ${run.id} holds an actor ref`);
      return run.actor.getPersistedSnapshot();
    }
    return persisted;
  }

  function onSnapshot(run: LiveRun, event: { type: string } & Record<string, unknown>, snapshot: never) {
    if (run.halted) return;
    const snap = snapshot as { context: RunContext; value: unknown; status: string; hasTag(t: string): boolean };
    // Stopping an actor is not a step of the run: persisting it would freeze the run for good.
    if (event.type === 'xstate.stop' || snap.status === 'stopped') return;
    if (snap === run.lastSnapshot) return; // the event changed nothing
    const before = (run.lastSnapshot as { context?: RunContext } | null | undefined)?.context?.nodes;
    run.lastSnapshot = snap;
    run.lastActive = performance.now();
    const persisted = persistedOf(run, snap);
    // Outcomes from context, overlaid by the active states (a chain's passed nodes are only in context).
    const nodes = nodeStatesOfSnapshot(snap);
    // A node whose state or result changed. A node decided in the step (format 4) may end in the
    // state it had in a behavior's previous activation: its new result (a new object) says it ran.
    const changed = Object.keys(nodes).filter((id) => nodes[id] !== run.nodeStates[id] || (before !== undefined && snap.context.nodes[id] !== before[id]));
    run.nodeStates = nodes;
    const { status, reason, error } = describe(snap);
    const version = ++run.version;
    const finished = isFinal(status);
    const nodeId = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type)?.[2] ?? (typeof event.nodeId === 'string' ? event.nodeId : null);
    const touchRun = finished || status !== run.status || version === 1;
    run.status = status;
    // Journal as deltas plus checkpoints: bytes per run grow with the steps taken, not their square.
    // The delta is taken on the snapshots themselves (state-diff.ts): a step costs what it changed.
    let checkpoint = touchRun || run.stored === null || run.sinceCheckpoint >= CHECKPOINT_EVERY - 1;
    let delta = checkpoint ? null : diffPersisted(run.stored!.state, persisted);
    if (delta && verifyDeltas && !deltaHolds(run.stored!.state, persisted, delta)) {
      deps.log?.error({ runId: run.id, version }, 'a journal delta does not rebuild the state; writing a checkpoint');
      if (verifyDeltas === 'throw') throw new Error(`journal delta of run ${run.id} v${version} does not rebuild its state`);
      checkpoint = true;
      delta = null;
    }
    const base = checkpoint ? null : run.stored!.seq;
    run.sinceCheckpoint = checkpoint ? 0 : run.sinceCheckpoint + 1;
    run.stored = { state: persisted, seq: version };
    const journal: JournalEntry = {
      kind: 'state',
      eventType: event.type,
      nodeId,
      data: {
        changed: Object.fromEntries(changed.map((id) => [id, { state: nodes[id], result: snap.context.nodes[id] ?? null }])),
        ...(event.type === 'approval.decide' ? { decision: event.decision, by: event.by ?? null, comment: event.comment ?? null } : {}),
        ...(finished ? { status, reason, error } : {}),
      },
    };
    // Event waits this step began are registered with it (one statement): none is missed or orphaned.
    const waits = changed
      .filter((id) => nodes[id] === 'running' && run.compiled.nodes[id]?.type === 'flow.waitForEvent')
      .map((id) => {
        const request = (snap.context.nodes[id]?.request ?? {}) as { event?: string; field?: string; key?: string };
        return { nodeId: id, eventType: String(request.event ?? ''), field: String(request.field ?? ''), key: String(request.key ?? '') };
      });
    // A node this step starts may have its effect go with it (RIDES_WITH_STEP).
    const awaitsRider = changed.some((id) => nodes[id] === 'running' && RIDES_WITH_STEP.has(run.compiled.nodes[id]?.type ?? ''));
    queueWrite(run, {
      runId: run.id, version, snapshot: checkpoint ? persisted : null, delta, base, value: snap.value, waits, status, reason, error, at: iso(), finished, touchRun, journal,
      ...(awaitsRider ? { awaitsRider } : {}),
      // A run that rests here (waiting on a person, a timer or an event) leaves its state in its
      // row, so the wake or restart that resumes it reads one row, not a checkpoint and deltas.
      ...(status === 'waiting' && !touchRun ? { rowSnapshot: persisted } : {}),
      fence: run.fence, commandId: run.commandId,
    }, () => updates.emit('update', { runId: run.id, userId: run.userId, status, version, nodes, changed } satisfies RunUpdate));
    if (finished && !run.finished) {
      run.finished = true;
      void run.tail.then(() => {
        run.halted = true;
        run.actor.stop();
        if (live.get(run.id) === run) live.delete(run.id);
      }, () => undefined);
    }
  }

  /**
   * Stops executing a run here without persisting anything more. After a failed write the run is
   * resumed from what was stored, with backoff; a run lost to another process is left to it.
   */
  function halt(run: LiveRun, why: 'failed' | 'lost' | 'stopping', reason?: unknown) {
    if (run.halted) return;
    run.halted = true;
    // The error is made only for writes still queued: stopping 1,000 idle runs makes none (bench: rehydrate).
    store.discard(run.id, () => reason ?? new SwitchyardError('INVALID_STATE', 'The run was stopped here'));
    if (live.get(run.id) === run) live.delete(run.id);
    run.actor.stop();
    if (why === 'failed' && !stopping) scheduleResume(run.id, run.fence, 0);
  }

  function scheduleResume(runId: string, fence: Fence | null, attempt: number) {
    const delay = RESUME_BACKOFF_MS[Math.min(attempt, RESUME_BACKOFF_MS.length - 1)]!;
    const timer = setTimeout(() => void resume(runId), delay);
    timer.unref?.();
    resuming.set(runId, { fence, attempt, timer });
  }

  /** Relaunches a halted run from its stored state, if this process still owns it. */
  async function resume(runId: string) {
    const entry = resuming.get(runId);
    if (!entry || stopping) return;
    try {
      const row = await store.resumable(runId);
      resuming.delete(runId);
      if (!row || isFinal(row.status) || live.has(runId)) return;
      if (entry.fence && (row.owner !== entry.fence.owner || Number(row.lease_epoch) !== entry.fence.epoch)) return;
      launch(row, await machinesRegistry.compiledFor(row.flow_id, row.flow_version), entry.fence, entry.attempt + 1);
    } catch (e) {
      deps.log?.error({ err: e, runId, attempt: entry.attempt + 1 }, 'resuming a run failed; trying again');
      if (!stopping) scheduleResume(runId, entry.fence, entry.attempt + 1);
    }
  }

  function fenceOf(row: Pick<RunRow, 'lease_epoch'>): Fence | null {
    if (!deps.lease) return null;
    return { owner: deps.lease.instanceId, epoch: Number(row.lease_epoch ?? 1) };
  }

  function launch(
    row: Pick<RunRow, 'id' | 'user_id' | 'trigger_node_id' | 'trigger' | 'snapshot' | 'snapshot_version'> & { status?: RunStatus; owner?: string | null; lease_epoch?: number | string; state_seq?: number | string | null },
    compiled: CompiledMachine,
    fence: Fence | null = fenceOf(row),
    resumeAttempt = 0,
    woken: boolean | 'replayed' = false,
  ) {
    const run: LiveRun = {
      id: row.id, userId: row.user_id, compiled, version: Number(row.snapshot_version), nodeStates: {}, status: row.status ?? 'running',
      tail: Promise.resolve(), committed: Promise.resolve(), finished: false, halted: false, fence,
      lastSnapshot: null, commandId: null, delivered: new Set(), actor: undefined as unknown as AnyActorRef,
      lastActive: performance.now(), writes: 0, event: { type: 'xstate.init' },
      stored: row.snapshot != null && row.state_seq != null ? { state: row.snapshot, seq: Number(row.state_seq) } : null, sinceCheckpoint: 0,
      marker: null,
    };
    store.reset(row.id);
    const restoring = row.snapshot != null;
    let machine = machines.get(compiled);
    if (!machine) machines.set(compiled, (machine = createRunMachine(compiled, ports)));
    // Each step is observed as a snapshot and the event that made it. The machine's logic is wrapped
    // to note the event, rather than observed through XState's inspection API, which copies every
    // event, action and microstep of every actor in the process (bench: events through the host).
    const logic = Object.create(machine) as typeof machine;
    const base = machine;
    logic.transition = (snapshot, event, scope) => {
      run.event = event;
      return base.transition(snapshot, event, scope);
    };
    const actor = createActor(logic, {
      input: { runId: row.id, userId: row.user_id, triggerNodeId: row.trigger_node_id ?? '', payload: row.trigger.payload },
      ...(restoring ? { snapshot: row.snapshot as never } : {}),
    });
    // Nothing thrown here may reach XState, which reports an observer's error as unhandled (thrown
    // out of the process a tick later). A step that cannot be recorded halts the run, which resumes
    // from what was stored; under tests (verifyDeltas 'throw') it fails loudly instead.
    const observe = (snapshot: unknown) => {
      try {
        onSnapshot(run, run.event as never, snapshot as never);
      } catch (e) {
        if (verifyDeltas === 'throw') throw e;
        deps.log?.error({ err: e, runId: run.id }, 'could not record a step of a run; resuming it from what was stored');
        halt(run, 'failed', e);
      }
    };
    actor.subscribe({
      next: observe,
      // A machine that threw (an action, a guard): its run ends failed, stored as such, instead of
      // the error reaching XState's unhandled-error report.
      error: () => observe(actor.getSnapshot()),
    });
    run.actor = actor;
    // Starting a restored actor reports the snapshot it was given: not a step, nothing to store.
    if (restoring) run.lastSnapshot = actor.getSnapshot() as never;
    if (restoring || resumeAttempt > 0) {
      // A journal row marks the restart; the snapshot is unchanged, so the row carries none.
      const restored = row.snapshot as { value?: unknown; context?: RunContext } | null;
      run.nodeStates = restored?.context ? nodeStatesOfSnapshot({ value: restored.value, context: restored.context }) : nodeStatesOf(restored?.value);
      const kind = woken === 'replayed' ? 'replayed' : woken ? 'woken' : 'restored';
      const marker = {
        runId: run.id, version: ++run.version, snapshot: null, status: run.status, reason: null, error: null, at: iso(), finished: false, touchRun: false,
        journal: { kind, eventType: null, nodeId: null, data: resumeAttempt > 0 ? { afterFailedWrite: true, attempt: resumeAttempt } : null },
        fence,
      } satisfies Parameters<RunStore['write']>[0];
      // A relaunch after a failed write is journaled at once; any other goes with the run's next
      // step (it carries no state: one that is never written loses nothing but the mark).
      if (resumeAttempt > 0) queueWrite(run, marker);
      else run.marker = marker;
    }
    live.set(row.id, run);
    actor.start();
    return run;
  }

  /** Launches a run just inserted (no state stored yet, epoch 1), unless this process is stopping: the next start resumes it. */
  function launchInserted(id: string, userId: string, triggerNodeId: string, trigger: RunRow['trigger'], compiled: CompiledMachine) {
    if (!stopping) launch({ id, user_id: userId, trigger_node_id: triggerNodeId, trigger, snapshot: null, snapshot_version: 0, lease_epoch: 1 }, compiled);
  }

  async function startRun(input: {
    userId: string; flowId: string; version: number; triggerNodeId: string;
    trigger: RunRow['trigger']; runId?: string;
    /** The inbox event this run is the only start of: marked processed by the run's insert (workflows). */
    inboxEvent?: string;
    /** Runs first in the transaction that inserts the run; false: do not start (e.g. a cron tick another process claimed). */
    claim?: (tx: EntityManager) => Promise<boolean>;
  }): Promise<{ runId: string; created: boolean }> {
    const compiled = await machinesRegistry.compiledFor(input.flowId, input.version);
    if (!compiled.triggers.some((t) => t.nodeId === input.triggerNodeId)) {
      throw new SwitchyardError('BAD_INPUT', `"${input.triggerNodeId}" is not a trigger of this flow`, { issues: [{ path: ['triggerNodeId'], message: 'Not a trigger of this flow' }] });
    }
    if (compiled.kind === 'behavior') return activateBehavior(input, compiled);
    const runId = input.runId ?? randomUUID();
    const insert = (tx?: EntityManager) => store.insert({
      id: runId, userId: input.userId, flowId: input.flowId, version: input.version, triggerNodeId: input.triggerNodeId, trigger: input.trigger, at: iso(),
      ...(deps.lease ? { owner: deps.lease } : {}), ...(input.inboxEvent ? { inboxEvent: input.inboxEvent } : {}),
    }, tx);
    const claim = input.claim;
    const created = claim
      ? await deps.em().transactional(async (tx) => ((await claim(tx)) ? insert(tx) : false))
      : await insert();
    if (created) launchInserted(runId, input.userId, input.triggerNodeId, input.trigger, compiled);
    return { runId, created };
  }

  /**
   * Starts a replay (monitor/replay.ts prepared and checked it): a new run of the same pinned flow
   * version whose first stored step is `seed.snapshot`, the old run's state when the chosen step
   * started (its run id rewritten), so the steps before it keep their recorded results and only the
   * chosen step and what follows run again. The run row, its link to the old run and that first
   * step commit together: a crash right after restores the run from it, never from the start.
   */
  async function startReplay(input: {
    userId: string; flowId: string; version: number; triggerNodeId: string; trigger: RunRow['trigger'];
    replayOf: string; fromNodeId: string;
    /** The first step, made for the new run's id; null: from the trigger (the run starts afresh). */
    seed: ((runId: string) => { snapshot: unknown; value: unknown; data: unknown; waits: { nodeId: string; eventType: string; field: string; key: string }[] }) | null;
  }): Promise<{ runId: string }> {
    const compiled = await machinesRegistry.compiledFor(input.flowId, input.version);
    const runId = randomUUID();
    const at = iso();
    const seed = input.seed?.(runId) ?? null;
    await deps.em().transactional(async (tx) => {
      await store.insert({
        id: runId, userId: input.userId, flowId: input.flowId, version: input.version, triggerNodeId: input.triggerNodeId, trigger: input.trigger, at,
        ...(deps.lease ? { owner: deps.lease } : {}),
      }, tx);
      await sql(tx, 'update runs set replay_of = ?, replay_from = ? where id = ?', [input.replayOf, input.fromNodeId, runId]);
      if (!seed) return;
      await sql(tx, 'update runs set snapshot = ?, snapshot_version = 1 where id = ?', [seed.snapshot, runId]);
      await sql(tx,
        `insert into run_journal (run_id, seq, at, kind, event_type, node_id, snapshot, data, value) values (?, 1, ?, 'state', 'run.replay', ?, ?, ?, ?::jsonb)`,
        [runId, at, input.fromNodeId, seed.snapshot, seed.data, JSON.stringify(seed.value)]);
      for (const w of seed.waits) {
        await sql(tx, 'insert into run_waits (run_id, node_id, user_id, event_type, field, correlation_key, created_at) values (?, ?, ?, ?, ?, ?, ?)',
          [runId, w.nodeId, input.userId, w.eventType, w.field, w.key, at]);
      }
    });
    if (!stopping) {
      launch({
        id: runId, user_id: input.userId, trigger_node_id: input.triggerNodeId, trigger: input.trigger, snapshot: seed?.snapshot ?? null,
        snapshot_version: seed ? 1 : 0, state_seq: seed ? 1 : null, lease_epoch: 1, status: 'running',
      }, compiled, undefined, 0, seed ? 'replayed' : false);
    }
    return { runId };
  }

  /**
   * A behavior's trigger fired: its one long-lived run (per deployed version) gets an activation.
   * The run is created on the first activation; the activation is a command (idempotent by its id:
   * the inbox event and trigger, or the cron slot's claim), stored in the same transaction as the
   * claim, and applied by the run's owner, which wakes the run if it is parked. Runs of the
   * behavior's earlier versions are cancelled: one behavior, one live machine.
   */
  async function activateBehavior(
    input: Parameters<typeof startRun>[0],
    compiled: CompiledMachine,
  ): Promise<{ runId: string; created: boolean }> {
    // A behavior for everyone has one machine per (version, user), each running in its user's scope.
    const runId = uuidFromName(compiled.audience === 'everyone' ? `behavior:${input.flowId}:${input.version}:${input.userId}` : `behavior:${input.flowId}:${input.version}`);
    const activationId = input.runId ?? randomUUID();
    const event = { type: 'behavior.activate', activationId, triggerNodeId: input.triggerNodeId, payload: input.trigger.payload } satisfies RunEvent;
    const { inserted, activated } = await deps.em().transactional(async (tx) => {
      if (input.claim && !(await input.claim(tx))) return { inserted: false, activated: false };
      const ins = await store.insert({
        id: runId, userId: input.userId, flowId: input.flowId, version: input.version, triggerNodeId: input.triggerNodeId,
        trigger: { type: 'behavior', eventId: null, payload: {} }, at: iso(), ...(deps.lease ? { owner: deps.lease } : {}),
      }, tx);
      const cmd = await sql<{ id: string }>(tx,
        `insert into run_commands (run_id, payload, created_at)
         select ?, ?::jsonb, ? where not exists (
           select 1 from run_commands where run_id = ? and payload->>'type' = 'behavior.activate' and payload->>'activationId' = ?)
         returning id`,
        [runId, JSON.stringify(event), iso(), runId, activationId]);
      return { inserted: ins, activated: cmd.length > 0 };
    });
    if (inserted && !stopping) {
      launchInserted(runId, input.userId, input.triggerNodeId, { type: 'behavior', eventId: null, payload: {} }, compiled);
      const older = await sql<{ id: string }>(deps.em(),
        `select id from runs where flow_id = ? and user_id = ? and flow_version <> ? and status in ('running', 'waiting') and trigger->>'type' = 'behavior'`, [input.flowId, input.userId, input.version]);
      for (const o of older) await cancel(input.userId, o.id).catch((e: unknown) => deps.log?.error({ err: e, runId: o.id }, 'could not cancel an earlier version of a behavior'));
    }
    if (activated) void applyCommands().then(() => pollParked()).catch((e: unknown) => deps.log?.error({ err: e, runId }, 'applying a behavior activation failed'));
    return { runId, created: activated };
  }

  /**
   * A stored run with nothing to do until a person or an event acts: it waits, nothing runs in it
   * (no invoked actor, no item machine, no timer: timed waits are left parked by the claim), and
   * every node under way is an approval or a wait for an event without a timeout. With parking on,
   * claimed rows like this stay parked instead of getting an actor that parking would stop again
   * (a restart of a process holding 100,000 approvals loaded all of them first). Its decision, its
   * event or a command wakes it, as it does any parked run.
   */
  function restsParked(row: RunRow, compiled: CompiledMachine): boolean {
    if (!deps.park || row.status !== 'waiting') return false;
    const snap = row.snapshot as { status?: string; value?: unknown; children?: Record<string, unknown> } | null;
    if (!snap || snap.status !== 'active' || (snap.children && Object.keys(snap.children).length > 0)) return false;
    let waits = 0;
    for (const [id, st] of Object.entries(nodeStatesOf(snap.value))) {
      // Regions not reached yet or ended: nothing to do there.
      if (st === 'pending' || st === 'succeeded' || st === 'skipped' || st === 'failed') continue;
      const node = compiled.nodes[id];
      if (st !== 'running' || !(node?.type === 'flow.approval' || (node?.type === 'flow.waitForEvent' && !node.params.timeout))) return false;
      waits++;
    }
    return waits > 0;
  }

  /** Launches claimed rows; a broken one is marked failed (or parked) and the rest go on. */
  async function launchAll(rows: RunRow[], what: string) {
    let launched = 0;
    let failed = 0;
    let rested = 0;
    for (const row of rows) {
      if (live.has(row.id) || resuming.has(row.id) || stopping) continue;
      try {
        const compiled = await machinesRegistry.compiledFor(row.flow_id, row.flow_version);
        if (restsParked(row, compiled)) {
          rested++;
          continue;
        }
        launch(row, compiled, fenceOf(row), 0, false);
        launched++;
      } catch (e) {
        failed++;
        const parked = e instanceof SwitchyardError && e.issues.some((i) => i.code === 'machine-format');
        deps.log?.error({ err: e, runId: row.id }, parked ? `parked a run: its machine format is unknown here (${what})` : `could not ${what} run`);
        await store.markEnded(row.id, parked ? 'parked' : 'failed',
          parked ? { code: 'INVALID_STATE', message: (e as Error).message } : { code: 'INTERNAL', message: `Could not resume after restart: ${(e as Error).message}` }, iso())
          .catch((err: unknown) => deps.log?.error({ err, runId: row.id }, 'could not mark the run'));
      }
    }
    parkedTotal += rested;
    return { launched, failed, rested };
  }

  /** Rehydrates every active run this process may own. */
  async function restoreAll(): Promise<{ restored: number; failed: number; parked: number }> {
    // This process's lease row first: runs it claims are not adoptable by others meanwhile. Leases
    // of crashed processes of this host are void at once (their runs are resumed here, now).
    if (deps.lease) {
      const gone = await store.expireInstances(isDeadLocalInstance);
      if (gone.length) deps.log?.info?.({ instances: gone }, 'voided the leases of crashed processes on this host');
      await heartbeatNow();
    }
    const rows = deps.lease
      ? await store.claim(deps.lease, { mine: true, all: deps.adoptAll ?? false, skip: [...live.keys()], parkTimed: Boolean(deps.park) })
      : await store.active();
    const { launched, failed, rested } = await launchAll(rows, 'restore');
    return { restored: launched, failed, parked: ((rows as { parked?: number }).parked ?? 0) + rested };
  }

  function liveRun(userId: string, runId: string): LiveRun {
    const run = live.get(runId);
    if (!run || run.userId !== userId) throw new SwitchyardError('INVALID_STATE', 'This run is not active');
    return run;
  }

  /**
   * Another process owns the run (or it is being resumed here): the command is stored; the owner
   * applies it with the transition it causes, in one write (or, if the owner died, whoever adopts it).
   */
  async function forward(row: RunRow, event: RunEvent) {
    await sql(deps.em(), 'insert into run_commands (run_id, payload, created_at) values (?, ?, ?)', [row.id, event, iso()]);
  }

  /** Sends an event to a live run and waits until the transition it caused is stored. */
  async function sendAndPersist(run: LiveRun, event: RunEvent) {
    const before = run.version;
    run.actor.send(event);
    if (run.version === before) return;
    await run.tail;
  }

  async function decide(userId: string, runId: string, decision: 'approve' | 'reject', opts: { nodeId?: string; comment?: string; by: string }) {
    const row = await store.get(userId, runId);
    if (!row) throw new SwitchyardError('NOT_FOUND', 'Run not found');
    const run = live.get(runId) ?? (await wakeIfMine(row));
    if (!run && (!deps.lease || isFinal(row.status))) liveRun(userId, runId);
    const value = run ? run.actor.getSnapshot().value : (row.snapshot as { value?: unknown } | null)?.value;
    const waiting = waitingApprovals(run ? run.compiled : await machinesRegistry.compiledFor(row.flow_id, row.flow_version), value);
    const nodeId = opts.nodeId ?? (waiting.length === 1 ? waiting[0] : undefined);
    if (!nodeId || !waiting.includes(nodeId)) {
      throw new SwitchyardError('INVALID_STATE', waiting.length ? `Choose which approval: ${waiting.join(', ')}` : 'This run is not waiting for an approval');
    }
    const event = { type: 'approval.decide', nodeId, decision, by: opts.by, ...(opts.comment ? { comment: opts.comment } : {}) } satisfies RunEvent;
    if (!run) {
      await forward(row, event);
      return { runId, nodeId, decision, forwarded: true };
    }
    await sendAndPersist(run, event);
    return { runId, nodeId, decision, forwarded: false };
  }

  async function cancel(userId: string, runId: string) {
    const row = await store.get(userId, runId);
    if (!row) throw new SwitchyardError('NOT_FOUND', 'Run not found');
    if (isFinal(row.status)) throw new SwitchyardError('INVALID_STATE', `The run has already ${row.status === 'cancelled' ? 'been cancelled' : 'ended'}`);
    if (!live.has(runId)) await wakeIfMine(row);
    if (!live.has(runId) && deps.lease) {
      await forward(row, { type: 'run.cancel' });
      return { forwarded: true };
    }
    await sendAndPersist(liveRun(userId, runId), { type: 'run.cancel' } satisfies RunEvent);
    return { forwarded: false };
  }

  /**
   * Applies the commands stored for runs live here, oldest first. A command is acknowledged by the
   * write of the transition it causes (one statement), so a crash in between re-delivers it; one
   * that changes nothing (the run moved on) is acknowledged as ignored.
   */
  async function applyCommands() {
    if (!live.size) return 0;
    const rows = await sql<{ id: string; run_id: string; payload: RunEvent }>(deps.em(),
      'select id, run_id, payload from run_commands where applied_at is null and run_id = any(?::uuid[]) order by id',
      [`{${[...live.keys()].join(',')}}`]);
    let applied = 0;
    for (const c of rows) {
      const run = live.get(c.run_id);
      if (!run || run.halted || run.delivered.has(c.id)) continue;
      run.delivered.add(c.id);
      const before = run.version;
      run.commandId = c.id;
      try {
        run.actor.send(c.payload);
      } finally {
        run.commandId = null;
      }
      if (deps.crashAfterCommand) process.kill(process.pid, 'SIGKILL');
      applied++;
      if (run.version === before) {
        await sql(deps.em(), `update run_commands set applied_at = ?, outcome = 'ignored' where id = ? and applied_at is null`, [iso(), c.id]);
      }
    }
    return applied;
  }

  /**
   * The active event triggers last seen for (user, event type), from the statement that stored an
   * event of that type: `emit` matches the next one against them before storing it, so the
   * statement that stores it inserts its runs too (`PredictedStarts`). The statement checks each
   * against the triggers active then; a trigger deployed meanwhile (here or by another process) is
   * found there and started after, as without the cache.
   */
  const knownTriggers = new Map<string, TriggerRow[]>();
  const KNOWN_TRIGGERS_MAX = 10_000;
  const triggersKey = (userId: string, type: string) => `${userId}\u0000${type}`;

  /**
   * The runs an event starts, matched against the triggers last seen for its type (null: none seen
   * yet). A trigger that is a behavior's, or whose match threw, is left out of `expected`: the event
   * is then stored unprocessed and that trigger handled after, as without the cache.
   */
  async function predictStarts(userId: string, eventId: string, type: string, payload: Record<string, unknown>): Promise<(PredictedStarts & { compiled: Map<string, CompiledMachine> }) | null> {
    const triggers = knownTriggers.get(triggersKey(userId, type));
    if (!triggers) return null;
    const expected: string[] = [];
    const runs: PredictedStarts['runs'] = [];
    const compiled = new Map<string, CompiledMachine>();
    for (const t of triggers) {
      let machine: CompiledMachine;
      try {
        machine = await machinesRegistry.compiledFor(t.flow_id, t.version);
      } catch {
        continue;
      }
      if (machine.kind === 'behavior') continue;
      const { matched, errors } = matchTrigger(machine, type, payload);
      if (errors.length) continue;
      expected.push(`${t.id}:${t.version}`);
      if (!matched.some((m) => m.nodeId === t.node_id)) continue;
      const id = uuidFromName(`${eventId}:${t.id}`);
      runs.push({ id, flow_id: t.flow_id, flow_version: t.version, trigger_node_id: t.node_id, trigger_id: t.id, owner: deps.lease?.instanceId ?? null });
      compiled.set(id, machine);
    }
    return { expected, runs, compiled };
  }

  let eventsWithTriggers = 0;

  /**
   * Stores the event in the durable inbox, then starts every deployed flow whose trigger matches.
   * The insert also reads the matching triggers, delivers the event to the runs waiting for it
   * (`DELIVER_CTES`) and, when no flow listens for it, marks it processed: one statement for an
   * event no flow starts on, shared by the events emitted at the same time (inbox.ts, group
   * commit). When this process has seen the triggers of the event's type before, the same statement
   * inserts the runs they start and, if those were all its active triggers, marks it processed: one
   * commit from the event to its runs. Otherwise the runs left are started after (`processInbox`);
   * the insert of the only run it starts marks it processed.
   */
  async function emit(userId: string, event: DomainEvent & { dedupeKey?: string }) {
    const eventId = randomUUID();
    const payload = JSON.stringify(event.payload ?? {});
    const parsed = JSON.parse(payload) as Record<string, unknown>;
    const at = iso();
    const predicted = await predictStarts(userId, eventId, event.type, parsed);
    const outcome = await inbox.store({
      id: eventId, userId, type: event.type, payload, dedupeKey: event.dedupeKey ?? null, at,
      ...(predicted ? { starts: { expected: predicted.expected, runs: predicted.runs } } : {}),
    });
    if (!outcome.stored) {
      const stored = (await sqlOne<{ id: string; processed: boolean }>(deps.em(),
        'select id, processed_at is not null as processed from inbox where user_id = ? and dedupe_key = ?', [userId, event.dedupeKey]))!;
      // Stored by an emit that never finished (its process died between storing the event and
      // starting its runs; the caller retries): this one finishes it. The runs' ids derive from the
      // event, so an emit of it still under way elsewhere starts nothing twice.
      if (!stored.processed) await processInbox(stored.id);
      return { eventId: stored.id, duplicate: true, runs: await runsOfEvent(userId, stored.id) };
    }
    if (knownTriggers.size >= KNOWN_TRIGGERS_MAX) knownTriggers.clear();
    knownTriggers.set(triggersKey(userId, event.type), outcome.triggers);
    if (outcome.delivered > 0) wakeWaiting(eventId);
    const triggers = outcome.triggers;
    if (deps.crashAfterInbox && triggers.length && ++eventsWithTriggers === deps.crashAfterInbox) process.kill(process.pid, 'SIGKILL');
    const trigger = { type: event.type, eventId, payload: parsed };
    const runs: { runId: string; flowId: string; docId: string; status: string }[] = [];
    for (const runId of outcome.started) {
      const r = predicted!.runs.find((x) => x.id === runId)!;
      launchInserted(runId, userId, r.trigger_node_id, trigger, predicted!.compiled.get(runId)!);
      runs.push({ runId, flowId: r.flow_id, docId: triggers.find((t) => t.id === r.trigger_id)!.doc_id, status: 'running' });
    }
    if (outcome.complete) return { eventId, duplicate: false, runs };
    // Triggers the cache did not know (or could not match): started as without it.
    const rest = triggers.filter((t) => !predicted?.runs.some((r) => r.trigger_id === t.id && outcome.started.includes(r.id)));
    runs.push(...(await processInbox(eventId, { id: eventId, user_id: userId, type: event.type, payload: parsed }, rest, runs.length > 0)));
    return { eventId, duplicate: false, runs };
  }

  /** Commands were stored for waiting runs: their owner applies them, here at once when it is this process (live or parked). */
  function wakeWaiting(eventId: string) {
    void applyCommands().then(() => pollParked()).catch((e: unknown) => deps.log?.error({ err: e, eventId }, 'delivering an event to waiting runs failed'));
  }

  async function runsOfEvent(userId: string, eventId: string) {
    return sql<{ runId: string; flowId: string; docId: string; status: string }>(deps.em(),
      `select r.id as "runId", r.flow_id as "flowId", f.doc_id as "docId", r.status from runs r join flows f on f.id = r.flow_id
        where r.user_id = ? and r.trigger->>'eventId' = ? order by r.started_at`, [userId, eventId]);
  }

  /**
   * Starts the runs an inbox event triggers and delivers it to waiting runs, then marks it processed.
   * From `emit` (`stored` and `read` given), its statement already delivered the event, and marked it
   * processed when no flow listens; the insert of the event's only run marks it processed too.
   */
  async function processInbox(eventId: string, stored?: { id: string; user_id: string; type: string; payload: Record<string, unknown> }, read?: TriggerRow[], startedBefore = false) {
    const ev = stored ?? await sqlOne<{ id: string; user_id: string; type: string; payload: Record<string, unknown> }>(deps.em(), 'select * from inbox where id = ?', [eventId]);
    if (!ev) return [];
    const fromEmit = stored !== undefined && read !== undefined;
    const triggers = read ?? await sql<TriggerRow>(deps.em(), `${TRIGGERS_SQL} order by created_at`, [ev.user_id, ev.type]);
    const started: { runId: string; flowId: string; docId: string; status: string }[] = [];
    const problems: string[] = [];
    // From `emit` with no trigger left (the statement that stored it had none, or started them all).
    let processed = fromEmit && triggers.length === 0 && !startedBefore;
    for (const t of triggers) {
      try {
        const compiled = await machinesRegistry.compiledFor(t.flow_id, t.version);
        const { matched, errors } = matchTrigger(compiled, ev.type, ev.payload);
        problems.push(...errors.map((e) => `${t.node_id}: ${e.message}`));
        if (!matched.some((m) => m.nodeId === t.node_id)) continue;
        const only = fromEmit && triggers.length === 1 && problems.length === 0 && compiled.kind !== 'behavior';
        const { runId } = await startRun({
          userId: ev.user_id, flowId: t.flow_id, version: t.version, triggerNodeId: t.node_id,
          trigger: { type: ev.type, eventId: ev.id, payload: ev.payload }, runId: uuidFromName(`${ev.id}:${t.id}`),
          ...(only ? { inboxEvent: ev.id } : {}),
        });
        processed ||= only;
        started.push({ runId, flowId: t.flow_id, docId: t.doc_id, status: 'running' });
      } catch (e) {
        problems.push(`${t.node_id}: ${(e as Error).message}`);
        deps.log?.error({ err: e, eventId, triggerId: t.id }, 'event could not start a run');
      }
    }
    if (processed) return started; // no problem either: `only` needed none, and nothing came after it
    const error = problems.length ? problems.join('; ') : null;
    if (fromEmit) {
      await sql(deps.em(), 'update inbox set processed_at = ?, error = ? where id = ?', [iso(), error, ev.id]);
    } else if ((await deliverToWaits(ev, error)).length) {
      wakeWaiting(eventId);
    }
    return started;
  }

  /**
   * Routes an event to runs waiting for it (`DELIVER_CTES`). The same statement marks the inbox row
   * processed (with the problems met starting runs, if any).
   */
  async function deliverToWaits(ev: { id: string; user_id: string; type: string; payload: Record<string, unknown> }, error: string | null) {
    const at = iso();
    return sql<{ run_id: string; node_id: string }>(deps.em(),
      `with processed as (update inbox set processed_at = ?, error = ? where id = ? returning id),
       events as (select ?::uuid as id, ?::uuid as user_id, ?::text as type, ?::jsonb as payload, ?::timestamptz as at, 0 as _i),
       ${DELIVER_CTES('events')}
       select run_id, node_id from delivered`,
      [at, error, ev.id, ev.id, ev.user_id, ev.type, ev.payload ?? {}, at]);
  }

  /**
   * Keeps this process's leases alive, halts the runs it lost (paused past its lease, adopted
   * elsewhere) before they act again, and adopts runs whose owner stopped heartbeating.
   */
  let leaseTimer: NodeJS.Timeout | null = null;
  let commandTimer: NodeJS.Timeout | null = null;
  let beating: Promise<void> | null = null;

  async function heartbeat() {
    const lease = deps.lease;
    if (!lease) return;
    const held = [
      ...[...live.values()].filter((r) => r.fence && !r.halted).map((r) => ({ id: r.id, epoch: r.fence!.epoch, run: r as LiveRun | null })),
      ...[...resuming.entries()].filter(([, e]) => e.fence).map(([id, e]) => ({ id, epoch: e.fence!.epoch, run: null as LiveRun | null })),
    ];
    const sentAt = performance.now();
    const renewed = await store.heartbeat(lease, held);
    leaseAt = sentAt;
    let lost = 0;
    for (const h of held) {
      if (renewed.has(h.id)) continue;
      if (h.run && !h.run.finished) {
        deps.log?.warn?.({ runId: h.id }, 'lost the lease on a run (another process adopted it); stopped it here');
        halt(h.run, 'lost');
        lost++;
      }
      const r = resuming.get(h.id);
      if (r && !h.run) {
        clearTimeout(r.timer);
        resuming.delete(h.id);
      }
    }
    recordLeasesLost(lost);
  }

  /** One heartbeat at a time; callers that need a fresh lease share the one under way. */
  function heartbeatNow(): Promise<void> {
    beating ??= heartbeat().finally(() => (beating = null));
    return beating;
  }

  async function leaseTick() {
    const lease = deps.lease;
    if (!lease || stopping) return;
    await heartbeatNow();
    void drainStale(lease.leaseMs);
    const adopted = await store.claim(lease, { mine: false, skip: [...live.keys(), ...resuming.keys(), ...waking.keys()], parkTimed: Boolean(deps.park) });
    if (adopted.length || adopted.parked) {
      deps.log?.info?.({ runs: adopted.length, parked: adopted.parked ?? 0 }, 'adopted runs whose owner stopped heartbeating');
      await launchAll(adopted, 'adopt');
    }
  }

  function startLeases() {
    const lease = deps.lease;
    if (!lease || leaseTimer) return;
    leaseTimer = setInterval(() => void leaseTick().catch((e: unknown) => deps.log?.error({ err: e }, 'lease heartbeat failed')), Math.max(250, Math.floor(lease.leaseMs / 3)));
    commandTimer = setInterval(() => void applyCommands().catch((e: unknown) => deps.log?.error({ err: e }, 'applying forwarded commands failed')), deps.commandPollMs ?? 500);
  }

  /*
   * Parking. A run that waits only on timers and approvals holds an actor, its context and timer
   * waits in memory for nothing; after `park.afterMs` idle it is stopped here without persisting
   * (its stored state is the wait itself) and stays owned by this process. It is woken from the
   * database: a timer due (looked for a little ahead, so it fires on time), a command stored for it
   * (an approval sent through another process), or a call here that needs it (approve, cancel).
   */
  const waking = new Map<string, Promise<LiveRun | null>>();
  let parkTimer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let parkedTotal = 0;
  let wokenTotal = 0;

  function parkable(run: LiveRun, now: number): boolean {
    const park = deps.park;
    if (!park || run.halted || run.finished || run.status !== 'waiting' || run.writes > 0 || run.commandId) return false;
    if (now - run.lastActive < park.afterMs) return false;
    const snap = run.actor.getSnapshot() as { status: string; value: unknown; context: RunContext };
    if (snap.status !== 'active') return false;
    let timed = 0;
    for (const [id, st] of Object.entries(nodeStatesOf(snap.value))) {
      const type = run.compiled.nodes[id]?.type;
      if (st === 'retrying' || (st === 'running' && type === 'flow.delay')) timed++;
      else if (st === 'running' && type === 'flow.waitForEvent') timed += run.compiled.nodes[id]?.params.timeout ? 1 : 0;
      else if (st === 'running' && type === 'flow.forEach') {
        // Its items run as child machines (restored with the run): parked when each one under way
        // only waits on a timer (a delay, a retry's backoff), counted like the run's own.
        const waits = itemTimers(run.compiled, id, snap.context);
        if (waits === null) return false;
        timed += waits;
      } else if (st === 'running' && type !== 'flow.approval') return false;
    }
    const { count, nextDue } = park.armed(run.id);
    if (count < timed) return false; // a timer's row is not stored yet
    return nextDue === null || nextDue - deps.clock.now() >= park.afterMs;
  }

  /**
   * The timers a for-each's items under way wait on, or null when one of them does something else
   * (or the for-each is not between its items: picking them, collecting their ends).
   */
  function itemTimers(compiled: CompiledMachine, forEachId: string, context: RunContext): number | null {
    const state = context.each?.[forEachId];
    const body = compiled.bodies?.[forEachId];
    if (!state || !body) return null;
    let timers = 0;
    for (const item of state.items) {
      if (item.status !== 'running') continue;
      if (!item.waiting) return null;
      for (const [id, st] of Object.entries(item.nodes)) {
        if (st === 'retrying' || (st === 'running' && body.nodes[id]?.type === 'flow.delay')) timers++;
        else if (st === 'running' || st === 'waiting') return null;
      }
    }
    return timers;
  }

  function parkIdle() {
    const now = performance.now();
    for (const run of [...live.values()]) {
      if (!parkable(run, now)) continue;
      run.halted = true;
      live.delete(run.id);
      run.actor.stop();
      parkedTotal++;
    }
  }

  /**
   * Reads a parked run to wake. The runs asked for in one turn of the event loop are read by one
   * statement: a poll that finds 1,000 timers due wakes 1,000 runs with one read, not 1,000.
   */
  let wakeRead: { ids: string[]; rows: Promise<Map<string, RunRow>> } | null = null;
  function readToWake(runId: string): Promise<RunRow | null> {
    if (!wakeRead) {
      const ids: string[] = [];
      const rows = Promise.resolve().then(async () => {
        wakeRead = null;
        return new Map((await store.resumableMany(ids)).map((r) => [r.id, r]));
      });
      wakeRead = { ids, rows };
    }
    wakeRead.ids.push(runId);
    return wakeRead.rows.then((rows) => rows.get(runId) ?? null);
  }

  /** Relaunches a parked run from the database (one wake at a time per run); null if it is not this process's to run. */
  function wake(runId: string): Promise<LiveRun | null> {
    const running = live.get(runId);
    if (running) return Promise.resolve(running);
    let pending = waking.get(runId);
    if (!pending) {
      pending = (async () => {
        if (stopping || resuming.has(runId)) return null;
        const row = await readToWake(runId);
        if (!row || isFinal(row.status) || stopping) return null;
        if (deps.lease && row.owner !== deps.lease.instanceId) return null;
        const compiled = await machinesRegistry.compiledFor(row.flow_id, row.flow_version);
        if (live.has(runId)) return live.get(runId)!;
        if (stopping) return null;
        wokenTotal++;
        return launch(row, compiled, fenceOf(row), 0, true);
      })().finally(() => waking.delete(runId));
      waking.set(runId, pending);
    }
    return pending;
  }

  /** Wakes a run parked here (the caller read its row); nothing for runs other processes own. */
  async function wakeIfMine(row: RunRow): Promise<LiveRun | undefined> {
    if (!deps.park || isFinal(row.status) || (deps.lease && row.owner !== deps.lease.instanceId)) return undefined;
    return (await wake(row.id)) ?? undefined;
  }

  /** Wakes parked runs with a timer due soon or a command waiting, then applies the commands. */
  async function wakeDue() {
    const park = deps.park;
    if (!park || stopping) return;
    const horizon = new Date(deps.clock.now() + Math.max(park.afterMs, park.pollMs ?? 250)).toISOString();
    const ids = (await store.wakeable(deps.lease?.instanceId ?? null, horizon)).filter((id) => !live.has(id) && !resuming.has(id));
    if (!ids.length) return;
    const woken = await Promise.allSettled(ids.map((id) => wake(id)));
    for (const [i, r] of woken.entries()) {
      if (r.status === 'rejected') deps.log?.error({ err: r.reason, runId: ids[i] }, 'could not wake a parked run');
    }
    await applyCommands();
  }

  function pollParked(): Promise<void> {
    polling ??= (async () => {
      try {
        parkIdle();
        await wakeDue();
      } catch (e) {
        deps.log?.error({ err: e }, 'waking parked runs failed');
      } finally {
        polling = null;
      }
    })();
    return polling;
  }
  // A moved clock (tests) may make timers of parked runs due at once.
  const unsubscribeClock = deps.park ? deps.clock.onChange(() => void pollParked()) : () => undefined;

  function startParking() {
    const park = deps.park;
    if (!park || parkTimer) return;
    parkTimer = setInterval(() => void pollParked(), park.pollMs ?? 250);
    parkTimer.unref?.();
  }

  /** Inbox rows stored before a crash but never processed. */
  async function drainInbox(olderThan?: string) {
    const rows = await sql<{ id: string }>(deps.em(),
      `select id from inbox where processed_at is null ${olderThan ? 'and received_at < ?' : ''} order by received_at limit 1000`, olderThan ? [olderThan] : []);
    for (const r of rows) await processInbox(r.id);
    return rows.length;
  }

  /**
   * Events left unprocessed for longer than a lease: stored by a process that died before starting
   * their runs and has not come back (its next start would drain them). Looked for once a lease,
   * one drain at a time; processing an event twice starts nothing twice.
   */
  let staleDrain: { at: number; running: boolean } = { at: 0, running: false };
  async function drainStale(leaseMs: number) {
    const now = deps.clock.now();
    if (staleDrain.running || now - staleDrain.at < leaseMs) return;
    staleDrain = { at: now, running: true };
    try {
      const drained = await drainInbox(new Date(now - leaseMs).toISOString());
      if (drained) deps.log?.info?.({ events: drained }, 'processed events another process stored and did not finish');
    } catch (e) {
      deps.log?.error({ err: e }, 'processing events left unprocessed failed (retried next lease)');
    } finally {
      staleDrain.running = false;
    }
  }

  /** Effects check this before they act: this process still owns the run under the epoch it claimed. */
  const fence = {
    /** The (owner, epoch) under which this process runs `runId`: null without leases; throws when it does not run it. */
    claim(runId: string): Fence | null {
      if (!deps.lease) return null;
      const f = live.get(runId)?.fence ?? resuming.get(runId)?.fence;
      if (!f) throw new SwitchyardError('CONFLICT', 'This process no longer runs this run');
      return f;
    },
    /** A fenced write was refused: another process owns the run now; stop it here. */
    lost(runId: string) {
      const run = live.get(runId);
      if (run) halt(run, 'lost');
    },
    async check(em: EntityManager, runId: string) {
      const f = fence.claim(runId);
      if (!f) return;
      const row = await sqlOne(em, 'select 1 as ok from runs where id = ? and owner = ? and lease_epoch = ? for share', [runId, f.owner, f.epoch]);
      if (!row) {
        fence.lost(runId);
        throw new SwitchyardError('CONFLICT', 'Another process owns this run now');
      }
    },
  };

  return {
    store,
    updates,
    fence,
    compiledFor: (flowId: string, version: number) => machinesRegistry.compiledFor(flowId, version),
    startRun,
    startReplay,
    restoreAll,
    drainInbox,
    emit,
    approve: (userId: string, runId: string, o: { nodeId?: string; comment?: string; by: string }) => decide(userId, runId, 'approve', o),
    reject: (userId: string, runId: string, o: { nodeId?: string; comment?: string; by: string }) => decide(userId, runId, 'reject', o),
    cancel,
    /** Live state of an active run (null when not live in this process). */
    liveState(runId: string) {
      const run = live.get(runId);
      if (!run) return null;
      const snap = run.actor.getSnapshot() as { value: unknown; context: RunContext };
      return { nodes: nodeStatesOf(snap.value), context: snap.context, waitingApprovals: waitingApprovals(run.compiled, snap.value) };
    },
    liveCount: () => live.size,
    /** Starts an actor for an existing run row (restore path; benchmarks use it without a database). */
    launch,
    /** Sends an event to a live run without checks (callers validate first). */
    deliver(runId: string, event: RunEvent) {
      live.get(runId)?.actor.send(event);
    },
    /** Waits until every queued write of a run (or all runs) reached the database (or failed). */
    async flush(runId?: string) {
      if (runId) await live.get(runId)?.tail;
      else await Promise.allSettled([...live.values()].map((r) => r.tail));
    },
    startLeases,
    startParking,
    /** Parks idle runs and wakes due ones now (tests and benchmarks; the timer does it every `park.pollMs`). */
    pollParked,
    /** Runs parked by this process since it started, and woken. */
    parkingStats: () => ({ live: live.size, parked: parkedTotal, woken: wokenTotal }),
    applyCommands,
    /**
     * Graceful stop: lets queued writes land, stops every actor without persisting the stop (a
     * stopped snapshot would freeze the run), and releases this process's leases so another
     * process (or this one, restarted) resumes the runs at once.
     */
    async stop() {
      stopping = true;
      if (leaseTimer) clearInterval(leaseTimer);
      if (commandTimer) clearInterval(commandTimer);
      if (parkTimer) clearInterval(parkTimer);
      unsubscribeClock();
      leaseTimer = null;
      commandTimer = null;
      parkTimer = null;
      for (const r of resuming.values()) clearTimeout(r.timer);
      const runs = [...live.values()];
      await Promise.allSettled(runs.map((r) => r.tail));
      for (const r of runs) halt(r, 'stopping');
      live.clear();
      resuming.clear();
      await Promise.allSettled(waking.values());
      for (const r of live.values()) halt(r, 'stopping');
      live.clear();
      if (deps.lease) await store.release(deps.lease).catch((e: unknown) => deps.log?.error({ err: e }, 'could not release leases'));
    },
  };
}
export type Host = ReturnType<typeof createHost>;
