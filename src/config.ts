import { isAbsolute, resolve } from 'node:path';

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
  /** Public cache lifetimes and the in-memory caches' sizes (see README, "Caching"). */
  cache: CacheConfig;
  /** Redis for the APQ store and the response cache, shared by every instance; null keeps both in memory. */
  redis: { url: string; prefix: string; timeoutMs: number } | null;
  /** Which proxies' X-Forwarded-For to believe when telling clients apart (Fastify's trustProxy). */
  trustProxy: boolean | number | string[];
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

/** Reads the environment into one validated config; every problem is reported at once. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const get = (name: keyof typeof CONFIG_VARIABLES): string => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? CONFIG_VARIABLES[name] : value;
  };

  const nodeEnv = get('NODE_ENV');
  if (!isOneOf(nodeEnv, NODE_ENVS)) problems.push(`NODE_ENV must be one of ${NODE_ENVS.join(', ')}, got "${nodeEnv}"`);

  const portText = get('PORT');
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) problems.push(`PORT must be an integer from 0 to 65535, got "${portText}"`);

  const logLevel = get('LOG_LEVEL');
  if (!isOneOf(logLevel, LOG_LEVELS)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);

  let database: DatabaseConfig | undefined;
  try {
    database = parseDatabaseUrl(get('DATABASE_URL'), cwd);
  } catch (error) {
    problems.push((error as Error).message);
  }

  const positive = (
    name: 'MAX_DEPTH' | 'MAX_ALIASES' | 'MAX_DIRECTIVES' | 'MAX_TOKENS' | 'MAX_COST' | 'MAX_BODY_BYTES' | 'MAX_URL_BYTES' | 'SHUTDOWN_TIMEOUT_MS' | 'REQUEST_TIMEOUT_MS',
  ) => {
    const text = get(name);
    if (!/^\d+$/.test(text) || Number(text) < 1) problems.push(`${name} must be a whole number of at least 1, got "${text}"`);
    return Number(text);
  };
  const limits: Limits = {
    depth: positive('MAX_DEPTH'),
    aliases: positive('MAX_ALIASES'),
    directives: positive('MAX_DIRECTIVES'),
    tokens: positive('MAX_TOKENS'),
    cost: positive('MAX_COST'),
    bodyBytes: positive('MAX_BODY_BYTES'),
    urlBytes: positive('MAX_URL_BYTES'),
    refusalsPerMinute: (() => {
      const text = get('MAX_REFUSALS_PER_MINUTE');
      if (!/^\d+$/.test(text)) problems.push(`MAX_REFUSALS_PER_MINUTE must be a whole number (0 turns the limit off), got "${text}"`);
      return Number(text);
    })(),
  };

  // On/off switches default to "on, except in production".
  const flag = (name: 'INTROSPECTION' | 'LANDING_PAGE') => {
    const text = get(name).toLowerCase();
    if (text === '') return nodeEnv !== 'production';
    if (['true', '1', 'on'].includes(text)) return true;
    if (['false', '0', 'off'].includes(text)) return false;
    problems.push(`${name} must be true or false, got "${text}"`);
    return false;
  };
  const introspection = flag('INTROSPECTION');
  const landingPage = flag('LANDING_PAGE');

  const executor = get('EXECUTOR');
  if (!isOneOf(executor, EXECUTORS)) problems.push(`EXECUTOR must be one of ${EXECUTORS.join(', ')}, got "${executor}"`);
  const trustProxy = parseTrustProxy(get('TRUST_PROXY'), problems);
  const redisUrl = get('REDIS_URL');
  if (redisUrl !== '' && !/^rediss?:\/\//.test(redisUrl)) problems.push(`REDIS_URL must start with redis:// or rediss://, got "${redisUrl}"`);
  const whole = (name: 'CACHE_MAX_AGE' | 'CACHE_LIST_MAX_AGE' | 'RESPONSE_CACHE_MB' | 'RESPONSE_CACHE_TTL' | 'SECTION_CACHE_RECORDS' | 'APQ_CACHE_MB' | 'STALE_IF_ERROR' | 'REDIS_TIMEOUT_MS' | 'PG_LOCK_TIMEOUT_MS' | 'LOG_SLOW_MS', least: number) => {
    const text = get(name);
    if (!/^\d+$/.test(text) || Number(text) < least) problems.push(`${name} must be a whole number of at least ${least}, got "${text}"`);
    return Number(text);
  };
  const cache: CacheConfig = {
    articleSeconds: whole('CACHE_MAX_AGE', 0),
    listSeconds: whole('CACHE_LIST_MAX_AGE', 0),
    responseBytes: whole('RESPONSE_CACHE_MB', 0) * 2 ** 20,
    responseSeconds: whole('RESPONSE_CACHE_TTL', 1),
    sectionRecords: whole('SECTION_CACHE_RECORDS', 0),
    persistedQueryBytes: whole('APQ_CACHE_MB', 1) * 2 ** 20,
    staleIfErrorSeconds: whole('STALE_IF_ERROR', 0),
  };

  // An explicitly empty SEED_PATH turns seeding off; unset means the shipped pages.
  const seedText = env.SEED_PATH === undefined ? CONFIG_VARIABLES.SEED_PATH : env.SEED_PATH.trim();

  // PostgreSQL statements stop at the request deadline too, in the database, not only in newsgraph.
  const poolText = get('PG_POOL_SIZE');
  // Two at least: seeding a fresh store holds one connection for its lock while it writes through another.
  if (!/^\d+$/.test(poolText) || Number(poolText) < 2) problems.push(`PG_POOL_SIZE must be a whole number of at least 2, got "${poolText}"`);
  if (database?.kind === 'postgres')
    database = { ...database, poolSize: Number(poolText), statementTimeoutMs: positive('REQUEST_TIMEOUT_MS'), lockTimeoutMs: whole('PG_LOCK_TIMEOUT_MS', 1) };

  const logRequestsText = get('LOG_REQUESTS');
  const logRequests = logRequestsText === '' ? (nodeEnv === 'production' ? 0.01 : 1) : Number(logRequestsText);
  if (logRequestsText !== '' && !(/^\d*\.?\d+$/.test(logRequestsText) && logRequests <= 1)) problems.push(`LOG_REQUESTS must be a number from 0 to 1, got "${logRequestsText}"`);
  const logSlowMs = whole('LOG_SLOW_MS', 1);
  const redisTimeoutMs = whole('REDIS_TIMEOUT_MS', 1);

  if (problems.length > 0 || !database) throw new ConfigError(problems);
  return {
    nodeEnv: nodeEnv as Config['nodeEnv'],
    host: get('HOST'),
    port,
    database,
    seedPath: seedText === '' ? null : resolve(cwd, seedText),
    logLevel: logLevel as Config['logLevel'],
    logRequests,
    logSlowMs,
    tokensFile: resolve(cwd, get('NEWSGRAPH_TOKENS_FILE')),
    limits,
    introspection,
    landingPage,
    shutdownTimeoutMs: positive('SHUTDOWN_TIMEOUT_MS'),
    requestTimeoutMs: positive('REQUEST_TIMEOUT_MS'),
    safelist: get('SAFELIST') === '' ? null : resolve(cwd, get('SAFELIST')),
    trustProxy,
    redis: redisUrl === '' ? null : { url: redisUrl, prefix: get('REDIS_PREFIX'), timeoutMs: redisTimeoutMs },
    executor: executor as Executor,
    cache,
  };
}

/**
 * TRUST_PROXY: empty or false (the socket's address is the client), true
 * (believe any X-Forwarded-For: only behind a proxy that overwrites it), a
 * number of proxy hops, or a comma-separated list of proxy addresses and
 * CIDR ranges such as `loopback, 10.0.0.0/8`.
 */
function parseTrustProxy(text: string, problems: string[]): boolean | number | string[] {
  const lower = text.toLowerCase();
  if (lower === '' || lower === 'false') return false;
  if (lower === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.filter((entry) => !/^(loopback|linklocal|uniquelocal|[0-9a-f.:]+(\/\d{1,3})?)$/i.test(entry));
  if (bad.length) problems.push(`TRUST_PROXY must be true, false, a hop count or a list of addresses/CIDR ranges, got "${bad.join(', ')}"`);
  return entries;
}

/** `sqlite:PATH` (relative to the working directory, or absolute), `sqlite::memory:`, or `postgres://…`. */
export function parseDatabaseUrl(url: string, cwd = process.cwd()): DatabaseConfig {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('DATABASE_URL "sqlite:" needs a path, for example sqlite:var/newsgraph.db');
    if (path === ':memory:') return { kind: 'sqlite', path };
    return { kind: 'sqlite', path: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, poolSize: 10, statementTimeoutMs: 10_000, lockTimeoutMs: 1000 };
  throw new Error(`DATABASE_URL must start with sqlite: (for example sqlite:var/newsgraph.db) or postgres://, got "${url}"`);
}

function isOneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}
