import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Browser specs: each file starts its own runtime and Chromium, so files run one after another.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['e2e/**/*.spec.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
