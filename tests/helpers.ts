import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApolloServer } from '@apollo/server';
import { type DocumentNode, type FormattedExecutionResult, print } from 'graphql';
import pg from 'pg';
import type { Mutation, Query } from '../src/__generated__/resolvers-types.js';
import { createApollo } from '../src/apollo.js';
import { TokenStore, type Viewer } from '../src/auth/tokens.js';
import { type DatabaseConfig, type Executor, type Limits, loadConfig } from '../src/config.js';
import { type Context, createContext } from '../src/context.js';
import { openStore } from '../src/data/open-store.js';
import type { ContentStore, QueryEvent } from '../src/data/store.js';
import { seedIfEmpty } from '../src/ingest/import-pages.js';
import { parsePage } from '../src/ingest/parse-page.js';
import type { Metrics } from '../src/metrics.js';
import { buildServer, type Server } from '../src/server.js';
import { onPath, startRedis } from '../src/tools/faults/infra.js';

export const SEED_DIR = new URL('../data/pages/', import.meta.url).pathname;
export const SEED_FILE = join(SEED_DIR, '000_7c4c67a24975574d.txt');

export interface TestStore {
  store: ContentStore;
  dir: string;
  /** Every statement the store has run, in order; tests clear it to count one operation's statements. */
  queries: QueryEvent[];
  /** How another process opens the same store (`openStore(location, { searchPath })`). */
  location: { database: DatabaseConfig; searchPath?: string };
  close(): Promise<void>;
}

/**
 * The store the tests run on: SQLite, or PostgreSQL when the suite runs as
 * its PostgreSQL half (`TEST_STORE=postgres`, with `TEST_DATABASE_URL`).
 */
export const TEST_STORE = process.env.TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/**
 * A real store, migrated, and seeded unless `seed: false`: SQLite in a fresh
 * temporary folder, or a fresh schema of its own in the PostgreSQL test
 * database, dropped again on close. `dir` is a temporary folder either way.
 */
