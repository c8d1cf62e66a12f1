import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  /** `poolSize` connections at most; each statement is stopped after `statementTimeoutMs`. */
  | {
      kind: 'postgres';
      url: string;
      poolSize: number;
      statementTimeoutMs: number;
      /** How long a statement waits for a lock another session holds before it gives up (the store is busy). */
      lockTimeoutMs: number;
    };

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  database: DatabaseConfig;
  /** Folder of page-text files loaded into an empty store on start; null disables seeding. */
  seedPath: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The share (0 to 1) of ordinary GraphQL requests that get a log line; errors and slow requests always do. */
  logRequests: number;
  /** A request slower than this (ms) is logged at warn, whatever `logRequests` says. */
  logSlowMs: number;
  /** JSON file of editor tokens (salted hashes), written by `npm run token`. */
  tokensFile: string;
  limits: Limits;
  /** Whether clients may introspect the schema (off in production unless asked for). */
  introspection: boolean;
  /** Whether GET /graphql in a browser shows Apollo Sandbox (off in production unless asked for). */
  landingPage: boolean;
  /** How long a stopping server waits for requests in flight before it gives up on them. */
  shutdownTimeoutMs: number;
  /** How long one request may run before it fails and stops reaching the store. */
  requestTimeoutMs: number;
  /** A persisted query manifest: when set, only its operations run. */
  safelist: string | null;
  /** Which engine executes operations. */
  executor: Executor;
  /** Whether to serve as an Apollo Federation 2 subgraph (`_service`, `_entities`). */
  federation: boolean;
  /** Public cache lifetimes and the in-memory caches' sizes (see README, "Caching"). */
  cache: CacheConfig;
  /** Redis for the APQ store and the response cache, shared by every instance; null keeps both in memory. */
  redis: { url: string; prefix: string; timeoutMs: number } | null;
  /** Which proxies' X-Forwarded-For to believe when telling clients apart (Fastify's trustProxy). */
  trustProxy: boolean | number | string[];
  /**
   * Which web pages' origins may read /graphql's answers in a browser (CORS, src/cors.ts): `*` for any, or
   * exact origins and patterns (`https://*.portal.example`, `http://localhost:*`); an empty list for none.
   */
  corsOrigins: '*' | string[];
}

export type Executor = 'jit' | 'graphql-js';
const EXECUTORS = ['jit', 'graphql-js'] as const;

export interface CacheConfig {
  /** max-age of public answers about articles and sections, in seconds. */
  articleSeconds: number;
  /** max-age of public lists, searches and related items, in seconds (at most articleSeconds). */
  listSeconds: number;
  /** The response cache's size in bytes; 0 turns it off. */
  responseBytes: number;
  /** How long the response cache keeps an answer nothing has purged, in seconds (the section cache too). */
  responseSeconds: number;
  /** How many records (sections, teasers, article summaries) the section cache holds; 0 turns it off. */
  sectionRecords: number;
  /** The automatic persisted query store's size in bytes. */
  persistedQueryBytes: number;
  /** How long past its TTL a stored answer may still be served while the store cannot answer, in seconds; 0 never. */
  staleIfErrorSeconds: number;
}

