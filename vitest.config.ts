import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Some tests spawn real processes (the server, the import CLI) that compile TypeScript on start.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
