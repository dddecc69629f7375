import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from './config';
import { MEMORY_DATA_DIR } from './db/database';
import { agentsOverrides, mergeOverrides } from './agents/wiring';
import { hostOverrides } from './host/wiring';
import { monitorOverrides } from './monitor/wiring';
import { plansOverrides } from './plans/wiring';
import { templatesOverrides } from './templates/wiring';
import { createServer } from './server';

/** Starts the runtime: `npm start -w @switchyard/runtime` (or `tsx src/index.ts`). */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  if (!config.databaseUrl && config.dataDir !== MEMORY_DATA_DIR && !existsSync(join(resolve(config.dataDir), 'PG_VERSION'))) {
    console.log(`Creating the embedded database in ${config.dataDir} (first start only; takes a few seconds)`);
  }
  // Agents first: their actors are up before the host restores runs that may call them.
  const server = await createServer(config, mergeOverrides(agentsOverrides(config), hostOverrides(config), plansOverrides(config), templatesOverrides(), monitorOverrides(config)));

  // Handlers before the URL is printed: a SIGTERM sent the moment the runtime announces itself
  // must still stop it gracefully (without a listener the signal kills the process outright).
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info(`${signal}: stopping`);
    // A stuck shutdown must not keep the process alive forever.
    setTimeout(() => process.exit(1), 15_000).unref();
    server.stop().then(() => process.exit(0), (e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Last line of defence: every promise in the host handles its own failure (tests check it), but
  // a rejection that slipped through is reported, never a reason to take every run down with it.
  process.on('unhandledRejection', (reason) => server.app.log.error({ err: reason }, 'unhandled rejection (reported, not fatal)'));

  const url = await server.start();
  // Jupyter-style login: the link carries the token once; the editor moves it into a header.
  console.log(`Switchyard is running: ${url}/?token=${encodeURIComponent(config.token)}`);
  if (server.services.db.kind === 'pglite') console.log(`Embedded database in ${config.dataDir} (set DATABASE_URL to use PostgreSQL)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
