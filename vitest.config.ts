import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers and worker pools; on a 2-core machine they run
    // one file at a time so they do not starve each other into timeouts.
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // expect.poll waits 1 s by default; what the browser tests poll for (a WebSocket round trip
    // and a Chromium render) can take longer than that on a busy 2-core machine.
    expect: { poll: { timeout: 15_000 } },
    globalSetup: ['test/helpers/globalSetup.ts'],
  },
});
