import type { EntityManager } from '@mikro-orm/postgresql';
import type { AgentsPort, RunPorts } from '@switchyard/actors';
import { SwitchyardError } from '@switchyard/schema';
import { createClock, type RuntimeClock } from './clock';
import { createOfflineComposer } from './composer';
import { createEffects, type EffectDeps } from './effects';
import { createFlowService } from './flows.service';
import { createHost } from './host';
import { createRunListener } from './listener';
import { createMachineRegistry, type CompilerVariant } from './machines';
import type { Lease } from './run-store';
import { createTimerService } from './timers';
import { createScheduler } from '../scheduler/scheduler';

export interface HostServicesDeps {
  em: () => EntityManager;
  outbound: EffectDeps['outbound'];
  clock?: RuntimeClock;
  log?: { error(o: unknown, m?: string): void; info?(o: unknown, m?: string): void };
  crashAfter?: EffectDeps['crashAfter'];
  webhookBase?: () => string;
  timerPollMs?: number;
  /** The agents' mailboxes (apps/runtime/src/agents); without it `agent.runSkill` nodes fail. */
  agents?: AgentsPort;
  /** Run ownership across processes (see host.ts); `adoptAll` for the single-process embedded database. */
  lease?: Lease;
  adoptAll?: boolean;
  /** Milliseconds between the scheduler's memory sweeps; default one minute. */
  sweepMs?: number;
  /** PostgreSQL: publish stored transitions with NOTIFY and follow other processes' (live updates cross processes). */
  listenUrl?: string;
  /** Run writes in flight at once (see host.ts); PostgreSQL takes several, PGlite one. */
  writeLanes?: number;
  /** Test-only compiler variant (see machines.ts). */
  compilerVariant?: CompilerVariant;
  /** Test-only: SIGKILL right after a cron tick's claim-and-start committed, before its run starts here. */
  crashAfterClaim?: boolean;
  /** Test-only: SIGKILL right after a forwarded command reached its run, before the transition is stored. */
  crashAfterCommand?: boolean;
  /** Test-only: SIGKILL right after `events.emit` stored the n-th event that starts runs (its statement committed; nothing launched yet). */
  crashAfterInbox?: number;
  /** Check every journal delta against full copies of its states (host.ts `verifyDeltas`). */
  verifyDeltas?: boolean | 'throw';
  /** Milliseconds a run waiting only on timers/approvals stays in memory before it is parked; -1 or absent: never. */
  parkAfterMs?: number;
}

/** Everything that runs flows: clock, timers, effect ledger, host, flows, scheduler. */
export function createHostServices(deps: HostServicesDeps) {
  const clock = deps.clock ?? createClock();
  const timers = createTimerService({ em: deps.em, clock, ...(deps.timerPollMs ? { pollMs: deps.timerPollMs } : {}) });
  // Effects check the host's fence before they act; the host exists only below.
  const fence: NonNullable<EffectDeps['fence']> = {
    check: (em, runId) => host.fence.check(em, runId), claim: (runId) => host.fence.claim(runId), lost: (runId) => host.fence.lost(runId),
  };
  // Effects of concurrent runs share statements (group commit), as many in flight as the run store's lanes.
  const effects = createEffects({
    em: deps.em, clock, outbound: deps.outbound, fence, groupCommit: { lanes: deps.writeLanes ?? 1 }, ...(deps.crashAfter ? { crashAfter: deps.crashAfter } : {}),
  });
  const noAgents = async () => Promise.reject(new SwitchyardError('INTERNAL', 'Agents are not running in this runtime'));
  const agents: AgentsPort = deps.agents ?? { runSkill: noAgents, awaitApprovals: noAgents };
  const ports: RunPorts = { ...effects, timers: timers.port, clock, composer: createOfflineComposer(), agents };
  const machines = createMachineRegistry({ em: deps.em, ...(deps.compilerVariant ? { variant: deps.compilerVariant } : {}) });
  const host = createHost({
    em: deps.em, clock, ports, machines, notify: Boolean(deps.listenUrl), ...(deps.writeLanes ? { writeLanes: deps.writeLanes } : {}), ...(deps.log ? { log: deps.log } : {}),
    ...(deps.crashAfterCommand ? { crashAfterCommand: true } : {}),
    ...(deps.crashAfterInbox ? { crashAfterInbox: deps.crashAfterInbox } : {}),
    ...(deps.verifyDeltas !== undefined ? { verifyDeltas: deps.verifyDeltas } : {}),
    ...(deps.lease ? { lease: deps.lease } : {}), ...(deps.adoptAll ? { adoptAll: true } : {}),
    ...(deps.parkAfterMs !== undefined && deps.parkAfterMs >= 0
      ? { park: { afterMs: deps.parkAfterMs, pollMs: Math.min(250, Math.max(50, deps.timerPollMs ?? 250)), armed: (runId: string) => timers.armed(runId) } }
      : {}),
  });
  const listener = deps.listenUrl ? createRunListener(deps.listenUrl, (runId) => host.updates.emit('changed', runId), deps.log) : null;
  const flows = createFlowService({ em: deps.em, now: () => new Date(clock.now()).toISOString(), ...(deps.webhookBase ? { webhookBase: deps.webhookBase } : {}) });
  const scheduler = createScheduler({
    em: deps.em, host, clock, ...(deps.log ? { log: deps.log } : {}), ...(deps.sweepMs ? { sweepMs: deps.sweepMs } : {}),
    ...(deps.crashAfterClaim ? { crashAfterClaim: true } : {}),
  });
  return {
    clock, timers, host, flows, scheduler,
    async start() {
      await listener?.start();
      timers.start();
      await host.restoreAll();
      host.startLeases();
      host.startParking();
      await host.drainInbox();
      await scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      await host.stop();
      timers.stop();
      await listener?.stop();
    },
  };
}
export type HostServices = ReturnType<typeof createHostServices>;
