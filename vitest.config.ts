import { defineConfig, type TestProjectConfiguration } from 'vitest/config';

// The contract suite: every file that drives the real schema over a test store. It runs once on
// SQLite and, when TEST_DATABASE_URL names a PostgreSQL database, once more on PostgreSQL (each
// store in a fresh schema or database of its own, dropped afterwards; see tests/helpers.ts).
const CONTRACT = [
  'article',
  'articles',
  'caching',
  'concurrency',
  'conformance',
  'deadline',
  'editorial',
  'errors',
  'executor',
  'federation',
  'http',
  'identity',
  'importer',
  'instances',
  'limits',
  'lists',
  'operations',
  'production',
  'related',
  'safelist',
  'search',
  'section',
  'section-cache',
  'shared-purges',
  'transfer',
].map((name) => `tests/${name}.test.ts`);

const postgres = process.env.TEST_DATABASE_URL;
const POSTGRES_HALF: TestProjectConfiguration = {
  extends: true,
  test: { name: 'postgres', include: CONTRACT, env: { TEST_STORE: 'postgres' } },
};
// Vitest reads this file more than once; say it once.
if (!postgres && !process.env.NEWSGRAPH_SAID_SKIPPED) {
  process.env.NEWSGRAPH_SAID_SKIPPED = '1';
  console.warn(
    '\n  PostgreSQL half SKIPPED: set TEST_DATABASE_URL=postgres://USER@HOST:PORT/DATABASE to run the contract suite on PostgreSQL too.\n',
  );
}

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build (the package has no "exports"), and
    // so do Apollo and graphql-tools; Vite would pick its .mjs build for our
    // own imports and end up with two graphql realms. Load the one Node loads.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    // Some tests spawn real processes (the server, the import CLI) that compile TypeScript on start.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['tests/**/*.test.ts'], env: { TEST_STORE: 'sqlite' } } },
      ...(postgres ? [POSTGRES_HALF] : []),
    ],
  },
});
