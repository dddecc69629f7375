import { mkdirSync, writeFileSync } from 'node:fs';
import { durableBenchmarks } from './durable';
import { editorBenchmarks } from './editor';
import { emitBenchmarks } from './emit';
import { memoryBenchmarks } from './memory';
import { monitorBenchmarks } from './monitor';
import { printTable, type Figure } from './harness';
import { parkedRssBenchmarks, rssBenchmarks } from './rss';
import { planBenchmarks } from './plans';
import { NO_CHROMIUM_MESSAGE, findChromium } from '../e2e/chromium.mjs';
import { ensureEditorBuilt } from '../e2e/editor-build.mjs';

const only = process.argv.slice(2);
const figures: Figure[] = [];
// The editor and monitor figures open the built editor in Chromium: without a browser they are
// skipped (and said so); a missing or stale editor build is made first, as `npm run e2e` does.
const wants = (name: string) => !only.length || only.includes(name);
let browser = wants('editor') || wants('monitor');
if (browser && !(await findChromium())) {
  console.warn(`bench: skipping the editor and monitor figures. ${NO_CHROMIUM_MESSAGE.replace(/^e2e: /, '')}`);
  browser = false;
}
if (browser && (await ensureEditorBuilt('bench')) !== 0) process.exit(1);
if (!only.length || only.includes('memory')) figures.push(...(await memoryBenchmarks()));
if (!only.length || only.includes('durable')) {
  figures.push(...(await durableBenchmarks('pglite')));
  if (process.env.DATABASE_URL) figures.push(...(await durableBenchmarks('postgres')));
}
if (!only.length || only.includes('emit')) {
  figures.push(...(await emitBenchmarks('pglite')));
  if (process.env.DATABASE_URL) figures.push(...(await emitBenchmarks('postgres')));
}
if (!only.length || only.includes('rss')) figures.push(...(await rssBenchmarks()), ...(await parkedRssBenchmarks()));
if (browser && wants('editor')) figures.push(...(await editorBenchmarks()));
if (!only.length || only.includes('plans')) figures.push(...(await planBenchmarks()));
if (browser && wants('monitor')) figures.push(...(await monitorBenchmarks()));
printTable(figures);
mkdirSync(new URL('.', import.meta.url), { recursive: true });
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ at: new Date().toISOString(), node: process.version, figures }, null, 2));
console.log('\nwrote bench/results.json');
