import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/database';

const MIGRATIONS = new URL('../src/migrations/', import.meta.url);

/**
 * Creating a PGlite data dir runs initdb (10-15 s); copying one takes milliseconds. Once per
 * migration set, this builds a migrated template that test databases and spawned runtimes copy.
 */
export default async function setup() {
  const hash = createHash('sha256');
  for (const f of readdirSync(MIGRATIONS).sort()) hash.update(f).update(readFileSync(new URL(f, MIGRATIONS)));
  const dir = join(tmpdir(), `switchyard-pglite-template-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const building = mkdtempSync(join(tmpdir(), 'switchyard-pglite-building-'));
    const db = await openDatabase({ databaseUrl: undefined, dataDir: building });
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(building, dir);
    } catch {
      cpSync(building, dir, { recursive: true });
      rmSync(building, { recursive: true, force: true });
    }
  }
  process.env.SWITCHYARD_PGLITE_TEMPLATE = dir;
}
