import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isDeadLocalInstance } from './instances';

describe('isDeadLocalInstance', () => {
  it('is true only for a default id of this host whose process is gone', () => {
    const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(exited.stdout.toString());
    expect(isDeadLocalInstance(`${hostname()}:${deadPid}:0a1b2c3d`)).toBe(true);
    // Alive: this very process, and its parent.
    expect(isDeadLocalInstance(`${hostname()}:${process.pid}:0a1b2c3d`)).toBe(false);
    expect(isDeadLocalInstance(`${hostname()}:${process.ppid}:0a1b2c3d`)).toBe(false);
    // Another host, or an explicit id: never judged from here.
    expect(isDeadLocalInstance(`not-${hostname()}:${deadPid}:0a1b2c3d`)).toBe(false);
    expect(isDeadLocalInstance('node-a')).toBe(false);
    expect(isDeadLocalInstance(`${hostname()}:${deadPid}`)).toBe(false);
  });
});