/** What one request may ask for (see README, "Limits"). */
export interface Limits {
  depth: number;
  aliases: number;
  directives: number;
  tokens: number;
  cost: number;
  bodyBytes: number;
  urlBytes: number;
  /** Refused requests (400, 401, 413, …) one client may cause per minute before it gets 429; 0 turns the limit off. */
  refusalsPerMinute: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Every variable newsgraph reads, with its default; the README lists the same. */
export const CONFIG_VARIABLES = {
  NODE_ENV: 'development',
  HOST: 'localhost',
  PORT: '4000',
  PG_POOL_SIZE: '10',
  DATABASE_URL: 'sqlite:var/newsgraph.db',
  SEED_PATH: 'data/pages',
  LOG_LEVEL: 'info',
  NEWSGRAPH_TOKENS_FILE: 'var/tokens.json',
  MAX_DEPTH: '12',
  MAX_ALIASES: '30',
  MAX_DIRECTIVES: '50',
  MAX_TOKENS: '2000',
  MAX_COST: '5000',
  MAX_BODY_BYTES: '102400',
  MAX_URL_BYTES: '8192',
  INTROSPECTION: '',
  LANDING_PAGE: '',
  SHUTDOWN_TIMEOUT_MS: '10000',
  REQUEST_TIMEOUT_MS: '10000',
  SAFELIST: '',
  TRUST_PROXY: '',
  REDIS_URL: '',
  REDIS_PREFIX: 'newsgraph:',
  EXECUTOR: 'jit',
  FEDERATION: 'false',
  CACHE_MAX_AGE: '60',
  CACHE_LIST_MAX_AGE: '15',
  RESPONSE_CACHE_MB: '32',
  RESPONSE_CACHE_TTL: '300',
  SECTION_CACHE_RECORDS: '10000',
  APQ_CACHE_MB: '8',
  MAX_REFUSALS_PER_MINUTE: '30',
  REDIS_TIMEOUT_MS: '250',
  PG_LOCK_TIMEOUT_MS: '1000',
  STALE_IF_ERROR: '3600',
  LOG_REQUESTS: '',
  LOG_SLOW_MS: '1000',
  CORS_ORIGINS: '',
} as const;

/** The limits when nothing is configured. */
export const DEFAULT_LIMITS: Limits = {
  depth: Number(CONFIG_VARIABLES.MAX_DEPTH),
  aliases: Number(CONFIG_VARIABLES.MAX_ALIASES),
  directives: Number(CONFIG_VARIABLES.MAX_DIRECTIVES),
  tokens: Number(CONFIG_VARIABLES.MAX_TOKENS),
  cost: Number(CONFIG_VARIABLES.MAX_COST),
  bodyBytes: Number(CONFIG_VARIABLES.MAX_BODY_BYTES),
  urlBytes: Number(CONFIG_VARIABLES.MAX_URL_BYTES),
  refusalsPerMinute: Number(CONFIG_VARIABLES.MAX_REFUSALS_PER_MINUTE),
};

export const DEFAULT_EXECUTOR: Executor = CONFIG_VARIABLES.EXECUTOR;

/** The cache settings when nothing is configured. */
export const DEFAULT_CACHE: CacheConfig = {
  articleSeconds: Number(CONFIG_VARIABLES.CACHE_MAX_AGE),
  listSeconds: Number(CONFIG_VARIABLES.CACHE_LIST_MAX_AGE),
  responseBytes: Number(CONFIG_VARIABLES.RESPONSE_CACHE_MB) * 2 ** 20,
  responseSeconds: Number(CONFIG_VARIABLES.RESPONSE_CACHE_TTL),
  sectionRecords: Number(CONFIG_VARIABLES.SECTION_CACHE_RECORDS),
  persistedQueryBytes: Number(CONFIG_VARIABLES.APQ_CACHE_MB) * 2 ** 20,
  staleIfErrorSeconds: Number(CONFIG_VARIABLES.STALE_IF_ERROR),
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const NODE_ENVS = ['development', 'production', 'test'] as const;

type VariableName = keyof typeof CONFIG_VARIABLES;

/**
 * One variable: trimmed, its default when unset or empty, then checked by
 * `schema`. Every message names the variable and the value it got.
 */
function variable<Output>(name: VariableName, schema: z.ZodType<Output, string>) {
  return z
    .string()
    .optional()
    .transform((value) => {
      const text = value?.trim();
      return text === undefined || text === '' ? CONFIG_VARIABLES[name] : text;
    })
    .pipe(schema);
}

function oneOf<const T extends readonly [string, ...string[]]>(name: VariableName, values: T) {
  return z.enum(values, { error: (issue) => `${name} must be one of ${values.join(', ')}, got "${String(issue.input)}"` });
}

/** Decimal digits only: "1e3", "-1", "2.5" and "abc" are all refused, not read as NaN or rounded. */
function wholeNumber(name: VariableName, least: number, what = `a whole number of at least ${least}`) {
  return z
    .string()
    .refine((text) => /^\d+$/.test(text) && Number(text) >= least, {
      error: (issue) => `${name} must be ${what}, got "${String(issue.input)}"`,
    })
    .transform(Number);
}

/** An on/off switch; null when unset, so the caller can pick a default that depends on NODE_ENV. */
function onOff(name: VariableName) {
  return z
    .string()
    .transform((text) => text.toLowerCase())
    .pipe(
      z.enum(['', 'true', '1', 'on', 'false', '0', 'off'], {
        error: (issue) => `${name} must be true or false, got "${String(issue.input)}"`,
      }),
    )
    .transform((text) => (text === '' ? null : ['true', '1', 'on'].includes(text)));
}

/** The environment's shape; issues come out in this order. Built once: building a schema costs more than parsing with it. */
// `satisfies` keeps it to CONFIG_VARIABLES: a variable listed there and not checked here does not compile.
const ENVIRONMENT = z.object({
  NODE_ENV: variable('NODE_ENV', oneOf('NODE_ENV', NODE_ENVS)),
  PORT: variable(
    'PORT',
    z
      .string()
      .refine((text) => /^\d+$/.test(text) && Number(text) <= 65535, {
        error: (issue) => `PORT must be an integer from 0 to 65535, got "${String(issue.input)}"`,
      })
      .transform(Number),
  ),
  LOG_LEVEL: variable('LOG_LEVEL', oneOf('LOG_LEVEL', LOG_LEVELS)),
  DATABASE_URL: variable(
    'DATABASE_URL',
    z.string().transform((url, context) => {
      try {
        return readDatabaseUrl(url);
      } catch (error) {
        context.issues.push({ code: 'custom', message: (error as Error).message, input: url });
        return z.NEVER;
      }
    }),
  ),
  MAX_DEPTH: variable('MAX_DEPTH', wholeNumber('MAX_DEPTH', 1)),
  MAX_ALIASES: variable('MAX_ALIASES', wholeNumber('MAX_ALIASES', 1)),
  MAX_DIRECTIVES: variable('MAX_DIRECTIVES', wholeNumber('MAX_DIRECTIVES', 1)),
  MAX_TOKENS: variable('MAX_TOKENS', wholeNumber('MAX_TOKENS', 1)),
  MAX_COST: variable('MAX_COST', wholeNumber('MAX_COST', 1)),
  MAX_BODY_BYTES: variable('MAX_BODY_BYTES', wholeNumber('MAX_BODY_BYTES', 1)),
  MAX_URL_BYTES: variable('MAX_URL_BYTES', wholeNumber('MAX_URL_BYTES', 1)),
  MAX_REFUSALS_PER_MINUTE: variable(
    'MAX_REFUSALS_PER_MINUTE',
    wholeNumber('MAX_REFUSALS_PER_MINUTE', 0, 'a whole number (0 turns the limit off)'),
  ),
  INTROSPECTION: variable('INTROSPECTION', onOff('INTROSPECTION')),
  LANDING_PAGE: variable('LANDING_PAGE', onOff('LANDING_PAGE')),
  EXECUTOR: variable('EXECUTOR', oneOf('EXECUTOR', EXECUTORS)),
  FEDERATION: variable('FEDERATION', onOff('FEDERATION')),
  TRUST_PROXY: variable('TRUST_PROXY', z.string().transform(parseTrustProxy)),
  CORS_ORIGINS: variable('CORS_ORIGINS', z.string().transform(parseCorsOrigins)),
  REDIS_URL: variable(
    'REDIS_URL',
    z.string().refine((url) => url === '' || /^rediss?:\/\//.test(url), {
      error: (issue) => `REDIS_URL must start with redis:// or rediss://, got "${String(issue.input)}"`,
    }),
  ),
  REDIS_PREFIX: variable('REDIS_PREFIX', z.string()),
  REDIS_TIMEOUT_MS: variable('REDIS_TIMEOUT_MS', wholeNumber('REDIS_TIMEOUT_MS', 1)),
  CACHE_MAX_AGE: variable('CACHE_MAX_AGE', wholeNumber('CACHE_MAX_AGE', 0)),
  CACHE_LIST_MAX_AGE: variable('CACHE_LIST_MAX_AGE', wholeNumber('CACHE_LIST_MAX_AGE', 0)),
  RESPONSE_CACHE_MB: variable('RESPONSE_CACHE_MB', wholeNumber('RESPONSE_CACHE_MB', 0)),
  RESPONSE_CACHE_TTL: variable('RESPONSE_CACHE_TTL', wholeNumber('RESPONSE_CACHE_TTL', 1)),
  SECTION_CACHE_RECORDS: variable('SECTION_CACHE_RECORDS', wholeNumber('SECTION_CACHE_RECORDS', 0)),
  APQ_CACHE_MB: variable('APQ_CACHE_MB', wholeNumber('APQ_CACHE_MB', 1)),
  STALE_IF_ERROR: variable('STALE_IF_ERROR', wholeNumber('STALE_IF_ERROR', 0)),
  // Two at least: seeding a fresh store holds one connection for its lock while it writes through another.
  PG_POOL_SIZE: variable('PG_POOL_SIZE', wholeNumber('PG_POOL_SIZE', 2)),
  // Checked whatever the store, like PG_POOL_SIZE: a bad value should not wait for the day the store moves.
  PG_LOCK_TIMEOUT_MS: variable('PG_LOCK_TIMEOUT_MS', wholeNumber('PG_LOCK_TIMEOUT_MS', 1)),
  SHUTDOWN_TIMEOUT_MS: variable('SHUTDOWN_TIMEOUT_MS', wholeNumber('SHUTDOWN_TIMEOUT_MS', 1)),
  REQUEST_TIMEOUT_MS: variable('REQUEST_TIMEOUT_MS', wholeNumber('REQUEST_TIMEOUT_MS', 1)),
  LOG_REQUESTS: variable(
    'LOG_REQUESTS',
    z
      .string()
      .refine((text) => text === '' || (/^\d*\.?\d+$/.test(text) && Number(text) <= 1), {
        error: (issue) => `LOG_REQUESTS must be a number from 0 to 1, got "${String(issue.input)}"`,
      })
      .transform((text) => (text === '' ? null : Number(text))),
  ),
  LOG_SLOW_MS: variable('LOG_SLOW_MS', wholeNumber('LOG_SLOW_MS', 1)),
  HOST: variable('HOST', z.string()),
  NEWSGRAPH_TOKENS_FILE: variable('NEWSGRAPH_TOKENS_FILE', z.string()),
  SAFELIST: variable('SAFELIST', z.string()),
  // Not through `variable`: an explicitly empty SEED_PATH turns seeding off; unset means the shipped pages.
  SEED_PATH: z
    .string()
    .optional()
    .transform((text) => (text === undefined ? CONFIG_VARIABLES.SEED_PATH : text.trim())),
} satisfies Record<VariableName, z.ZodType<unknown, string | undefined>>);

/** Reads the environment into one validated config; every problem is reported at once, before anything starts. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const parsed = ENVIRONMENT.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  const settings = parsed.data;
  const production = settings.NODE_ENV === 'production';
  return {
    nodeEnv: settings.NODE_ENV,
    host: settings.HOST,
    port: settings.PORT,
    // PostgreSQL statements stop at the request deadline too, in the database, not only in newsgraph.
    database:
      settings.DATABASE_URL.kind === 'postgres'
        ? {
            ...settings.DATABASE_URL,
            poolSize: settings.PG_POOL_SIZE,
            statementTimeoutMs: settings.REQUEST_TIMEOUT_MS,
            lockTimeoutMs: settings.PG_LOCK_TIMEOUT_MS,
          }
        : inDirectory(settings.DATABASE_URL, cwd),
    seedPath: settings.SEED_PATH === '' ? null : resolve(cwd, settings.SEED_PATH),
    logLevel: settings.LOG_LEVEL,
    logRequests: settings.LOG_REQUESTS ?? (production ? 0.01 : 1),
    logSlowMs: settings.LOG_SLOW_MS,
    tokensFile: resolve(cwd, settings.NEWSGRAPH_TOKENS_FILE),
    limits: {
      depth: settings.MAX_DEPTH,
      aliases: settings.MAX_ALIASES,
      directives: settings.MAX_DIRECTIVES,
      tokens: settings.MAX_TOKENS,
      cost: settings.MAX_COST,
      bodyBytes: settings.MAX_BODY_BYTES,
      urlBytes: settings.MAX_URL_BYTES,
      refusalsPerMinute: settings.MAX_REFUSALS_PER_MINUTE,
    },
    // On/off switches default to "on, except in production".
    introspection: settings.INTROSPECTION ?? !production,
    landingPage: settings.LANDING_PAGE ?? !production,
    shutdownTimeoutMs: settings.SHUTDOWN_TIMEOUT_MS,
    requestTimeoutMs: settings.REQUEST_TIMEOUT_MS,
    safelist: settings.SAFELIST === '' ? null : resolve(cwd, settings.SAFELIST),
    trustProxy: settings.TRUST_PROXY,
    // A development server is called from pages on whatever port a front-end's dev server picked;
    // a production one only from the origins its operators list.
    corsOrigins: settings.CORS_ORIGINS ?? (production ? [] : '*'),
    redis:
      settings.REDIS_URL === '' ? null : { url: settings.REDIS_URL, prefix: settings.REDIS_PREFIX, timeoutMs: settings.REDIS_TIMEOUT_MS },
    executor: settings.EXECUTOR,
    federation: settings.FEDERATION ?? false,
    cache: {
      articleSeconds: settings.CACHE_MAX_AGE,
      listSeconds: settings.CACHE_LIST_MAX_AGE,
      responseBytes: settings.RESPONSE_CACHE_MB * 2 ** 20,
      responseSeconds: settings.RESPONSE_CACHE_TTL,
      sectionRecords: settings.SECTION_CACHE_RECORDS,
      persistedQueryBytes: settings.APQ_CACHE_MB * 2 ** 20,
      staleIfErrorSeconds: settings.STALE_IF_ERROR,
    },
  };
}

/**
 * TRUST_PROXY: empty or false (the socket's address is the client), true
 * (believe any X-Forwarded-For: only behind a proxy that overwrites it), a
 * number of proxy hops, or a comma-separated list of proxy addresses and
 * CIDR ranges such as `loopback, 10.0.0.0/8`.
 */
function parseTrustProxy(text: string, context: z.RefinementCtx<string>): boolean | number | string[] {
  const lower = text.toLowerCase();
  if (lower === '' || lower === 'false') return false;
  if (lower === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.filter((entry) => !/^(loopback|linklocal|uniquelocal|[0-9a-f.:]+(\/\d{1,3})?)$/i.test(entry));
  if (bad.length) {
    context.issues.push({
      code: 'custom',
      message: `TRUST_PROXY must be true, false, a hop count or a list of addresses/CIDR ranges, got "${bad.join(', ')}"`,
      input: text,
    });
    return z.NEVER;
  }
  return entries;
}

/**
 * One CORS_ORIGINS entry: `scheme://host[:port]` as a browser sends it in
 * `Origin` (no path, no trailing slash), where the host may begin with `*.`
 * (one or more labels: any subdomain, not the domain itself) and the port
 * may be `*` (any port, or none).
 */
const CORS_ORIGIN = /^https?:\/\/(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:(\d{1,5}|\*))?$/;

/**
 * CORS_ORIGINS: empty (the default for NODE_ENV: none in production, any
 * otherwise), `*` (any origin), `none`, or a comma-separated list of origins
 * and patterns, compared without regard to case.
 */
function parseCorsOrigins(text: string, context: z.RefinementCtx<string>): '*' | string[] | null {
  const lower = text.toLowerCase();
  if (lower === '') return null;
  if (lower === '*') return '*';
  if (lower === 'none') return [];
  const entries = lower
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.filter((entry) => !CORS_ORIGIN.test(entry));
  if (bad.length) {
    context.issues.push({
      code: 'custom',
      message: `CORS_ORIGINS must be *, none, or a comma-separated list of origins such as https://www.portal.example, https://*.portal.example or http://localhost:* (scheme and host, no path), got "${bad.join(', ')}"`,
      input: text,
    });
    return z.NEVER;
  }
  return [...new Set(entries)];
}

/** `sqlite:PATH` (relative to the working directory, or absolute), `sqlite::memory:`, or `postgres://…`. */
export function parseDatabaseUrl(url: string, cwd = process.cwd()): DatabaseConfig {
  return inDirectory(readDatabaseUrl(url), cwd);
}

/** DATABASE_URL read without a working directory: a relative SQLite path stays as written. */
function readDatabaseUrl(url: string): DatabaseConfig {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('DATABASE_URL "sqlite:" needs a path, for example sqlite:var/newsgraph.db');
    return { kind: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, poolSize: 10, statementTimeoutMs: 10_000, lockTimeoutMs: 1000 };
  throw new Error(`DATABASE_URL must start with sqlite: (for example sqlite:var/newsgraph.db) or postgres://, got "${url}"`);
}

function inDirectory(database: DatabaseConfig, cwd: string): DatabaseConfig {
  if (database.kind !== 'sqlite' || database.path === ':memory:' || isAbsolute(database.path)) return database;
  return { kind: 'sqlite', path: resolve(cwd, database.path) };
}
