import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '../src/auth/tokens.js';
import { openStore } from '../src/data/open-store.js';
import { RedisResponseCache } from '../src/http-cache/redis-cache.js';
import { type RedisClient, RedisGuard } from '../src/http-cache/redis-guard.js';
import {
  createFreshDatabase,
  createTestStore,
  type MainProcess,
  type SchemaAnswer,
  startMainProcess,
  TEST_REDIS,
  TEST_STORE,
  useTestRedis,
} from './helpers.js';

const sleep = (time: number) => new Promise<void>((resolve) => setTimeout(resolve, time));

// Redis from TEST_REDIS_URL, or a private redis-server (see TEST_REDIS in helpers.ts). Each run
// works under a key prefix of its own and deletes its keys afterwards.
let REDIS_URL = '';
let redis: Awaited<ReturnType<typeof useTestRedis>> | undefined;
beforeAll(async () => {
  if (TEST_REDIS === null) return;
  redis = await useTestRedis();
  REDIS_URL = redis.url;
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

async function dropPrefix(client: RedisClient, prefix: string): Promise<void> {
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length) await client.del(keys);
}

describe.skipIf(TEST_REDIS === null)('the response cache in Redis', () => {
  let client: RedisClient;
  const prefix = `newsgraph-test-${randomUUID()}:`;
  beforeAll(async () => {
    client = createClient({ url: REDIS_URL });
    await client.connect();
  });
  afterAll(async () => {
    await dropPrefix(client, prefix);
    await client.quit();
  });
  const entry = (text: string, tags: string[]) => ({
    body: Buffer.from(text),
    contentType: 'application/json; charset=utf-8',
    tags,
    maxAgeSeconds: 15,
    expiresAt: Date.now() + 60_000,
  });

  it('stores, shares and purges by tag, and refuses an answer begun before a purge', async () => {
    const one = new RedisResponseCache(new RedisGuard(client, { timeoutMs: 2000 }), prefix);
    const other = new RedisResponseCache(new RedisGuard(client, { timeoutMs: 2000 }), prefix); // another instance's view of the same Redis
    const began = await one.generation();
    expect(await one.set('page-1', entry('{"data":{"title":"一"}}', ['article:1', 'sections']), began)).toBe(true);
    expect(await one.set('page-2', entry('{"data":{"title":"二"}}', ['article:2']), began)).toBe(true);
    expect((await other.get('page-1'))?.body.toString()).toBe('{"data":{"title":"一"}}');
    expect(await other.get('page-1')).toMatchObject({ maxAgeSeconds: 15, contentType: 'application/json; charset=utf-8' });

    await other.purge(['article:1']);
    expect(await one.get('page-1')).toBeUndefined();
    expect(await one.get('page-2')).toBeDefined();
    // Begun before that purge: not stored.
    expect(await one.set('page-1', entry('{"data":{"title":"旧"}}', ['article:1']), began)).toBe(false);
    expect(await other.get('page-1')).toBeUndefined();

    await one.clear();
    expect(await other.get('page-2')).toBeUndefined();
    expect(await other.generation()).toBeGreaterThan(began + 1);
  });
});

describe.skipIf(TEST_REDIS === null)(
  `two instances sharing a ${TEST_STORE === 'postgres' ? 'PostgreSQL' : 'SQLite'} store and Redis`,
  () => {
    const prefix = `newsgraph-test-${randomUUID()}:`;
    let dir: string;
    let database: Awaited<ReturnType<typeof createFreshDatabase>> | undefined;
    let a: MainProcess;
    let b: MainProcess;
    let token: string;
    let client: RedisClient;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'newsgraph-redis-'));
      const tokensFile = join(dir, 'tokens.json');
      token = await addToken(tokensFile, { name: 'night-desk', role: 'EDITOR' });
      database = await createFreshDatabase();
      const env = { DATABASE_URL: database.url, REDIS_URL, REDIS_PREFIX: prefix, NEWSGRAPH_TOKENS_FILE: tokensFile };
      a = await startMainProcess(env); // migrates and seeds the empty store
      b = await startMainProcess(env);
      client = createClient({ url: REDIS_URL });
      await client.connect();
    }, 30_000);
    afterAll(async () => {
      for (const p of [a, b]) {
        p?.child.kill('SIGTERM');
        await p?.exited;
      }
      if (client) {
        await dropPrefix(client, prefix);
        await client.quit();
      }
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const PAGE = `query Page($slug: String!) { article(slug: $slug) { id title version } }`;
    const SLUG = '20230423-7c45cae95cf3';
    async function post(instance: MainProcess, query: string, variables: Record<string, unknown> = {}, authorization?: string) {
      const response = await fetch(`${instance.address}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization: `Bearer ${authorization}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { cache: response.headers.get('x-cache'), body: (await response.json()) as { data?: SchemaAnswer; errors?: unknown[] } };
    }

    it('report Redis in /ready', async () => {
      for (const instance of [a, b])
        expect(await (await fetch(`${instance.address}/ready`)).json()).toEqual({ status: 'ready', sharedCache: 'in use' });
    });

    it('share answers: what one stored, the other serves', async () => {
      await post(b, PAGE, { slug: SLUG });
      expect((await post(b, PAGE, { slug: SLUG })).cache).toBe('MISS');
      expect((await post(a, PAGE, { slug: SLUG })).cache).toBe('HIT');
      expect((await post(b, PAGE, { slug: SLUG })).cache).toBe('HIT');
    });

    it('never let the other instance serve the old title once an edit through one has returned', async () => {
      for (const [writer, reader, title] of [
        [a, b, '从甲改的标题'],
        [b, a, '从乙改的标题'],
        [a, b, '再从甲改的标题'],
      ] as const) {
        const before = (await post(reader, PAGE, { slug: SLUG })).body.data!.article;
        expect((await post(reader, PAGE, { slug: SLUG })).cache).toBe('HIT');
        const edit = await post(
          writer,
          `mutation($id: ID!, $v: Int!, $t: String!) { updateArticle(id: $id, expectedVersion: $v, input: { title: $t }) { article { title version } } }`,
          { id: before.id, v: before.version, t: title },
          token,
        );
        expect(edit.body.errors).toBeUndefined();
        expect((await post(reader, PAGE, { slug: SLUG })).body.data!.article).toMatchObject({ title, version: before.version + 1 });
        expect((await post(writer, PAGE, { slug: SLUG })).body.data!.article.title).toBe(title);
      }
    });

    it('share automatic persisted queries: registered on one, sent by hash to the other', async () => {
      const query = `query Persisted($slug: String!) { article(slug: $slug) { slug } }`;
      const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') } };
      const register = await fetch(`${a.address}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { slug: SLUG }, extensions }),
      });
      expect(((await register.json()) as { data: unknown }).data).toEqual({ article: { slug: SLUG } });
      const search = new URLSearchParams({ variables: JSON.stringify({ slug: SLUG }), extensions: JSON.stringify(extensions) });
      // Apollo stores a registration without awaiting it, so the answer can come back before the
      // write reaches Redis; a client told PersistedQueryNotFound sends the text again (the APQ
      // protocol). Here: ask b until the registration is there, for up to two seconds.
      let byHash: unknown;
      for (const deadline = Date.now() + 2_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        byHash = await (await fetch(`${b.address}/graphql?${search}`, { headers: { 'apollo-require-preflight': 'true' } })).json();
        if (!JSON.stringify(byHash).includes('PERSISTED_QUERY_NOT_FOUND')) break;
      }
      expect(byHash).toEqual({ data: { article: { slug: SLUG } } });
    });
  },
);

describe(`instances starting at once on a fresh ${TEST_STORE === 'postgres' ? 'PostgreSQL' : 'SQLite'} store`, () => {
  it('migrate it once and seed it once', async () => {
    const database = await createFreshDatabase();
    const started = await Promise.allSettled([1, 2, 3].map(() => startMainProcess({ DATABASE_URL: database.url })));
    try {
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
      for (const instance of started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))) {
        expect((await fetch(`${instance.address}/ready`)).status).toBe(200);
        const response = await fetch(`${instance.address}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ articles { totalCount } sections { slug } }' }),
        });
        // One seed article and one section tree, however many instances raced to create them.
        expect(await response.json()).toEqual({
          data: { articles: { totalCount: 1 }, sections: [{ slug: 'shouye' }, { slug: 'yuanchuang' }] },
        });
      }
    } finally {
      for (const outcome of started) {
        if (outcome.status === 'rejected') continue;
        outcome.value.child.kill('SIGTERM');
        await outcome.value.exited;
      }
      await database.drop();
    }
  }, 30_000);
});

