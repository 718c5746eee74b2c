import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'services/*/src/**/*.test.ts', 'services/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'lib/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Service suites share one Postgres and one Redis; each uses its own database and key prefix.
    pool: 'forks',
  },
});
