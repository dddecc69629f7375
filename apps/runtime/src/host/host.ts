import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createActor, type AnyActorRef } from 'xstate';
import {
  compile, createRunMachine, matchTrigger, nodeStatesOf, runStatusOf, waitingApprovals,
  type CompiledMachine, type RunContext, type RunEvent, type RunPorts, type RunStatus,
} from '@switchyard/actors';
import { SwitchyardError, type DomainEvent } from '@switchyard/schema';
import type { RuntimeClock } from './clock';
import { sql, sqlOne } from './db';
import { uuidFromName } from './ids';
import { createRunStore, isFinal, type JournalEntry, type Lease, type RunRow, type RunStore } from './run-store';

interface LiveRun {
  id: string;
  userId: string;
  compiled: CompiledMachine;
  actor: AnyActorRef;
  version: number;
  nodeStates: Record<string, string>;
  status: RunStatus;
  /** Serialises this run's writes so versions land in order. */
  queue: Promise<unknown>;
  finished: boolean;
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
  log?: { error(obj: unknown, msg?: string): void; info?(obj: unknown, msg?: string): void };
}

/**
 * The actor host: runs compiled flows as XState actors, persists every transition (snapshot +
 * journal, versioned), rehydrates active runs on start and routes events to them.
 */
export function createHost(deps: HostDeps) {
  const store = deps.store ?? createRunStore(deps.em);
  const live = new Map<string, LiveRun>();
  const compiledCache = new Map<string, CompiledMachine>();
  const machines = new WeakMap<CompiledMachine, ReturnType<typeof createRunMachine>>();
  const updates = new EventEmitter();
  updates.setMaxListeners(0);
  const iso = () => new Date(deps.clock.now()).toISOString();
  let stopping = false;

  async function compiledFor(flowId: string, version: number): Promise<CompiledMachine> {
    const cacheKey = `${flowId}@${version}`;
    const hit = compiledCache.get(cacheKey);
    if (hit) return hit;
    const row = await sqlOne<{ document: unknown }>(deps.em(), 'select document from flow_versions where flow_id = ? and version = ?', [flowId, version]);
    if (!row) throw new SwitchyardError('NOT_FOUND', `Flow version ${version} not found`);
    const { machine, diagnostics } = compile(row.document);
    if (!machine) throw new SwitchyardError('INVALID_DOCUMENT', diagnostics[0]?.message ?? 'The flow does not compile', { issues: diagnostics.map((d) => ({ path: d.path, message: d.message, code: d.code })) });
    compiledCache.set(cacheKey, machine);
    return machine;
  }

  function describe(run: LiveRun, snapshot: { context: RunContext; value: unknown; status: string; hasTag(t: string): boolean }) {
    const status = runStatusOf(snapshot);
    const ctx = snapshot.context;
    const reason = status === 'skipped' ? ctx.skipReason : status === 'cancelled' ? 'Cancelled' : null;
    return { status, reason, error: ctx.failure };
  }

  function onSnapshot(run: LiveRun, event: { type: string } & Record<string, unknown>, snapshot: never) {
    const snap = snapshot as { context: RunContext; value: unknown; status: string; hasTag(t: string): boolean };
    const persisted = run.actor.getPersistedSnapshot();
    // A final machine has left the node regions; their outcome is in context.
    const regions = nodeStatesOf(snap.value);
    const nodes = Object.keys(regions).length ? regions : Object.fromEntries(Object.entries(snap.context.nodes).map(([id, r]) => [id, r.status]));
    const changed = Object.keys(nodes).filter((id) => nodes[id] !== run.nodeStates[id]);
    run.nodeStates = nodes;
    const { status, reason, error } = describe(run, snap);
    const version = ++run.version;
    const finished = isFinal(status);
    const nodeId = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type)?.[2] ?? (typeof event.nodeId === 'string' ? event.nodeId : null);
    const touchRun = finished || status !== run.status || version === 1;
    run.status = status;
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
    const at = iso();
    // Enqueued now (the store keeps order and batches); awaited in order for the update events.
    const written = store.write({ runId: run.id, version, snapshot: persisted, status, reason, error, at, finished, touchRun, journal });
    run.queue = run.queue
      .then(() => written)
      .then((ok) => {
        if (!ok && !run.finished) {
          // Another process adopted this run (our lease lapsed): stop executing it here.
          deps.log?.error({ runId: run.id, version }, 'another process owns this run now; stopping it here');
          run.finished = true;
          run.actor.stop();
          live.delete(run.id);
          return;
        }
        updates.emit('update', { runId: run.id, userId: run.userId, status, version, nodes, changed } satisfies RunUpdate);
      })
      .catch((e) => deps.log?.error({ err: e, runId: run.id }, 'failed to persist run snapshot'));
    if (finished && !run.finished) {
      run.finished = true;
      void run.queue.finally(() => {
        run.actor.stop();
        live.delete(run.id);
      });
    }
  }

  function launch(row: Pick<RunRow, 'id' | 'user_id' | 'trigger_node_id' | 'trigger' | 'snapshot' | 'snapshot_version'> & { status?: RunStatus }, compiled: CompiledMachine) {
    const run: LiveRun = {
      id: row.id, userId: row.user_id, compiled, version: row.snapshot_version, nodeStates: {}, status: row.status ?? 'running',
      queue: Promise.resolve(), finished: false, actor: undefined as unknown as AnyActorRef,
    };
    const restoring = row.snapshot != null;
    let machine = machines.get(compiled);
    if (!machine) machines.set(compiled, (machine = createRunMachine(compiled, deps.ports)));
    const actor = createActor(machine, {
      input: { runId: row.id, userId: row.user_id, triggerNodeId: row.trigger_node_id ?? '', payload: row.trigger.payload },
      ...(restoring ? { snapshot: row.snapshot as never } : {}),
      inspect: (ev) => {
        if (ev.type !== '@xstate.snapshot' || ev.actorRef !== run.actor) return;
        onSnapshot(run, ev.event as never, ev.snapshot as never);
      },
    });
    run.actor = actor;
    if (restoring) {
      // A journal row marks the restart; the snapshot is unchanged, so the row carries none.
      run.nodeStates = nodeStatesOf((row.snapshot as { value?: unknown }).value);
      const version = ++run.version;
      run.queue = store.write({
        runId: run.id, version, snapshot: null, status: run.status, reason: null, error: null, at: iso(), finished: false, touchRun: false,
        journal: { kind: 'restored', eventType: null, nodeId: null, data: null },
      });
    }
    live.set(row.id, run);
    actor.start();
    return run;
  }

  async function startRun(input: {
    userId: string; flowId: string; version: number; triggerNodeId: string;
    trigger: RunRow['trigger']; runId?: string;
  }): Promise<{ runId: string; created: boolean }> {
    const compiled = await compiledFor(input.flowId, input.version);
    if (!compiled.triggers.some((t) => t.nodeId === input.triggerNodeId)) {
      throw new SwitchyardError('BAD_INPUT', `"${input.triggerNodeId}" is not a trigger of this flow`, { issues: [{ path: ['triggerNodeId'], message: 'Not a trigger of this flow' }] });
    }
    const runId = input.runId ?? randomUUID();
    const created = await store.insert({
      id: runId, userId: input.userId, flowId: input.flowId, version: input.version, triggerNodeId: input.triggerNodeId, trigger: input.trigger, at: iso(),
      ...(deps.lease ? { owner: deps.lease } : {}),
    });
    if (created && !stopping) launch({ id: runId, user_id: input.userId, trigger_node_id: input.triggerNodeId, trigger: input.trigger, snapshot: null, snapshot_version: 0 }, compiled);
    return { runId, created };
  }

  /** Rehydrates every active run; a broken one is marked failed and the rest go on. */
  async function restoreAll(): Promise<{ restored: number; failed: number }> {
    let restored = 0;
    let failed = 0;
    const rows = deps.lease ? await store.claim(deps.lease, { mine: true, all: deps.adoptAll ?? false, skip: [...live.keys()] }) : await store.active();
    for (const row of rows) {
      if (live.has(row.id)) continue;
      try {
        launch(row, await compiledFor(row.flow_id, row.flow_version));
        restored++;
      } catch (e) {
        failed++;
        deps.log?.error({ err: e, runId: row.id }, 'could not restore run');
        await store.markFailed(row.id, { code: 'INTERNAL', message: `Could not resume after restart: ${(e as Error).message}` }, iso());
      }
    }
    return { restored, failed };
  }

  function liveRun(userId: string, runId: string): LiveRun {
    const run = live.get(runId);
    if (!run || run.userId !== userId) throw new SwitchyardError('INVALID_STATE', 'This run is not active');
    return run;
  }

  /**
   * Another process owns the run (leases): the command is stored for the owner, which applies it
   * within `commandPollMs` (or, if the owner died, whoever adopts the run does).
   */
  async function forward(row: RunRow, event: RunEvent) {
    await sql(deps.em(), 'insert into run_commands (run_id, payload, created_at) values (?, ?, ?)', [row.id, event, iso()]);
  }

  async function decide(userId: string, runId: string, decision: 'approve' | 'reject', opts: { nodeId?: string; comment?: string; by: string }) {
    const row = await store.get(userId, runId);
    if (!row) throw new SwitchyardError('NOT_FOUND', 'Run not found');
    const run = live.get(runId);
    if (!run && (!deps.lease || isFinal(row.status))) liveRun(userId, runId);
    const value = run ? run.actor.getSnapshot().value : (row.snapshot as { value?: unknown } | null)?.value;
    const waiting = waitingApprovals(run ? run.compiled : await compiledFor(row.flow_id, row.flow_version), value);
    const nodeId = opts.nodeId ?? (waiting.length === 1 ? waiting[0] : undefined);
    if (!nodeId || !waiting.includes(nodeId)) {
      throw new SwitchyardError('INVALID_STATE', waiting.length ? `Choose which approval: ${waiting.join(', ')}` : 'This run is not waiting for an approval');
    }
    const event = { type: 'approval.decide', nodeId, decision, by: opts.by, ...(opts.comment ? { comment: opts.comment } : {}) } satisfies RunEvent;
    if (!run) {
      await forward(row, event);
      return { runId, nodeId, decision, forwarded: true };
    }
    run.actor.send(event);
    await run.queue;
    return { runId, nodeId, decision, forwarded: false };
  }

  async function cancel(userId: string, runId: string) {
    const row = await store.get(userId, runId);
    if (!row) throw new SwitchyardError('NOT_FOUND', 'Run not found');
    if (isFinal(row.status)) throw new SwitchyardError('INVALID_STATE', `The run has already ${row.status === 'cancelled' ? 'been cancelled' : 'ended'}`);
    if (!live.has(runId) && deps.lease) {
      await forward(row, { type: 'run.cancel' });
      return { forwarded: true };
    }
    const run = liveRun(userId, runId);
    run.actor.send({ type: 'run.cancel' } satisfies RunEvent);
    await run.queue;
    return { forwarded: false };
  }

  /** Applies the commands other processes stored for runs live here, oldest first, each once. */
  async function applyCommands() {
    if (!live.size) return 0;
    const rows = await sql<{ id: string; run_id: string; payload: RunEvent }>(deps.em(),
      `update run_commands set applied_at = ? where id in (
         select id from run_commands where applied_at is null and run_id = any(?::uuid[]) order by id for update skip locked)
       returning id, run_id, payload`,
      [iso(), `{${[...live.keys()].join(',')}}`]);
    for (const c of rows.sort((a, b) => Number(a.id) - Number(b.id))) live.get(c.run_id)?.actor.send(c.payload);
    return rows.length;
  }

  /** Stores the event in the durable inbox, then starts every deployed flow whose trigger matches. */
  async function emit(userId: string, event: DomainEvent & { dedupeKey?: string }) {
    const id = randomUUID();
    const inserted = await sql<{ id: string }>(deps.em(),
      `insert into inbox (id, user_id, type, payload, dedupe_key, received_at) values (?, ?, ?, ?, ?, ?)
       on conflict (user_id, dedupe_key) do nothing returning id`,
      [id, userId, event.type, event.payload, event.dedupeKey ?? null, iso()]);
    const eventId = inserted[0]?.id ?? (await sqlOne<{ id: string }>(deps.em(), 'select id from inbox where user_id = ? and dedupe_key = ?', [userId, event.dedupeKey]))!.id;
    const runs = inserted.length ? await processInbox(eventId) : await runsOfEvent(userId, eventId);
    return { eventId, duplicate: inserted.length === 0, runs };
  }

  async function runsOfEvent(userId: string, eventId: string) {
    return sql<{ runId: string; flowId: string; docId: string; status: string }>(deps.em(),
      `select r.id as "runId", r.flow_id as "flowId", f.doc_id as "docId", r.status from runs r join flows f on f.id = r.flow_id
        where r.user_id = ? and r.trigger->>'eventId' = ? order by r.started_at`, [userId, eventId]);
  }

  async function processInbox(eventId: string) {
    const ev = await sqlOne<{ id: string; user_id: string; type: string; payload: Record<string, unknown> }>(deps.em(), 'select * from inbox where id = ?', [eventId]);
    if (!ev) return [];
    const triggers = await sql<{ id: string; flow_id: string; doc_id: string; version: number; node_id: string }>(deps.em(),
      `select t.id, t.flow_id, f.doc_id, t.version, t.node_id from flow_triggers t join flows f on f.id = t.flow_id
        where t.user_id = ? and t.kind = 'event' and t.event_type = ? and t.active and f.deleted_at is null order by t.created_at`,
      [ev.user_id, ev.type]);
    const started: { runId: string; flowId: string; docId: string; status: string }[] = [];
    const problems: string[] = [];
    for (const t of triggers) {
      try {
        const compiled = await compiledFor(t.flow_id, t.version);
        const { matched, errors } = matchTrigger(compiled, ev.type, ev.payload);
        problems.push(...errors.map((e) => `${t.node_id}: ${e.message}`));
        if (!matched.some((m) => m.nodeId === t.node_id)) continue;
        const { runId } = await startRun({
          userId: ev.user_id, flowId: t.flow_id, version: t.version, triggerNodeId: t.node_id,
          trigger: { type: ev.type, eventId: ev.id, payload: ev.payload }, runId: uuidFromName(`${ev.id}:${t.id}`),
        });
        started.push({ runId, flowId: t.flow_id, docId: t.doc_id, status: 'running' });
      } catch (e) {
        problems.push(`${t.node_id}: ${(e as Error).message}`);
        deps.log?.error({ err: e, eventId, triggerId: t.id }, 'event could not start a run');
      }
    }
    await sql(deps.em(), 'update inbox set processed_at = ?, error = ? where id = ?', [iso(), problems.length ? problems.join('; ') : null, eventId]);
    return started;
  }

  /**
   * Keeps this process's leases alive and adopts runs whose owner stopped heartbeating (a crashed
   * or partitioned process): failover without losing a step, the ledger keeping effects single.
   */
  let leaseTimer: NodeJS.Timeout | null = null;
  let commandTimer: NodeJS.Timeout | null = null;
  function startLeases() {
    const lease = deps.lease;
    if (!lease || leaseTimer) return;
    const tick = async () => {
      await store.heartbeat(lease, [...live.keys()]);
      const adopted = await store.claim(lease, { mine: false, skip: [...live.keys()] });
      for (const row of adopted) {
        if (stopping || live.has(row.id)) continue;
        try {
          launch(row, await compiledFor(row.flow_id, row.flow_version));
          deps.log?.info?.({ runId: row.id }, 'adopted a run whose owner stopped heartbeating');
        } catch (e) {
          deps.log?.error({ err: e, runId: row.id }, 'could not adopt run');
        }
      }
    };
    leaseTimer = setInterval(() => void tick().catch((e: unknown) => deps.log?.error({ err: e }, 'lease heartbeat failed')), Math.max(250, Math.floor(lease.leaseMs / 3)));
    commandTimer = setInterval(() => void applyCommands().catch((e: unknown) => deps.log?.error({ err: e }, 'applying forwarded commands failed')), deps.commandPollMs ?? 500);
  }

  /** Inbox rows stored before a crash but never processed. */
  async function drainInbox() {
    const rows = await sql<{ id: string }>(deps.em(), 'select id from inbox where processed_at is null order by received_at limit 1000');
    for (const r of rows) await processInbox(r.id);
    return rows.length;
  }

  return {
    store,
    updates,
    compiledFor,
    startRun,
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
    /** Waits until every queued write of a run (or all runs) reached the database. */
    async flush(runId?: string) {
      if (runId) await live.get(runId)?.queue;
      else await Promise.all([...live.values()].map((r) => r.queue));
    },
    startLeases,
    applyCommands,
    async stop() {
      stopping = true;
      if (leaseTimer) clearInterval(leaseTimer);
      if (commandTimer) clearInterval(commandTimer);
      leaseTimer = null;
      commandTimer = null;
      const runs = [...live.values()];
      await Promise.all(runs.map((r) => r.queue));
      for (const r of runs) r.actor.stop();
      live.clear();
    },
  };
}
export type Host = ReturnType<typeof createHost>;
