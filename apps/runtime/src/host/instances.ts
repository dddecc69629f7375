import { hostname } from 'node:os';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './db';

/**
 * Default instance ids are `host:pid:random` (config.ts). A row of this host whose process is no
 * longer alive belongs to a crashed predecessor: its lease is void at once, so a restarted process
 * resumes those runs without waiting for the lease to run out. Explicit SWITCHYARD_INSTANCE_IDs are
 * never judged this way. A pid reused by an unrelated live process only means waiting for the lease.
 */
export function isDeadLocalInstance(id: string, self = process.pid): boolean {
  const m = /^(.+):(\d+):[0-9a-f]{8}$/.exec(id);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  if (pid === self) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Voids the leases of live-looking `runtime_instances` rows whose process is gone (`dead`, by
 * default this host's crashed predecessors): their runs and agents can be claimed at once. The
 * host does it before restoring runs, the agents before adopting agents (they start first).
 */
export async function voidDeadLeases(em: EntityManager, dead: (id: string) => boolean = isDeadLocalInstance): Promise<string[]> {
  const rows = await sql<{ id: string }>(em, 'select id from runtime_instances where lease_until >= now()');
  const gone = rows.map((r) => r.id).filter(dead);
  if (gone.length) await sql(em, `update runtime_instances set lease_until = now() - interval '1 second' where id = any(?::text[])`, [`{${gone.map((g) => `"${g}"`).join(',')}}`]);
  return gone;
}
