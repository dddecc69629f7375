import { assign, createActor, fromPromise, setup, type ActorRefFrom } from 'xstate';
import type { AgentState } from '@switchyard/schema';

interface AgentContext {
  agentId: string;
  /** Request ids waiting in the mailbox, oldest first. */
  queue: string[];
  pendingApprovals: number;
  lastError: string | null;
  processed: number;
}

type AgentEvent = { type: 'enqueue'; requestId: string } | { type: 'approvals'; count: number };

/**
 * One agent as an XState actor: a mailbox processed one request at a time. States are what the
 * API shows: idle, working, waiting_approval (effects it proposed wait for a person) and error
 * (the last request failed; the next request clears it).
 */
export const agentMachine = setup({
  types: {
    context: {} as AgentContext,
    events: {} as AgentEvent,
    input: {} as { agentId: string; pendingApprovals: number; lastError: string | null },
  },
  actors: {
    // Provided per agent by the service: runs the request with this id, resolves with the
    // number of approvals still pending afterwards.
    process: fromPromise<{ pendingApprovals: number }, { requestId: string }>(async () => ({ pendingApprovals: 0 })),
  },
  guards: {
    hasWork: ({ context }) => context.queue.length > 0,
    hasApprovals: ({ context }) => context.pendingApprovals > 0,
    hadError: ({ context }) => context.lastError !== null,
  },
}).createMachine({
  id: 'agent',
  initial: 'restoring',
  context: ({ input }) => ({ agentId: input.agentId, queue: [], pendingApprovals: input.pendingApprovals, lastError: input.lastError, processed: 0 }),
  on: {
    enqueue: { actions: assign({ queue: ({ context, event }) => [...context.queue, event.requestId] }) },
    approvals: { actions: assign({ pendingApprovals: ({ event }) => event.count }) },
  },
  states: {
    restoring: { always: [{ guard: 'hadError', target: 'error' }, { target: 'idle' }] },
    idle: { always: [{ guard: 'hasWork', target: 'working' }, { guard: 'hasApprovals', target: 'waiting_approval' }] },
    waiting_approval: { always: [{ guard: 'hasWork', target: 'working' }, { guard: ({ context }) => context.pendingApprovals === 0, target: 'idle' }] },
    error: { always: { guard: 'hasWork', target: 'working' } },
    working: {
      invoke: {
        src: 'process',
        input: ({ context }) => ({ requestId: context.queue[0]! }),
        onDone: {
          target: 'idle',
          actions: assign(({ context, event }) => ({
            queue: context.queue.slice(1), pendingApprovals: event.output.pendingApprovals, lastError: null, processed: context.processed + 1,
          })),
        },
        onError: {
          target: 'error',
          actions: assign(({ context, event }) => ({
            queue: context.queue.slice(1), lastError: event.error instanceof Error ? event.error.message : String(event.error), processed: context.processed + 1,
          })),
        },
      },
    },
  },
});

export type AgentActor = ActorRefFrom<typeof agentMachine>;

export const stateOf = (actor: AgentActor): AgentState => {
  const v = actor.getSnapshot().value;
  return v === 'restoring' ? 'idle' : (v as AgentState);
};

/** A started agent actor whose `process` runs `work(requestId)`. */
export function startAgentActor(input: { agentId: string; pendingApprovals: number; lastError: string | null }, work: (requestId: string) => Promise<{ pendingApprovals: number }>) {
  const machine = agentMachine.provide({ actors: { process: fromPromise(({ input: i }: { input: { requestId: string } }) => work(i.requestId)) } });
  const actor = createActor(machine, { input });
  actor.start();
  return actor;
}
