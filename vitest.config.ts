import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build (the package has no "exports"), and
    // so do Apollo and graphql-tools; Vite would pick its .mjs build for our
    // own imports and end up with two graphql realms. Load the one Node loads.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // Some tests spawn real processes (the server, the import CLI) that compile TypeScript on start.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
