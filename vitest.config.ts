import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Real SQLite files, real ports and real child processes: forks isolate native modules best.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: two test files at a time keeps timing-sensitive tests honest.
    maxWorkers: 2,
  },
});
