import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('configuration from the environment', () => {
  it('defaults to port 4000 and the embedded SQLite store under var/', () => {
    expect(loadConfig({}, '/srv/newsgraph')).toEqual({
      nodeEnv: 'development',
      host: 'localhost',
      port: 4000,
      database: { kind: 'sqlite', path: '/srv/newsgraph/var/newsgraph.db' },
      seedPath: '/srv/newsgraph/data/pages',
      logLevel: 'info',
      logRequests: 1,
      logSlowMs: 1000,
      tokensFile: '/srv/newsgraph/var/tokens.json',
      limits: {
        depth: 12,
        aliases: 30,
        directives: 50,
        tokens: 2000,
        cost: 5000,
        bodyBytes: 102_400,
        urlBytes: 8192,
        refusalsPerMinute: 30,
      },
      introspection: true,
      landingPage: true,
      shutdownTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
      safelist: null,
      trustProxy: false,
      corsOrigins: '*',
      redis: null,
      executor: 'jit',
      federation: false,
      cache: {
        articleSeconds: 60,
        listSeconds: 15,
        responseBytes: 32 * 2 ** 20,
        responseSeconds: 300,
        sectionRecords: 10_000,
        persistedQueryBytes: 8 * 2 ** 20,
        staleIfErrorSeconds: 3600,
      },
    });
  });

  it('reads CORS_ORIGINS as *, none, or a list of origins and patterns; none in production unless listed', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).corsOrigins).toEqual([]);
    expect(loadConfig({ NODE_ENV: 'test' }).corsOrigins).toBe('*');
    expect(loadConfig({ NODE_ENV: 'production', CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'none' }).corsOrigins).toEqual([]);
    expect(
      loadConfig({
        NODE_ENV: 'production',
        CORS_ORIGINS: ' https://www.Portal.example, https://*.portal.example,http://localhost:*,http://127.0.0.1:8080 ',
      }).corsOrigins,
    ).toEqual(['https://www.portal.example', 'https://*.portal.example', 'http://localhost:*', 'http://127.0.0.1:8080']);
    for (const bad of [
      'https://www.portal.example/',
      'www.portal.example',
      'https://portal.example/news',
      '*, https://www.portal.example',
      'ftp://x.example',
      'https://www.*.example',
    ])
      expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS must be \*, none, or a comma-separated list of origins/);
  });

  it('reads TRUST_PROXY as a switch, a hop count or a list of proxy addresses', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toEqual(['loopback', '10.0.0.0/8']);
    expect(() => loadConfig({ TRUST_PROXY: 'the load balancer' })).toThrow(/TRUST_PROXY must be .*got "the load balancer"/);
    expect(loadConfig({ MAX_REFUSALS_PER_MINUTE: '0' }).limits.refusalsPerMinute).toBe(0);
    expect(loadConfig({ CACHE_MAX_AGE: '300', RESPONSE_CACHE_MB: '0' }).cache).toMatchObject({ articleSeconds: 300, responseBytes: 0 });
    expect(loadConfig({ SECTION_CACHE_RECORDS: '0' }).cache.sectionRecords).toBe(0);
    expect(() => loadConfig({ SECTION_CACHE_RECORDS: 'all' })).toThrow(
      /SECTION_CACHE_RECORDS must be a whole number of at least 0, got "all"/,
    );
    expect(() => loadConfig({ APQ_CACHE_MB: '0' })).toThrow(/APQ_CACHE_MB must be a whole number of at least 1, got "0"/);
    expect(() => loadConfig({ MAX_REFUSALS_PER_MINUTE: '-1' })).toThrow(/MAX_REFUSALS_PER_MINUTE must be a whole number/);
  });

  it('turns introspection and the landing page off in production unless switched on', () => {
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ introspection: false, landingPage: false });
    expect(loadConfig({ NODE_ENV: 'production', INTROSPECTION: 'true' })).toMatchObject({ introspection: true, landingPage: false });
    expect(loadConfig({ LANDING_PAGE: 'off' })).toMatchObject({ introspection: true, landingPage: false });
    expect(() => loadConfig({ INTROSPECTION: 'maybe' })).toThrow(/INTROSPECTION must be true or false, got "maybe"/);
  });

  it('reads every limit, refusing ones that are not whole numbers of at least 1', () => {
    expect(loadConfig({ MAX_DEPTH: '8', MAX_COST: '900' }).limits).toMatchObject({ depth: 8, cost: 900, aliases: 30 });
    expect(() => loadConfig({ MAX_DEPTH: '0', MAX_TOKENS: 'lots' })).toThrow(
      /MAX_DEPTH must be a whole number of at least 1, got "0"[\s\S]*MAX_TOKENS must be a whole number of at least 1, got "lots"/,
    );
  });

  it('reads sqlite:PATH relative to the working directory or absolute, and sqlite::memory:', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:data.db' }, '/app').database).toEqual({ kind: 'sqlite', path: resolve('/app/data.db') });
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({ kind: 'sqlite', path: '/tmp/x.db' });
    expect(loadConfig({ DATABASE_URL: 'sqlite:///tmp/y.db' }).database).toEqual({ kind: 'sqlite', path: '/tmp/y.db' });
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('reads postgres:// with a pool size and the request deadline as statement timeout', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://news@db:5432/news', PG_POOL_SIZE: '20', REQUEST_TIMEOUT_MS: '4000' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://news@db:5432/news',
      poolSize: 20,
      statementTimeoutMs: 4000,
      lockTimeoutMs: 1000,
    });
    expect(loadConfig({ DATABASE_URL: 'postgresql://news@db/news' }).database).toMatchObject({
      kind: 'postgres',
      poolSize: 10,
      statementTimeoutMs: 10_000,
    });
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/news', PG_POOL_SIZE: '1' })).toThrow(
      /PG_POOL_SIZE must be a whole number of at least 2/,
    );
  });

  it('reports every invalid variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', NODE_ENV: 'staging', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'NODE_ENV must be one of development, production, test, got "staging"',
      'PORT must be an integer from 0 to 65535, got "eighty"',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'DATABASE_URL must start with sqlite: (for example sqlite:var/newsgraph.db) or postgres://, got "mysql://x"',
    ]);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be an integer from 0 to 65535/);
  });

  it('reads the settings for failing infrastructure, sampling request logs in production', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379', REDIS_TIMEOUT_MS: '100' }).redis).toEqual({
      url: 'redis://cache:6379',
      prefix: 'newsgraph:',
      timeoutMs: 100,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://db/news', PG_LOCK_TIMEOUT_MS: '250' }).database).toMatchObject({ lockTimeoutMs: 250 });
    expect(loadConfig({ STALE_IF_ERROR: '0' }).cache.staleIfErrorSeconds).toBe(0);
    expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ logRequests: 0.01, logSlowMs: 1000 });
    expect(loadConfig({ NODE_ENV: 'production', LOG_REQUESTS: '0', LOG_SLOW_MS: '200' })).toMatchObject({ logRequests: 0, logSlowMs: 200 });
    expect(loadConfig({ LOG_REQUESTS: '.25' }).logRequests).toBe(0.25);
  });

  it('refuses a bad deadline, timeout or log setting in the same error as the rest, before anything starts', () => {
    let error: unknown;
    try {
      loadConfig({
        DATABASE_URL: 'postgres://db/news',
        REQUEST_TIMEOUT_MS: 'abc',
        SHUTDOWN_TIMEOUT_MS: '-1',
        REDIS_TIMEOUT_MS: '0',
        LOG_REQUESTS: '2',
        PG_LOCK_TIMEOUT_MS: 'x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'REDIS_TIMEOUT_MS must be a whole number of at least 1, got "0"',
      'PG_LOCK_TIMEOUT_MS must be a whole number of at least 1, got "x"',
      'SHUTDOWN_TIMEOUT_MS must be a whole number of at least 1, got "-1"',
      'REQUEST_TIMEOUT_MS must be a whole number of at least 1, got "abc"',
      'LOG_REQUESTS must be a number from 0 to 1, got "2"',
    ]);
    const more = [
      ['LOG_SLOW_MS', '1.5'],
      ['REQUEST_TIMEOUT_MS', '1e3'],
      ['SHUTDOWN_TIMEOUT_MS', 'NaN'],
      ['LOG_REQUESTS', '-0.5'],
    ] as const;
    for (const [name, value] of more) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(`${name} must be .*got "${value}"`));
    }
  });

  it('turns seeding off with an empty SEED_PATH', () => {
    expect(loadConfig({ SEED_PATH: '' }).seedPath).toBeNull();
    expect(loadConfig({ SEED_PATH: 'pages' }, '/app').seedPath).toBe('/app/pages');
  });
});
