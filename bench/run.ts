import { mkdirSync, writeFileSync } from 'node:fs';
import { durableBenchmarks } from './durable';
import { editorBenchmarks } from './editor';
import { emitBenchmarks } from './emit';
import { memoryBenchmarks } from './memory';
import { monitorBenchmarks } from './monitor';
import { printTable, type Figure } from './harness';
import { parkedRssBenchmarks, rssBenchmarks } from './rss';
import { planBenchmarks } from './plans';

const only = process.argv.slice(2);
const figures: Figure[] = [];
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
if (!only.length || only.includes('editor')) figures.push(...(await editorBenchmarks()));
if (!only.length || only.includes('plans')) figures.push(...(await planBenchmarks()));
if (!only.length || only.includes('monitor')) figures.push(...(await monitorBenchmarks()));
printTable(figures);
mkdirSync(new URL('.', import.meta.url), { recursive: true });
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ at: new Date().toISOString(), node: process.version, figures }, null, 2));
console.log('\nwrote bench/results.json');
