import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/**/*.test.ts', 'apps/**/*.test.ts', 'templates/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'e2e/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time: most tests wait on spawned runtimes and databases, not the CPU, and
    // vitest's default on a 2-core machine (one worker) ran the files one after another.
    maxWorkers: 2,
    globalSetup: ['apps/runtime/test/global-setup.ts'],
  },
});
