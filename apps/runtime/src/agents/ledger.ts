import type { EntityManager } from '@mikro-orm/postgresql';
import type { EffectMeta } from '@switchyard/actors';
import { sql, sqlOne } from '../host/db';
import { idempotencyKey } from '../host/effects';

/**
 * The host's effect-ledger pattern (host/effects.ts `once`) for effects the agents add: the
 * effect and its ledger row commit together; a replay returns the first result.
 */
export async function onceEffect<T>(em: () => EntityManager, now: string, meta: EffectMeta, kind: string, write: (tx: EntityManager) => Promise<T>): Promise<T> {
  const key = idempotencyKey(meta);
  return em().transactional(async (tx) => {
    const claimed = await sql(tx,
      `insert into effects (idempotency_key, user_id, run_id, node_id, kind, result, created_at)
       values (?, ?, ?, ?, ?, null, ?) on conflict (idempotency_key) do nothing returning idempotency_key`,
      [key, meta.userId, meta.runId, meta.nodeId, kind, now]);
    if (claimed.length === 0) return (await sqlOne<{ result: T }>(tx, 'select result from effects where idempotency_key = ?', [key]))!.result;
    const value = await write(tx);
    await sql(tx, 'update effects set result = ? where idempotency_key = ?', [value ?? null, key]);
    return value;
  });
}
