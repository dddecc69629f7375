import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Raw SQL through MikroORM's connection, so it joins the EntityManager's transaction and uses
 * its single pooled connection on PGlite. Placeholders are knex-style `?`; objects become jsonb.
 */
export async function sql<T = Record<string, unknown>>(em: EntityManager, query: string, params: unknown[] = []): Promise<T[]> {
  const values = params.map((p) => (p !== null && typeof p === 'object' && !(p instanceof Date) ? JSON.stringify(p) : p));
  return (await em.execute(query, values, 'all')) as T[];
}

export async function sqlOne<T = Record<string, unknown>>(em: EntityManager, query: string, params: unknown[] = []): Promise<T | null> {
  return (await sql<T>(em, query, params))[0] ?? null;
}
