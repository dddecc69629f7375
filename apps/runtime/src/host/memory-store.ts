import type { RunStore, SnapshotWrite } from './run-store';

/**
 * A run store without a database: every write is taken, nothing is read back. Benchmarks measure
 * the host's own cost with it (bench: events through the host); unit tests see the writes the host
 * makes (`onWrite`).
 */
export function memoryRunStore(onWrite?: (w: SnapshotWrite) => void): RunStore {
  return {
    insert: async () => true,
    write: async (w: SnapshotWrite) => {
      onWrite?.(w);
      return 'stored' as const;
    },
    discard: () => undefined,
    // No statement to go with: effects are written on their own.
    ride: () => false,
    get: async () => null,
    resumable: async () => null,
    resumableMany: async () => [],
    active: async () => [],
    claim: async () => [],
    wakeable: async () => [],
    reset: () => undefined,
    heartbeat: async () => new Set<string>(),
    release: async () => undefined,
    expireInstances: async () => [],
    markEnded: async () => undefined,
  };
}
