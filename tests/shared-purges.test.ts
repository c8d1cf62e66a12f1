import { randomUUID } from 'node:crypto';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisResponseCache } from '../src/http-cache/redis-cache.js';
import { type RedisClient, RedisGuard, RedisUnavailableError } from '../src/http-cache/redis-guard.js';
import type { CachedResponse } from '../src/http-cache/response-cache.js';
import { SharedPurges } from '../src/http-cache/shared-purges.js';
import { onPath, type RedisServer, startRedis, TcpRelay } from '../src/tools/faults/infra.js';
import { createTestStore, type TestStore } from './helpers.js';

// A private redis-server on a free port, frozen, killed and cut off on purpose; never the machine's own.
const haveRedis = onPath('redis-server');
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function answer(text: string, tags: string[]): CachedResponse {
  return {
    body: Buffer.from(text),
    contentType: 'application/json; charset=utf-8',
    tags,
    maxAgeSeconds: 60,
    expiresAt: Date.now() + 60_000,
  };
}

async function connect(url: string): Promise<RedisClient> {
  const client: RedisClient = createClient({ url, disableOfflineQueue: true });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Polls `check` every 20 ms until it holds, for at most `ms`; returns how long it took. */
async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < Math.ceil(ms / 20); i++) {
    if (await check()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`did not hold within ${ms} ms`);
}

describe.skipIf(!haveRedis)('Redis behind the guard', () => {
  let redis: RedisServer;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await startRedis();
    client = await connect(redis.url);
  }, 30_000);
  afterAll(async () => {
    client?.destroy();
    await redis?.stop();
  });

  it('gives up on a frozen Redis within its timeout, fails at once after that, and comes back by itself', async () => {
    const guard = new RedisGuard(client, { timeoutMs: 200, probeMs: 100 });
    try {
      expect(await guard.run((c) => c.ping())).toBe('PONG');
      redis.freeze();
      let started = Date.now();
      await expect(guard.run((c) => c.get('x'))).rejects.toBeInstanceOf(RedisUnavailableError);
      const firstWait = Date.now() - started;
      expect(firstWait).toBeGreaterThanOrEqual(150);
      expect(guard.available).toBe(false);
      // While it is away nothing is sent: the next command fails without waiting for the timeout.
      started = Date.now();
      await expect(guard.run((c) => c.get('x'))).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - started).toBeLessThan(firstWait);
      redis.thaw();
      await within(5_000, () => guard.available);
      expect(await guard.run((c) => c.ping())).toBe('PONG');
    } finally {
      redis.thaw();
      guard.close();
    }
  });
});

describe.skipIf(!haveRedis)('purges of the shared cache when Redis cannot confirm them', () => {
  let redis: RedisServer;
  let relay: TcpRelay;
  let t: TestStore;
  let direct: RedisClient;
  let relayed: RedisClient;
  const prefix = `newsgraph-test-${randomUUID()}:`;
  beforeAll(async () => {
    redis = await startRedis();
    relay = await TcpRelay.start({ port: redis.port });
    t = await createTestStore({ seed: false });
    direct = await connect(redis.url);
    relayed = await connect(relay.url('redis'));
  }, 30_000);
  afterAll(async () => {
    direct?.destroy();
    relayed?.destroy();
    await relay?.close();
    await redis?.stop();
    await t?.close();
  });

  it('records a purge instance A could not deliver, keeps every instance off the shared cache until it is delivered, then delivers it', async () => {
    // Two instances' views of one Redis and one store: A reaches Redis through a link that will be cut.
    const guardA = new RedisGuard(relayed, { timeoutMs: 200, probeMs: 100 });
    const guardB = new RedisGuard(direct, { timeoutMs: 200, probeMs: 100 });
    let purgesA!: SharedPurges;
    let purgesB!: SharedPurges;
    const trust = (purges: () => SharedPurges) => ({ fresh: () => purges().usable(), stale: () => purges().pending() === 0 });
    const cacheA = new RedisResponseCache(
      guardA,
      prefix,
      0,
      trust(() => purgesA),
    );
    const cacheB = new RedisResponseCache(
      guardB,
      prefix,
      0,
      trust(() => purgesB),
    );
    purgesA = new SharedPurges(t.store, cacheA, { log: quiet, pollMs: 100, leaseMs: 400 });
    purgesB = new SharedPurges(t.store, cacheB, { log: quiet, pollMs: 100, leaseMs: 400 });
    await purgesA.start();
    await purgesB.start();
    try {
      expect(cacheB.usable()).toBe(true);
      expect(await cacheB.set('page', answer('{"title":"old"}', ['article:1']), await cacheB.generation())).toBe(true);

      await relay.cut('blackhole');
      // The write has committed; its purge cannot reach Redis from A. The mutation still returns,
      // after waiting out the lease, so that every other instance has read the record by then…
      const started = Date.now();
      await purgesA.purge(['article:1']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      // …and B, which can reach Redis, either goes past the shared cache or has delivered the purge:
      // either way the old answer is not served after the mutation returned (the server asks
      // `usable()` before it looks anything up).
      expect(!cacheB.usable() || (await cacheB.get('page')) === undefined).toBe(true);

      // B delivers what A recorded, and the shared cache is trusted again, without the old answer.
      await within(5_000, async () => (await t.store.listPendingPurges()).length === 0);
      await within(5_000, () => cacheB.usable());
      expect(await cacheB.get('page')).toBeUndefined();

      await relay.restore();
      await within(5_000, () => cacheA.usable());
    } finally {
      await relay.restore();
      purgesA.stop();
      purgesB.stop();
      guardA.close();
      guardB.close();
    }
  });

  it('stops answering from the shared cache when the store has not been read within the lease', async () => {
    const guard = new RedisGuard(direct, { timeoutMs: 1000 });
    // Reads the store once at start, then not for a minute: its lease runs out meanwhile.
    const purges = new SharedPurges(t.store, new RedisResponseCache(guard, prefix), { log: quiet, pollMs: 60_000, leaseMs: 300 });
    await purges.start();
    try {
      expect(purges.usable()).toBe(true);
      await within(5_000, () => !purges.usable());
    } finally {
      purges.stop();
      guard.close();
    }
  });

  it('purges at once, with no record and no wait, while Redis answers', async () => {
    const guard = new RedisGuard(direct, { timeoutMs: 1000 });
    let purges!: SharedPurges;
    const cache = new RedisResponseCache(guard, prefix, 0, { fresh: () => purges.usable(), stale: () => purges.pending() === 0 });
    purges = new SharedPurges(t.store, cache, { log: quiet, pollMs: 100, leaseMs: 60_000 });
    await purges.start();
    try {
      expect(await cache.set('page-2', answer('{"title":"old"}', ['article:2']), await cache.generation())).toBe(true);
      const started = Date.now();
      await purges.purge(['article:2']);
      // Far less than the lease a deferred purge waits out.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(await cache.get('page-2')).toBeUndefined();
      expect(await t.store.listPendingPurges()).toEqual([]);
      expect(cache.usable()).toBe(true);
    } finally {
      purges.stop();
      guard.close();
    }
  });
});
