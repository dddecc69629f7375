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
 * One row of an entity as the parts of an `insert` whose values come from a `select` (so a CTE
 * can make it conditional: `insert into <table> (<columns>) select <values> from <gate>`): the
 * column names and one cast placeholder per value, from the entity's metadata, so the row is the
 * same object the ORM would store.
 */
export function rowInsert(em: EntityManager, entityName: string, row: object): { table: string; columns: string; values: string; params: unknown[] } {
  const meta = em.getMetadata().get(entityName);
  const columns: string[] = [];
  const values: string[] = [];
  const params: unknown[] = [];
  for (const [prop, value] of Object.entries(row)) {
    if (value === undefined) continue;
    const p = meta.properties[prop as never] as { fieldNames?: string[]; columnTypes?: string[] } | undefined;
    if (!p?.fieldNames?.[0] || !p.columnTypes?.[0]) throw new Error(`rowInsert: ${entityName} has no column for "${prop}"`);
    columns.push(`"${p.fieldNames[0]}"`);
    values.push(`?::${p.columnTypes[0]}`);
    params.push(value instanceof Date ? value.toISOString() : value);
  }
  return { table: `"${meta.tableName}"`, columns: columns.join(', '), values: values.join(', '), params };
}
