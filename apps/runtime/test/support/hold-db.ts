/**
 * Child process for the crash test: opens the PGlite dir given as argv[2], writes a user named
 * argv[3], prints READY and waits to be killed (the test SIGKILLs it while the db is open).
 */
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/db/database';

const [dir, name] = process.argv.slice(2);
const db = await openDatabase({ databaseUrl: undefined, dataDir: dir! });
await db.orm.em.fork().execute('insert into users (id, name, token_hash) values (?, ?, ?)', [randomUUID(), name!, randomUUID()]);
console.log('READY');
setInterval(() => undefined, 60_000);
