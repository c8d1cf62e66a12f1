// The part of issue 15's fault suite that fits in CI's time (the rest: npm run faults). Real
// dependencies, started by these tests on free ports and stopped by them: a PostgreSQL cluster of
// their own, redis-server, a TCP relay between instance A and Redis, tmpfs mounts. Needs root.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Instance,
  isRoot,
  mountTmpfs,
  onPath,
  type PostgresCluster,
  postgresBinDir,
  type RedisServer,
  startInstance,
  startPostgresCluster,
  startRedis,
  TcpRelay,
  writeEditorToken,
} from '../src/tools/faults/infra.js';
import {
  type Answer,
  createArticles,
  Ledger,
  measureRecovery,
  post,
  QUERIES,
  savedArticle,
  type Target,
  type TrackedArticle,
  warmUp,
} from '../src/tools/faults/workload.js';

const REQUEST_TIMEOUT_MS = 3_000;
/** Every read is answered or refused within the request deadline plus this. */
const READ_DEADLINE_MS = REQUEST_TIMEOUT_MS + 100;
const REDIS_TIMEOUT_MS = 250;
const REDIS_MARGIN_MS = 250;
/** Each instance serves reads and writes again within this of the dependency's return. */
const RECOVERY_MS = 1_000;
const HOOK_MS = 60_000;
/** How long these tests wait for any answer: long enough to see a late one, short enough to keep a failing run quick. */
const CLIENT_TIMEOUT_MS = READ_DEADLINE_MS + 2_000;

const missing = !isRoot()
  ? 'not running as root'
  : !postgresBinDir()
    ? 'the PostgreSQL server binaries are not installed (no postgresql-NN package)'
    : !onPath('redis-server')
      ? 'redis-server is not installed'
      : null;
if (missing) {
  console.warn(
    `\n  tests/faults.test.ts SKIPPED: ${missing}. These tests start a PostgreSQL cluster of their own as the postgres user, a redis-server and tmpfs mounts.\n`,
  );
}

const target = (instance: Instance): Target => ({ name: instance.name, address: instance.address });
const ms = (answer: Answer) => Math.round(answer.end - answer.start);
/** An answer as a failure message shows it: status, code, headers that matter, time, the whole body. */
const shown = (answer: Answer) =>
  `HTTP ${answer.status} ${answer.code ?? 'OK'} in ${ms(answer)} ms, x-cache ${answer.cache}, retry-after ${answer.retryAfter}\n${JSON.stringify(answer.body, null, 2)}`;
const titleIn = (answer: Answer) => (answer.body?.data?.article as { title?: string } | null | undefined)?.title;
const sleep = (time: number) => new Promise<void>((resolve) => setTimeout(resolve, time));

async function timedGet(url: string, timeoutMs = 5_000): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const status = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).then(
    (response) => response.status,
    () => 0,
  );
  return { status, ms: performance.now() - started };
}

/** Expects a refusal the client can act on: 503 with `code`, a Retry-After header, within the deadline plus 100 ms. */
function expectRefused(answer: Answer, code: string): void {
  expect({ status: answer.status, code: answer.code, retryAfter: answer.retryAfter !== null }, shown(answer)).toEqual({
    status: 503,
    code,
    retryAfter: true,
  });
  expect(ms(answer), shown(answer)).toBeLessThanOrEqual(READ_DEADLINE_MS);
}

