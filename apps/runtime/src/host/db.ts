import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Raw SQL through MikroORM's connection, so it joins the EntityManager's transaction and uses
 * its single pooled connection on PGlite. Placeholders are knex-style `?`; objects become jsonb.
 *
 * Values are sent as bind parameters (the driver's `$1, $2…`), not inlined: `em.execute` would
 * format every value into the SQL text client-side, which for snapshot-sized JSON costs more CPU
 * than the database write itself (bench: durable group).
 */
export async function sql<T = Record<string, unknown>>(em: EntityManager, query: string, params: unknown[] = []): Promise<T[]> {
  const values = params.map((p) => (p !== null && typeof p === 'object' && !(p instanceof Date) ? JSON.stringify(p) : p));
  const raw = em.getConnection().getKnex().raw(query, values as never[]);
  const tx = em.getContext(false).getTransactionContext();
  if (tx) raw.transacting(tx);
  const res = (await raw) as { rows: T[] };
  return res.rows;
}

export async function sqlOne<T = Record<string, unknown>>(em: EntityManager, query: string, params: unknown[] = []): Promise<T | null> {
  return (await sql<T>(em, query, params))[0] ?? null;
}

/**
 * One row of an entity as a JSON record keyed by column name (dates as ISO strings), with its
 * table and columns: `jsonb_populate_record(null::<table>, …)` reads it back as the table's row
 * type, so many rows can be inserted from one jsonb parameter.
 */
export function rowRecord(em: EntityManager, entityName: string, row: object): { table: string; columns: string[]; record: Record<string, unknown> } {
  const meta = em.getMetadata().get(entityName);
  const columns: string[] = [];
  const record: Record<string, unknown> = {};
  for (const [prop, value] of Object.entries(row)) {
    if (value === undefined) continue;
    const field = (meta.properties[prop as never] as { fieldNames?: string[] } | undefined)?.fieldNames?.[0];
    if (!field) throw new Error(`rowRecord: ${entityName} has no column for "${prop}"`);
    columns.push(field);
    record[field] = value instanceof Date ? value.toISOString() : value;
  }
  return { table: meta.tableName, columns, record };
}
