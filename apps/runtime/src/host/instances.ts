import { hostname } from 'node:os';

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
