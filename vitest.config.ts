import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Real child processes, git and sockets: keep parallelism to the machine's two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