describe.skipIf(missing !== null)('two instances over a PostgreSQL cluster and a Redis of their own, when those fail', () => {
  let cluster: PostgresCluster;
  let redis: RedisServer;
  let relay: TcpRelay;
  let dir: string;
  let token: string;
  const envOf: Record<'A' | 'B', Record<string, string>> = { A: {}, B: {} };
  const instances: Record<'A' | 'B', Instance | null> = { A: null, B: null };
  let page: TrackedArticle;
  let probes: [TrackedArticle, TrackedArticle];
  const ledger = new Ledger();
  const a = () => target(instances.A!);
  const b = () => target(instances.B!);

  beforeAll(async () => {
    [cluster, redis] = await Promise.all([startPostgresCluster(), startRedis()]);
    // A reaches Redis through a relay that can cut the link; B directly.
    relay = await TcpRelay.start({ port: redis.port });
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-faults-test-'));
    const tokensFile = join(dir, 'tokens.json');
    token = await writeEditorToken(tokensFile);
    const common = {
      DATABASE_URL: cluster.url,
      NEWSGRAPH_TOKENS_FILE: tokensFile,
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    };
    envOf.A = { ...common, REDIS_URL: relay.url('redis') };
    envOf.B = { ...common, REDIS_URL: redis.url };
    [instances.A, instances.B] = await Promise.all([startInstance(envOf.A, { name: 'A' }), startInstance(envOf.B, { name: 'B' })]);
    const [one, two, three] = await createArticles(a(), token, 3, 'faults-test');
    page = one!;
    probes = [two!, three!];
  }, HOOK_MS);

  afterAll(async () => {
    for (const instance of Object.values(instances)) {
      instance?.resumeDraining();
      await instance?.stop();
    }
    await relay?.close();
    await redis?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, HOOK_MS);

  // Whatever a test broke is mended before the next, so each test starts from running dependencies
  // and two running instances (a test that found an instance dead has already failed for it).
  beforeEach(async () => {
    redis.thaw();
    if (redis.pid() === null) await redis.start();
    if (relay.state !== 'open') await relay.restore();
    if (cluster.pid() === null) await cluster.start();
    for (const name of ['A', 'B'] as const) {
      if (instances[name]?.exit() !== null) instances[name] = await startInstance(envOf[name], { name });
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const ready = await Promise.all([a(), b()].map((one) => timedGet(`${one.address}/ready`, 1_000)));
      if (ready.every((answer) => answer.status === 200)) break;
      await sleep(100);
    }
  }, HOOK_MS);

  /** The page's current version and title, read past every cache. */
  async function refresh(article: TrackedArticle): Promise<void> {
    const answer = await post(a(), QUERIES.preview, { id: article.id }, { token });
    const current = answer.body?.data?.article as { version: number; title: string } | undefined;
    if (!current) throw new Error(`could not read article ${article.id}: ${shown(answer)}`);
    article.version = current.version;
    article.title = current.title;
  }

  it(
    'an instance rides through a PostgreSQL restart: no exit, reads refused with 503 STORE_UNAVAILABLE (and Retry-After) within deadline+100 ms while away, served again within 1 s of its return',
    async () => {
      await warmUp([a(), b()], [page]);
      let returnedAt = 0;
      await cluster.shutdown('fast');
      try {
        for (const instance of [a(), b()]) {
          // Reads that must reach the store: an editor's preview, and a public page no cache holds.
          expectRefused(
            await post(instance, QUERIES.preview, { id: page.id }, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
            'STORE_UNAVAILABLE',
          );
          expectRefused(
            await post(instance, QUERIES.articlePage, { slug: `no-such-page-${Date.now()}` }, { timeoutMs: CLIENT_TIMEOUT_MS }),
            'STORE_UNAVAILABLE',
          );
          const ready = await timedGet(`${instance.address}/ready`);
          expect(ready.status, `${instance.name} /ready while PostgreSQL is down`).toBe(503);
          expect(ready.ms).toBeLessThanOrEqual(1_000);
        }
      } finally {
        await cluster.start();
        returnedAt = performance.now();
      }
      const recovery = await measureRecovery(
        [
          { target: a(), article: probes[0], gone: () => instances.A?.exit() !== null },
          { target: b(), article: probes[1], gone: () => instances.B?.exit() !== null },
        ],
        token,
        ledger,
        returnedAt,
        { timeoutMs: 5_000 },
      );
      expect({ exits: [instances.A?.exit(), instances.B?.exit()] }).toEqual({ exits: [null, null] });
      expect(recovery.ms, JSON.stringify(recovery.perInstance)).not.toBeNull();
      expect(recovery.ms!, JSON.stringify(recovery.perInstance)).toBeLessThanOrEqual(RECOVERY_MS);
    },
    HOOK_MS,
  );

  it(
    'a long lock on articles: reads that need articles are refused with 503 STORE_UNAVAILABLE within deadline+100 ms, sections are answered meanwhile, and reads are served again within 1 s of its release',
    async () => {
      const locker = new pg.Client({ connectionString: cluster.url });
      await locker.connect();
      let releasedAt = 0;
      try {
        await locker.query(`SET lock_timeout = '10s'`);
        await locker.query('BEGIN');
        // The instances use the database's default schema.
        await locker.query('LOCK TABLE articles IN ACCESS EXCLUSIVE MODE');
        const [previewA, previewB, pageB, sectionsA, sectionsB] = await Promise.all([
          post(a(), QUERIES.preview, { id: page.id }, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
          post(b(), QUERIES.preview, { id: page.id }, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
          post(b(), QUERIES.articlePage, { slug: `no-such-page-${Date.now()}` }, { timeoutMs: CLIENT_TIMEOUT_MS }),
          post(a(), QUERIES.sections, {}, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
          post(b(), QUERIES.sections, {}, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
        ]);
        for (const refused of [previewA, previewB, pageB]) expectRefused(refused, 'STORE_UNAVAILABLE');
        for (const sections of [sectionsA, sectionsB]) {
          expect(sections.code, shown(sections)).toBeNull();
          expect(ms(sections), shown(sections)).toBeLessThanOrEqual(1_000);
        }
      } finally {
        await locker.query('COMMIT').catch(() => undefined);
        releasedAt = performance.now();
        await locker.end();
      }
      const recovery = await measureRecovery(
        [
          { target: a(), article: probes[0] },
          { target: b(), article: probes[1] },
        ],
        token,
        ledger,
        releasedAt,
        { timeoutMs: 5_000 },
      );
      expect(recovery.ms, JSON.stringify(recovery.perInstance)).not.toBeNull();
      expect(recovery.ms!, JSON.stringify(recovery.perInstance)).toBeLessThanOrEqual(RECOVERY_MS);
    },
    HOOK_MS,
  );

  it(
    'a frozen Redis never holds a read past REDIS_TIMEOUT_MS + margin and /ready answers within 1 s',
    async () => {
      await warmUp([a(), b()], [page]);
      redis.freeze();
      try {
        for (let round = 0; round < 3; round++) {
          for (const instance of [a(), b()]) {
            for (const answer of [
              await post(instance, QUERIES.articlePage, { slug: page.slug }, { timeoutMs: CLIENT_TIMEOUT_MS }),
              await post(instance, QUERIES.articleById, { id: page.id }, { timeoutMs: CLIENT_TIMEOUT_MS }),
            ]) {
              expect(answer.code, shown(answer)).toBeNull();
              expect(ms(answer), shown(answer)).toBeLessThanOrEqual(REDIS_TIMEOUT_MS + REDIS_MARGIN_MS);
            }
          }
        }
        for (const instance of [a(), b()]) {
          const ready = await timedGet(`${instance.address}/ready`);
          expect(ready.status, `${instance.name} /ready answered`).not.toBe(0);
          expect(ready.ms, `${instance.name} /ready with Redis frozen`).toBeLessThanOrEqual(1_000);
        }
      } finally {
        redis.thaw();
      }
      expect({ exits: [instances.A?.exit(), instances.B?.exit()] }).toEqual({ exits: [null, null] });
    },
    HOOK_MS,
  );

  it.each(['refuse', 'blackhole'] as const)(
    'a save through an instance cut off from Redis (%s) is acknowledged, and neither instance serves the old page after the mutation returned',
    async (mode) => {
      await refresh(page);
      // The test before froze Redis; each instance goes back to the shared cache by itself once it
      // answers again, within a few of its reconnect attempts. Bounded: 20 tries, 100 ms apart.
      let cached: Answer | undefined;
      for (let attempt = 0; attempt < 20 && cached?.cache !== 'HIT'; attempt++) {
        if (attempt > 0) await sleep(100);
        await warmUp([a(), b()], [page]);
        cached = await post(b(), QUERIES.articlePage, { slug: page.slug });
      }
      expect(cached!.cache, `the page is in the shared cache: ${shown(cached!)}`).toBe('HIT');
      const old = page.title;
      await relay.cut(mode);
      try {
        const title = `cut off (${mode}) ${Date.now()}`;
        const save = await post(
          a(),
          QUERIES.update,
          { id: page.id, v: page.version, input: { title } },
          { token, timeoutMs: CLIENT_TIMEOUT_MS },
        );
        const saved = savedArticle(save);
        expect(saved?.title, `the save through A: ${shown(save)}`).toBe(title);
        page.version = saved!.version;
        page.title = title;
        for (const instance of [b(), a()]) {
          for (const answer of [
            await post(instance, QUERIES.articlePage, { slug: page.slug }, { timeoutMs: CLIENT_TIMEOUT_MS }),
            await post(instance, QUERIES.articleById, { id: page.id }, { timeoutMs: CLIENT_TIMEOUT_MS }),
          ]) {
            expect(titleIn(answer), `${instance.name} after the save returned (the old title was "${old}"): ${shown(answer)}`).toBe(title);
          }
        }
      } finally {
        await relay.restore();
      }
      // And once the link is back, both still show the save.
      await sleep(200);
      for (const instance of [a(), b()]) {
        const answer = await post(instance, QUERIES.articlePage, { slug: page.slug }, { timeoutMs: CLIENT_TIMEOUT_MS });
        expect(titleIn(answer), `${instance.name} after the link returned: ${shown(answer)}`).toBe(page.title);
      }
      expect({ exits: [instances.A?.exit(), instances.B?.exit()] }).toEqual({ exits: [null, null] });
    },
    HOOK_MS,
  );
});

describe.skipIf(!isRoot())('one instance on SQLite on a disk that fails', () => {
  let dir: string;
  let tokensFile: string;
  let token: string;
  /** Why a tmpfs cannot be mounted here (some containers refuse even root), or null. */
  let mountRefused: string | null = null;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-faults-test-'));
    tokensFile = join(dir, 'tokens.json');
    token = await writeEditorToken(tokensFile);
    await mountTmpfs(1).then(
      (disk) => disk.unmount(),
      (error: Error) => {
        mountRefused = error.message.split('\n')[0] ?? 'mount failed';
        console.warn(`\n  tests/faults.test.ts: the tmpfs tests are SKIPPED: ${mountRefused}\n`);
      },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'a full disk refuses saves with 503 STORE_FULL, keeps serving reads, and takes saves again within 1 s of space returning',
    async (context) => {
      if (mountRefused) return context.skip(mountRefused);
      const disk = await mountTmpfs(32);
      let instance: Instance | null = null;
      try {
        instance = await startInstance({ DATABASE_URL: `sqlite:${join(disk.path, 'newsgraph.db')}`, NEWSGRAPH_TOKENS_FILE: tokensFile });
        const one = target(instance);
        const [article, probe] = (await createArticles(one, token, 2, 'full-disk')) as [TrackedArticle, TrackedArticle];
        await disk.fill();
        let returnedAt = 0;
        try {
          const body = [{ paragraph: 'a body too long for the space left '.repeat(1_500) }];
          const save = await post(
            one,
            QUERIES.update,
            { id: article.id, v: article.version, input: { body } },
            { token, timeoutMs: CLIENT_TIMEOUT_MS },
          );
          expectRefused(save, 'STORE_FULL');
          for (const read of [
            await post(one, QUERIES.articlePage, { slug: article.slug }, { timeoutMs: CLIENT_TIMEOUT_MS }),
            await post(one, QUERIES.preview, { id: article.id }, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
          ]) {
            expect(read.code, shown(read)).toBeNull();
            expect(ms(read), shown(read)).toBeLessThanOrEqual(READ_DEADLINE_MS);
          }
        } finally {
          disk.free();
          returnedAt = performance.now();
        }
        const recovery = await measureRecovery(
          [{ target: one, article: probe, gone: () => instance?.exit() !== null }],
          token,
          new Ledger(),
          returnedAt,
          { timeoutMs: 5_000 },
        );
        expect(instance.exit()).toBeNull();
        expect(recovery.ms, JSON.stringify(recovery.perInstance)).not.toBeNull();
        expect(recovery.ms!, JSON.stringify(recovery.perInstance)).toBeLessThanOrEqual(RECOVERY_MS);
      } finally {
        await instance?.stop();
        await disk.unmount();
      }
    },
    HOOK_MS,
  );

  it(
    'an instance starts on a read-only store, serves reads and refuses saves with 503 STORE_READ_ONLY',
    async (context) => {
      if (mountRefused) return context.skip(mountRefused);
      const disk = await mountTmpfs(32);
      const env = { DATABASE_URL: `sqlite:${join(disk.path, 'newsgraph.db')}`, NEWSGRAPH_TOKENS_FILE: tokensFile };
      let instance: Instance | null = null;
      try {
        const first = await startInstance(env, { name: 'setup' });
        const [article] = (await createArticles(target(first), token, 1, 'read-only').finally(() => first.stop())) as [TrackedArticle];
        await disk.remount('ro');
        instance = await startInstance(env, { name: 'read-only' });
        const one = target(instance);
        for (const read of [
          await post(one, QUERIES.articlePage, { slug: article.slug }, { timeoutMs: CLIENT_TIMEOUT_MS }),
          await post(one, QUERIES.preview, { id: article.id }, { token, timeoutMs: CLIENT_TIMEOUT_MS }),
          await post(one, QUERIES.latest, {}, { timeoutMs: CLIENT_TIMEOUT_MS }),
        ]) {
          expect(read.code, shown(read)).toBeNull();
          expect(ms(read), shown(read)).toBeLessThanOrEqual(READ_DEADLINE_MS);
        }
        const save = await post(
          one,
          QUERIES.update,
          { id: article.id, v: article.version, input: { title: '只读' } },
          { token, timeoutMs: CLIENT_TIMEOUT_MS },
        );
        expectRefused(save, 'STORE_READ_ONLY');
        expect(instance.exit()).toBeNull();
      } finally {
        await instance?.stop();
        await disk.remount('rw').catch(() => undefined);
        await disk.unmount();
      }
    },
    HOOK_MS,
  );

  it(
    'an instance whose standard output stops draining keeps answering within deadline+100 ms and exits within SHUTDOWN_TIMEOUT_MS of SIGTERM',
    async () => {
      const shutdownTimeoutMs = 2_000;
      const instance = await startInstance({
        DATABASE_URL: `sqlite:${join(dir, 'stdout.db')}`,
        NEWSGRAPH_TOKENS_FILE: tokensFile,
        LOG_REQUESTS: '1',
        SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
      });
      try {
        const one = target(instance);
        instance.stopDraining();
        // Enough logged requests to fill the pipe and this side's buffer several times over.
        const slow: Answer[] = [];
        const queue = Array.from({ length: 2_000 }, (_, i) => i);
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
              // With a token: past the response cache, so every request goes through the logged path.
              const answer = await post(one, QUERIES.preview, { id: String((next % 3) + 1) }, { token, timeoutMs: CLIENT_TIMEOUT_MS });
              if (answer.code !== null || ms(answer) > READ_DEADLINE_MS) {
                slow.push(answer);
                break;
              }
            }
          }),
        );
        expect(slow.map(shown).slice(0, 2), 'reads with standard output stalled').toEqual([]);
        const stopped = await instance.stop({ signal: 'SIGTERM', timeoutMs: shutdownTimeoutMs + 5_000 });
        expect({ killed: stopped.killed }, 'it exited by itself').toEqual({ killed: false });
        expect(stopped.ms).toBeLessThanOrEqual(shutdownTimeoutMs + 100);
      } finally {
        instance.resumeDraining();
        await instance.stop();
      }
    },
    HOOK_MS,
  );
});