export async function createTestStore({
  seed = true,
  onQuery,
}: {
  seed?: boolean;
  onQuery?: (event: QueryEvent) => void;
} = {}): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-test-'));
  const queries: QueryEvent[] = [];
  const record = (e: QueryEvent) => {
    queries.push(e);
    onQuery?.(e);
  };
  let dropSchema = async () => {};
  let location: TestStore['location'];
  if (TEST_STORE === 'postgres') {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) throw new Error('TEST_STORE=postgres needs TEST_DATABASE_URL (postgres://USER@HOST:PORT/DATABASE)');
    const schema = `newsgraph_test_${randomUUID().replaceAll('-', '')}`;
    await withPostgres(url, (client) => client.query(`CREATE SCHEMA ${schema}`));
    dropSchema = async () => void (await withPostgres(url, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`)));
    location = { database: { kind: 'postgres', url, poolSize: 4, statementTimeoutMs: 30_000, lockTimeoutMs: 30_000 }, searchPath: schema };
  } else {
    location = { database: { kind: 'sqlite', path: join(dir, 'newsgraph.db') } };
  }
  const store = openStore(location.database, { onQuery: record, searchPath: location.searchPath });
  await store.migrate();
  if (seed) await seedIfEmpty(store, SEED_DIR);
  return {
    store,
    dir,
    queries,
    location,
    close: async () => {
      // A test may have closed the store already, on purpose; the schema and folder go regardless.
      try {
        await store.close();
      } finally {
        await dropSchema();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A DATABASE_URL for a fresh, empty store that processes of their own open (the server, the
 * CLIs): a SQLite file in a new temporary folder, or on the PostgreSQL half a new database on
 * the test server. `drop` removes it, ending any connection still open to it.
 */
export async function createFreshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (TEST_STORE === 'postgres') {
    const base = process.env.TEST_DATABASE_URL;
    if (!base) throw new Error('TEST_STORE=postgres needs TEST_DATABASE_URL (postgres://USER@HOST:PORT/DATABASE)');
    const name = `newsgraph_test_${randomUUID().replaceAll('-', '')}`;
    await withPostgres(base, (client) => client.query(`CREATE DATABASE ${name}`));
    const url = new URL(base);
    url.pathname = `/${name}`;
    return {
      url: url.href,
      drop: async () => void (await withPostgres(base, (client) => client.query(`DROP DATABASE ${name} WITH (FORCE)`))),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-db-'));
  return { url: `sqlite:${join(dir, 'newsgraph.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function withPostgres<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * `data` as a test reads it when it names no type of its own: the schema's types as codegen writes
 * them, every field present and not null (a test that reads a field asserts it is there; one that
 * selects a field under an alias names its type), and a DateTime as the string on the wire
 * (codegen's resolver-side `Date | number` is the one scalar a `Date` fits).
 */
export type Answer<T> = Date extends T
  ? string
  : T extends readonly (infer Item)[]
    ? Answer<Item>[]
    : T extends object
      ? { [K in keyof T]-?: Answer<NonNullable<T[K]>> }
      : T;

/** `data` of any operation on the schema, as a test reads it: see `Answer`. */
export type SchemaAnswer = Answer<Query & Mutation>;

export interface TestServer extends TestStore {
  apollo: ApolloServer<Context>;
  /** Runs an operation on the real schema and returns the whole result; `viewer` plays an editor token's holder. */
  execute(query: string | DocumentNode, variables?: Record<string, unknown>, viewer?: Viewer | null): Promise<FormattedExecutionResult>;
  /** Runs an operation and returns `data`, failing with the query and the whole body when there are errors. */
  expectData<T = SchemaAnswer>(query: string | DocumentNode, variables?: Record<string, unknown>, viewer?: Viewer | null): Promise<T>;
  /** Runs an operation that must fail and returns its errors. */
  expectErrors(
    query: string | DocumentNode,
    variables?: Record<string, unknown>,
    viewer?: Viewer | null,
  ): Promise<NonNullable<FormattedExecutionResult['errors']>>;
}

export async function createTestServer(
  options: { seed?: boolean; executor?: Executor; federation?: boolean; limits?: Limits } = {},
): Promise<TestServer> {
  const testStore = await createTestStore(options);
  const apollo = createApollo({ production: false, executor: options.executor, federation: options.federation, limits: options.limits });
  const execute = async (query: string | DocumentNode, variables?: Record<string, unknown>, viewer: Viewer | null = null) => {
    const response = await apollo.executeOperation(
      { query: typeof query === 'string' ? query : print(query), variables },
      { contextValue: createContext(testStore.store, viewer) },
    );
    assert(response.body.kind === 'single');
    return response.body.singleResult;
  };
  const describeFailure = (query: string | DocumentNode, body: unknown) =>
    `${typeof query === 'string' ? query : print(query)}\n→ ${JSON.stringify(body, null, 2)}`;
  async function expectData<T>(query: string | DocumentNode, variables?: Record<string, unknown>, viewer?: Viewer | null): Promise<T> {
    const result = await execute(query, variables, viewer);
    if (result.errors !== undefined || result.data == null) {
      throw new Error(`expected no errors:\n${describeFailure(query, result)}`);
    }
    return result.data as T;
  }
  return {
    ...testStore,
    apollo,
    execute,
    expectData,
    async expectErrors(query, variables, viewer) {
      const result = await execute(query, variables, viewer);
      if (!result.errors?.length) throw new Error(`expected errors:\n${describeFailure(query, result)}`);
      return result.errors;
    },
    close: async () => {
      await apollo.stop();
      await testStore.close();
    },
  };
}

export interface PageSpec {
  title: string;
  /** Beijing wall-clock time, `YYYY-MM-DD hh:mm:ss`. */
  time: string;
  sections?: string[];
  source?: string;
  paragraphs?: string[];
  credits?: string;
  tags?: string[];
  hot?: string[];
}

/** A page in the scraped page-text format, for tests that need more articles than the seed. */
export function pageText(spec: PageSpec): string {
  const lines = [
    [...(spec.sections ?? ['首页', '原创']), '正文'].join(' > '),
    '',
    spec.title,
    '',
    `来源:${spec.source ?? '测试网'} ${spec.time}`,
    '',
    ...(spec.paragraphs ?? [`${spec.title}的正文。`]).flatMap((p) => [p, '']),
  ];
  if (spec.credits) lines.push(spec.credits, '');
  lines.push(`标签:${(spec.tags ?? []).join(' ')}`, '');
  if (spec.hot) lines.push('热点', '', ...spec.hot.flatMap((t) => [t, '', '详细>>', '']));
  return lines.join('\n');
}

/** Saves a page through the importer's write path. */
export async function addPage(store: ContentStore, spec: PageSpec) {
  return store.savePage(parsePage(pageText(spec), `test:${spec.title}`));
}

/** `2023-05-01 08:00:00` plus `minutes`, as the page format writes it. */
export function beijingTime(minutes: number, base = Date.parse('2023-05-01T08:00:00+08:00')): string {
  return new Date(base + minutes * 60_000 + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

export const EDITOR: Viewer = { name: 'desk-editor', role: 'EDITOR' };
export const ADMIN: Viewer = { name: 'desk-admin', role: 'ADMIN' };

export interface HttpTestServer extends TestStore {
  server: Server;
  /** `http://127.0.0.1:PORT` */
  base: string;
  /** The GraphQL endpoint. */
  url: string;
}

/**
 * The real Fastify server over a fresh test store (seeded), listening on a
 * free loopback port. `env` is read as configuration, as the process reads
 * its environment. Closing it closes the server, then the store.
 */
export async function startHttpServer({
  env = {},
  tokens = TokenStore.empty(),
  metrics,
  logStream,
  onQuery,
  serve = (store) => store,
}: {
  env?: Record<string, string>;
  tokens?: Pick<TokenStore, 'verify'>;
  metrics?: Metrics;
  logStream?: NodeJS.WritableStream;
  onQuery?: (event: QueryEvent) => void;
  /** What the server is given instead of the test store itself (a wrapper that slows it down, say). */
  serve?: (store: ContentStore) => ContentStore;
} = {}): Promise<HttpTestServer> {
  const t = await createTestStore({ onQuery });
  // Tests send many bad requests on purpose; the refusal limit has its own tests and is off otherwise.
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: `sqlite:${t.dir}/unused.db`, MAX_REFUSALS_PER_MINUTE: '0', ...env });
  const server = await buildServer({ config, store: serve(t.store), tokens, metrics, logStream });
  const base = await server.http.listen({ host: '127.0.0.1', port: 0 });
  return {
    ...t,
    server,
    base,
    url: `${base}/graphql`,
    close: async () => {
      await server.http.close();
      // A test may have closed the store on purpose to see the server fail.
      await t.close().catch(() => {});
    },
  };
}

export interface MainProcess {
  child: ChildProcessWithoutNullStreams;
  /** `http://127.0.0.1:PORT` */
  address: string;
  /** Everything it has written to standard output so far. */
  output(): string;
  /** Resolves with its exit code. */
  exited: Promise<number | null>;
}

/** The process entry `src/main.ts` (what `npm start` runs, compiled), on a free loopback port, resolved once it listens. */
export async function startMainProcess(
  env: Record<string, string>,
  { args = ['--import', 'tsx', 'src/main.ts'], cwd }: { args?: string[]; cwd?: string } = {},
): Promise<MainProcess> {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  return { child, address, output: () => output, exited };
}

/**
 * Redis for the tests that need one: `TEST_REDIS_URL` when set (CI sets it),
 * else a private `redis-server` on a free port when one is installed, else
 * none, and those tests say they were skipped. Tests work under key prefixes
 * of their own and delete their keys, so a shared Redis is safe.
 */
export const TEST_REDIS = process.env.TEST_REDIS_URL ? 'given' : onPath('redis-server') ? 'private' : null;

if (TEST_REDIS === null && !process.env.NEWSGRAPH_SAID_REDIS_SKIPPED) {
  process.env.NEWSGRAPH_SAID_REDIS_SKIPPED = '1';
  console.warn('\n  Redis tests SKIPPED: set TEST_REDIS_URL=redis://HOST:PORT, or install redis-server, to run them.\n');
}

/** Connects the tests to Redis (see TEST_REDIS); `stop` ends a private server. */
export async function useTestRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const given = process.env.TEST_REDIS_URL;
  if (given) return { url: given, stop: async () => {} };
  const server = await startRedis();
  return { url: server.url, stop: () => server.stop() };
}