describe.skipIf(TEST_STORE !== 'postgres')('the start-up lock on PostgreSQL', () => {
  it('is waited for however long another instance holds it, past PG_LOCK_TIMEOUT_MS', async () => {
    const testStore = await createTestStore({ seed: false });
    const url = process.env.TEST_DATABASE_URL!;
    const open = () =>
      openStore(
        { kind: 'postgres', url, poolSize: 2, statementTimeoutMs: 30_000, lockTimeoutMs: 100 },
        { searchPath: testStore.location.searchPath },
      );
    const [first, second] = [open(), open()];
    // The first instance seeds until the gate opens; the second starts meanwhile.
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    try {
      let firstHolds = () => {};
      const holding = new Promise<void>((resolve) => (firstHolds = resolve));
      const firstDone = first.withStartupLock(async () => {
        firstHolds();
        await gate;
        return 'first';
      });
      await holding;
      let secondRan = false;
      const secondDone = second.withStartupLock(async () => {
        secondRan = true;
        return 'second';
      });
      const early = await Promise.race([
        secondDone.then(
          () => 'finished',
          (error: Error) => `failed: ${error.message}`,
        ),
        sleep(500).then(() => 'waiting'),
      ]);
      // Five lock timeouts later the second is still waiting, neither failed nor run beside the first.
      expect({ early, secondRan }).toEqual({ early: 'waiting', secondRan: false });
      openGate();
      expect(await Promise.all([firstDone, secondDone])).toEqual(['first', 'second']);
    } finally {
      openGate();
      await Promise.all([first.close(), second.close()]);
      await testStore.close();
    }
  });
});
