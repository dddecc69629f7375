#!/usr/bin/env node
// `npm run e2e`: checks for a browser, builds the editor when its sources changed, then runs the
// browser specs (vitest drives them, playwright-core drives Chromium).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_CHROMIUM_MESSAGE, findChromium } from './chromium.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const editor = join(root, 'apps/editor');

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

/** Newest modification time under the given paths (files or directories), skipping node_modules. */
function newestMtime(paths) {
  let newest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      const children = readdirSync(path).filter((name) => name !== 'node_modules' && name !== 'dist');
      newest = Math.max(newest, newestMtime(children.map((name) => join(path, name))));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  }
  return newest;
}

function editorBuildIsStale() {
  const built = join(editor, 'dist/index.html');
  if (!existsSync(built)) return true;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(editor, p));
  // The editor also bundles code from the schema and actors packages, and the templates.
  sources.push(join(root, 'packages/schema/src'), join(root, 'packages/actors/src'), join(root, 'templates'));
  return newestMtime(sources) > statSync(built).mtimeMs;
}

const chromium = await findChromium();
if (!chromium) {
  console.error(NO_CHROMIUM_MESSAGE);
  process.exit(1);
}
console.log(`e2e: using Chromium at ${chromium}`);

if (process.env.E2E_SKIP_BUILD !== '1' && editorBuildIsStale()) {
  console.log('e2e: building the editor (npm run build -w @switchyard/editor)');
  const code = await run('npm', ['run', 'build', '-w', '@switchyard/editor']);
  if (code !== 0) {
    console.error('e2e: the editor build failed; see the output above.');
    process.exit(code);
  }
}

const code = await run('npx', ['vitest', 'run', '--config', 'e2e/vitest.config.ts', ...process.argv.slice(2)], {
  ...process.env,
  CHROMIUM_PATH: chromium,
});
process.exit(code);
