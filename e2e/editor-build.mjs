// The editor's production build, rebuilt when its sources changed: what the e2e specs and the
// browser benchmarks open (the runtime serves apps/editor/dist).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const editor = join(root, 'apps/editor');

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

export function editorBuildIsStale() {
  const built = join(editor, 'dist/index.html');
  if (!existsSync(built)) return true;
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(editor, p));
  // The editor also bundles code from the schema and actors packages, and the templates.
  sources.push(join(root, 'packages/schema/src'), join(root, 'packages/actors/src'), join(root, 'templates'));
  return newestMtime(sources) > statSync(built).mtimeMs;
}

/**
 * Builds the editor when its build is missing or older than its sources.
 * @param {string} who the prefix of the lines printed (e2e, bench)
 * @returns {Promise<number>} 0, or the build's exit code
 */
export function ensureEditorBuilt(who) {
  if (!editorBuildIsStale()) return Promise.resolve(0);
  console.log(`${who}: building the editor (npm run build -w @switchyard/editor)`);
  return new Promise((done) => {
    const child = spawn('npm', ['run', 'build', '-w', '@switchyard/editor'], { cwd: root, stdio: 'inherit' });
    child.on('error', (error) => {
      console.error(`${who}: could not run npm: ${error.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => {
      if (code !== 0) console.error(`${who}: the editor build failed; see the output above.`);
      done(code ?? (signal ? 1 : 0));
    });
  });
}
