import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from '../host/db';

let hasValueColumn: Promise<boolean> | null = null;

/**
 * The SQL for a journal row's state value. Journals that store deltas keep the value in its own
 * column on every step (the snapshot only on checkpoints); older journals only in the snapshot.
 * Whether the column exists is asked once per process (migrations run before the first request).
 */
export async function journalValue(em: EntityManager, alias: string): Promise<string> {
  hasValueColumn ??= sql<{ x: number }>(em,
    `select 1 as x from information_schema.columns where table_schema = current_schema() and table_name = 'run_journal' and column_name = 'value'`)
    .then((rows) => rows.length > 0)
    .catch(() => {
      hasValueColumn = null;
      return false;
    });
  return (await hasValueColumn) ? `coalesce(${alias}.value, ${alias}.snapshot->'value')` : `${alias}.snapshot->'value'`;
}
