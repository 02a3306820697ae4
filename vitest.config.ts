import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/src-main/**/*.test.ts',
      'test/src-shared/**/*.test.ts',
      'test/src-renderer/**/*.test.ts',
      'test/tools/**/*.test.ts',
    ],
    environment: 'node',
    testTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup-env.ts'],
  },
});
