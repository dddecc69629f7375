#!/usr/bin/env node
// `npm run e2e`: checks for a browser, builds the editor when its sources changed, then runs the
// browser specs (vitest drives them, playwright-core drives Chromium).
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_CHROMIUM_MESSAGE, findChromium } from './chromium.mjs';
import { ensureEditorBuilt } from './editor-build.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function run(command, args, env = process.env) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: root, env, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (error) => {
      console.error(`e2e: could not run ${command}: ${error.message}`);
      resolvePromise(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolvePromise(code ?? (signal ? 1 : 0));
    });
  });
}

const chromium = await findChromium();
if (!chromium) {
  console.error(NO_CHROMIUM_MESSAGE);
  process.exit(1);
}
console.log(`e2e: using Chromium at ${chromium}`);

if (process.env.E2E_SKIP_BUILD !== '1') {
  const code = await ensureEditorBuilt('e2e');
  if (code !== 0) process.exit(code);
}

const code = await run('npx', ['vitest', 'run', '--config', 'e2e/vitest.config.ts', ...process.argv.slice(2)], {
  ...process.env,
  CHROMIUM_PATH: chromium,
});
process.exit(code);
