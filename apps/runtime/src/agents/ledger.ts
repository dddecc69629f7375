import type { EntityManager } from '@mikro-orm/postgresql';
import type { EffectMeta } from '@switchyard/actors';
import { onceInLedger } from '../host/effects';

/**
 * Effects the agents add (approvals, calendar events) go through the host's one effect ledger
 * (host/effects.ts `onceInLedger`): the effect and its ledger row commit together; a replay returns
 * the first result.
 */
export const onceEffect = <T>(em: () => EntityManager, now: string, meta: EffectMeta, kind: string, write: (tx: EntityManager) => Promise<T>): Promise<T> =>
  onceInLedger(em(), now, meta, kind, write);
