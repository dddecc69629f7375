#!/usr/bin/env node
// `npm run dev`: the runtime (restarted on change by tsx watch) and the Vite dev server with hot
// reload, which proxies /trpc and /health to the runtime. Ctrl+C stops both.
import { spawn } from 'node:child_process';

const children = [
  spawn('npx', ['tsx', 'watch', 'apps/runtime/src/index.ts'], { stdio: 'inherit', env: { ...process.env, PORT: process.env.PORT ?? '4310' } }),
  spawn('npm', ['run', 'dev', '-w', '@switchyard/editor'], { stdio: 'inherit' }),
];
const stop = () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM'));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
for (const c of children) c.on('exit', (code) => { stop(); process.exitCode ||= code ?? 0; });
