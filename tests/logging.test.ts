import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContentStore } from '../src/data/store.js';
import { StandardOutputLog } from '../src/logging.js';
import { type HttpTestServer, startHttpServer } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a standard output nobody reads', () => {
  it('does not stop the server answering, nor SIGTERM ending it within SHUTDOWN_TIMEOUT_MS + 1 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newsgraph-stall-'));
    // Its standard output is a FIFO this test holds open and stops reading: once the pipe's 64 KiB
    // are full, every write to it would wait, as with a log collector that stopped reading.
    const fifo = join(dir, 'stdout');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    // A second writer that never waits. A write of PIPE_BUF (4 KiB) bytes or fewer is all or
    // nothing, so this one fails with EAGAIN when the pipe has no room for a 4 KiB line, and every
    // line the server writes here is longer than that.
    const probe = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const pipeIsFull = () => {
      try {
        writeSync(probe, `${' '.repeat(4095)}\n`);
        return false;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return true;
        throw error;
      }
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      stdio: ['ignore', writer, 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        DATABASE_URL: `sqlite:${join(dir, 'newsgraph.db')}`,
        SHUTDOWN_TIMEOUT_MS: '1000',
        // Every request reaches Fastify and Apollo, so every request writes its log lines.
        RESPONSE_CACHE_MB: '0',
        MAX_REFUSALS_PER_MINUTE: '0',
      },
    });
    closeSync(writer);
    let stderr = '';
    assert(child.stderr, 'spawned with its stderr a pipe');
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.on('exit', (code) => resolve({ code, at: performance.now() })),
    );
    try {
      // Read standard output only until the server says where it listens; never again after that.
      let output = '';
      let address: string | null = null;
      const buffer = Buffer.alloc(65_536);
      for (const giveUpAt = performance.now() + 25_000; address === null && performance.now() < giveUpAt && child.exitCode === null; ) {
        try {
          output += buffer.toString('utf8', 0, readSync(reader, buffer));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          await sleep(20);
        }
        address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? null;
      }
      if (address === null) throw new Error(`the server did not start:\n${output}\n${stderr}`);

      // Each request logs its URL (about 6 KB here) in Fastify's "incoming request" line.
      const url = `${address}/graphql?padding=${'x'.repeat(6000)}`;
      const ask = async () => {
        const started = performance.now();
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ articles(first: 1) { totalCount } }' }),
          signal: AbortSignal.timeout(5000),
        });
        const body = await response.text();
        expect(response.status, body).toBe(200);
        expect(JSON.parse(body)).toEqual({ data: { articles: { totalCount: 1 } } });
        return performance.now() - started;
      };
      const dropped = async () => {
        const text = await (await fetch(`${address}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
        return Number(/^newsgraph_log_lines_dropped_total (\d+)$/m.exec(text)?.[1] ?? 'NaN');
      };

      let sent = 0;
      for (const giveUpAt = performance.now() + 20_000; !pipeIsFull() && sent < 200 && performance.now() < giveUpAt; sent++) await ask();
      expect(pipeIsFull(), `the pipe is still not full after ${sent} requests`).toBe(true);
      // Past the pipe, the server holds up to 1 MiB of lines in memory, then drops them.
      const latencies: number[] = [];
      for (let more = 0; more < 400 && (more % 25 !== 0 || (await dropped()) === 0); more++) latencies.push(await ask());
      expect(await dropped()).toBeGreaterThan(0);
      for (let i = 0; i < 20; i++) latencies.push(await ask());
      expect(Math.max(...latencies), `slowest of ${latencies.length} requests with standard output stalled (ms)`).toBeLessThan(2000);
      expect(pipeIsFull()).toBe(true);

      const signalled = performance.now();
      child.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(5000).then(() => null)]);
      expect(exit, `still running 5 s after SIGTERM; stderr:\n${stderr}`).not.toBeNull();
      expect(exit!.at - signalled, 'ms from SIGTERM to exit').toBeLessThan(1000 + 1000);
      expect(exit!.code).toBe(0);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      await exited;
      closeSync(probe);
      closeSync(reader);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the log destination on standard output', () => {
  /** A stream whose reader never takes anything: every byte written stays queued. */
  const stalled = () => new Writable({ highWaterMark: 16, write: () => {} });

  it('queues up to its bound, then drops lines and counts them', async () => {
    const output = stalled();
    const log = new StandardOutputLog(output, 100);
    for (let i = 0; i < 5; i++) log.write(`${'x'.repeat(29)}\n`);
    expect(output.writableLength).toBe(90);
    expect(log.dropped).toBe(2);
    expect(await log.settle(50)).toBe(false);
  });

  it('drops everything, without failing, once its reader is gone', async () => {
    const output = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    const log = new StandardOutputLog(output);
    log.write('first\n');
    await sleep(10);
    log.write('second\n');
    expect(log.dropped).toBe(1);
    expect(await log.settle(50)).toBe(false);
  });

  it('settles at once when everything has been written', async () => {
    const written: string[] = [];
    const log = new StandardOutputLog(new Writable({ write: (chunk: Buffer, _encoding, done) => done(void written.push(String(chunk))) }));
    log.write('one line\n');
    expect(await log.settle(1000)).toBe(true);
    expect(written).toEqual(['one line\n']);
  });
});

describe('which requests get a log line', () => {
  /** The lines the server wrote, parsed. */
  const linesOf = (lines: string[]) =>
    lines
      .flatMap((text) => text.split('\n'))
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const collector = () => {
    const lines: string[] = [];
    return { lines, stream: new Writable({ write: (chunk: Buffer, _encoding, done) => done(void lines.push(String(chunk))) }) };
  };
  const SLOW_SLUG = 'slow-to-find';
  /** The test store, with lookups of SLOW_SLUG held for 1.2 s: a slow request on demand. */
  const slowForOneSlug = (store: ContentStore): ContentStore => {
    const served: Record<string, unknown> = {};
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
      const method: unknown = Reflect.get(store, name);
      if (name !== 'constructor' && typeof method === 'function') served[name] = method.bind(store);
    }
    served.findArticlesBySlugs = async (args: { slugs: readonly string[] }) => {
      if (args.slugs.includes(SLOW_SLUG)) await sleep(1200);
      return store.findArticlesBySlugs(args);
    };
    return served as unknown as ContentStore;
  };
  const post = async (t: HttpTestServer, query: string, operationName?: string) => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, operationName }),
    });
    return { status: response.status, body: await response.text() };
  };

  describe('in production with LOG_REQUESTS=0', () => {
    let t: HttpTestServer;
    const log = collector();
    beforeAll(async () => {
      t = await startHttpServer({
        env: { NODE_ENV: 'production', LOG_LEVEL: 'info', LOG_REQUESTS: '0', LOG_SLOW_MS: '1000', RESPONSE_CACHE_MB: '0' },
        logStream: log.stream,
        serve: slowForOneSlug,
      });
    });
    afterAll(() => t.close());

    it('logs no ordinary request, every request with errors, and a slow one at warn', async () => {
      const ordinary = await post(t, '{ articles(first: 1) { totalCount } }');
      expect(ordinary.status, ordinary.body).toBe(200);
      // Named in the body, as clients do: a document that fails validation names no operation itself.
      const broken = await post(t, 'query Broken { articles(first: 1) { noSuchField } }', 'Broken');
      expect(broken.status, broken.body).toBe(400);
      const slow = await post(t, `query Slow { article(slug: "${SLOW_SLUG}") { title } }`);
      expect(slow.status, slow.body).toBe(200);
      const unreadable = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
      expect(unreadable.status).toBe(400);
      expect((await fetch(`${t.base}/no-such-route`)).status).toBe(404);

      const lines = linesOf(log.lines);
      // Fastify's own per-request lines are off in production.
      expect(
        lines.filter((line) => line.msg === 'incoming request' || line.msg === 'request completed' || /not found/.test(String(line.msg))),
      ).toEqual([]);
      // Fastify's own line about a request it refused stays.
      expect(lines.filter((line) => line.err !== undefined)).toEqual([expect.objectContaining({ level: 30, res: { statusCode: 400 } })]);
      const requests = lines.filter((line) => typeof line.msg === 'string' && line.msg.endsWith('graphql request'));
      expect(requests).toHaveLength(2);
      expect(requests[0]).toMatchObject({ level: 30, msg: 'graphql request', operation: 'Broken', status: 400, errors: 1 });
      expect(requests[1]).toMatchObject({
        level: 40,
        msg: 'slow graphql request',
        operation: 'Slow',
        status: 200,
        errors: 0,
        slowMs: 1000,
      });
      expect(requests[1]!.durationMs).toBeGreaterThanOrEqual(1000);
      expect(typeof requests[1]!.reqId).toBe('string');
    });
  });

  describe('outside production, by default', () => {
    let t: HttpTestServer;
    const log = collector();
    beforeAll(async () => {
      t = await startHttpServer({ env: { NODE_ENV: 'development', LOG_LEVEL: 'info', RESPONSE_CACHE_MB: '0' }, logStream: log.stream });
    });
    afterAll(() => t.close());

    it("logs every request: Fastify's two lines and the GraphQL line, never the Authorization header", async () => {
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
        body: JSON.stringify({ query: 'query Ordinary { articles(first: 1) { totalCount } }' }),
      });
      expect(response.status).toBe(401);
      await post(t, 'query Ordinary { articles(first: 1) { totalCount } }');
      const lines = linesOf(log.lines);
      const incoming = lines.filter((line) => line.msg === 'incoming request');
      expect(incoming).toHaveLength(2);
      expect(JSON.stringify(incoming)).not.toContain('not-a-token');
      expect(lines.filter((line) => line.msg === 'request completed')).toHaveLength(2);
      expect(lines.filter((line) => line.msg === 'graphql request')).toEqual([
        expect.objectContaining({ level: 30, operation: 'Ordinary', status: 200, errors: 0 }),
      ]);
    });
  });
});
