import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers and worker pools; on a 2-core machine they run
    // one file at a time so they do not starve each other into timeouts.
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    globalSetup: ['test/helpers/globalSetup.ts'],
  },
});
