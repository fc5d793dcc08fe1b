import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // Workers and child processes (worker_threads kernels, Node 22, Chromium, libp2p peers) need real
    // processes, not vitest's thread pool.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
