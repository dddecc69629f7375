import { parseDuration } from '@switchyard/schema';
import { pass, timerKeyOf, type EventImplementation, type InvokeImplementation } from "./types";

export const delay: InvokeImplementation<'flow.delay'> = {
  kind: 'invoke',
  async run({ params, runId, nodeId, signal, activation }, { timers }) {
    const ms = parseDuration(params.duration) ?? 0;
    await timers.sleep({ runId, key: timerKeyOf(nodeId, activation) }, ms, signal);
    return pass({ waitedMs: ms });
  },
};

/** Approval waits for an event, not an invoked actor; the compiler gives it its own states. */
export const approval: EventImplementation = { kind: "event" };

/** Waiting for an event is a state that an `event.deliver` command ends, like an approval. */
export const waitForEvent: EventImplementation = { kind: 'event' };
