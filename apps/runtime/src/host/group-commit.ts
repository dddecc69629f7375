/**
 * A group commit queue, as the run store does for steps (effects.ts and inbox.ts use it): an item
 * that finds the group's statements in flight waits and goes with every item queued meanwhile in
 * one statement (`many`); alone, it goes at once (`one`). Up to `lanes` statements are in flight.
 * A group holds at most `maxGroup` items and `maxChars` of their `size` (one item always goes), and
 * never two items with the same `key` (the second waits for the next group). When a group's
 * statement fails, each of its items is tried again on its own, so one bad item fails no other.
 */
export interface GroupCommitOptions<I, O> {
  lanes?: number;
  maxGroup?: number;
  maxChars?: number;
  size(item: I): number;
  /** Items with the same key never share a statement (null: no key). */
  key(item: I): string | null;
  /** One statement for the group: each item's outcome, in order (an item may fail alone). */
  many(items: I[]): Promise<PromiseSettledResult<O>[]>;
  /** One item on its own (a group of one, or each item of a failed group). */
  one(item: I): Promise<O>;
}

export function createGroupCommit<I, O>(opts: GroupCommitOptions<I, O>) {
  const maxGroup = opts.maxGroup ?? 200;
  const maxChars = opts.maxChars ?? 32 * 1024 * 1024;
  const lanes = Math.max(1, Math.floor(opts.lanes ?? 1));
  type Queued = { item: I; resolve: (o: O) => void; reject: (e: unknown) => void };
  let queue: Queued[] = [];
  let flushing = 0;

  const take = () => {
    const keys = new Set<string>();
    const group: Queued[] = [];
    const rest: Queued[] = [];
    let size = 0;
    for (const q of queue) {
      const key = opts.key(q.item);
      const length = opts.size(q.item);
      const full = group.length >= maxGroup || (group.length > 0 && size + length > maxChars);
      if (!full && !(key !== null && keys.has(key))) {
        group.push(q);
        size += length;
        if (key !== null) keys.add(key);
      } else rest.push(q);
    }
    queue = rest;
    return group;
  };

  const alone = (q: Queued) => opts.one(q.item).then(q.resolve, q.reject);

  async function flush() {
    flushing++;
    try {
      while (queue.length) {
        const group = take();
        if (group.length === 1) {
          await alone(group[0]!);
          continue;
        }
        let outcomes: PromiseSettledResult<O>[];
        try {
          outcomes = await opts.many(group.map((q) => q.item));
        } catch {
          await Promise.all(group.map(alone));
          continue;
        }
        group.forEach((q, i) => {
          const o = outcomes[i]!;
          if (o.status === 'fulfilled') q.resolve(o.value);
          else q.reject(o.reason);
        });
      }
    } finally {
      flushing--;
    }
  }

  return {
    /** Queues the item; resolves with its outcome once its statement committed. */
    add(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (flushing < lanes) void flush();
      });
    },
  };
}
