import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '../src/auth/tokens.js';
import { type MainProcess, pageText, type SchemaAnswer, startMainProcess } from './helpers.js';

const run = promisify(execFile);

// The SQLite store on a disk that fills up, and on one mounted read-only: real server processes on
// a small tmpfs of their own. Mounting needs root (or CAP_SYS_ADMIN), which CI and this kind of
// machine have; elsewhere these tests are skipped, and say so.

/** Whether this machine lets the tests mount a tmpfs: tried once, on a throwaway folder. */
function canMountTmpfs(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'newsgraph-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MOUNTABLE = canMountTmpfs();
if (!MOUNTABLE) console.warn('\n  sqlite-faults SKIPPED: mounting a tmpfs was refused (these tests need root or CAP_SYS_ADMIN).\n');

/** A fresh 8 MB tmpfs; `release` unmounts it (lazily, should anything still hold it) and removes the folder. */
function mountTmpfs(prefix: string): { dir: string; release(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]);
  return {
    dir,
    release() {
      execFileSync('umount', ['-l', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes zeros to `path` until the disk has no room left; returns the bytes written. */
function fillDisk(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(4096);
  let written = 0;
  try {
    // 8 MB is 2,048 chunks; the bound only keeps a disk that never fills from hanging the test.
    for (let i = 0; i < 10_000; i++) {
      try {
        written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return written;
        throw error;
      }
    }
    throw new Error(`${path}: the disk did not fill after ${written} bytes`);
  } finally {
    closeSync(fd);
  }
}

/** The names and contents of every file in `dir`, as one hash. */
function folderChecksum(dir: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort())
    hash
      .update(name)
      .update('\0')
      .update(readFileSync(join(dir, name)))
      .update('\0');
  return hash.digest('hex');
}

/** The process's output once it holds `text`, or as it is after two seconds. */
async function outputContaining(instance: MainProcess, text: string): Promise<string> {
  for (let i = 0; i < 40 && !instance.output().includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return instance.output();
}

/**
 * Stops a server as production does (SIGTERM) and resolves with its exit code. main.ts handles
 * SIGTERM only from its "GraphQL at" line on, a moment after Fastify's "Server listening"
 * (which is when `startMainProcess` resolves); one sent earlier would kill it outright.
 */
async function stop(instance: MainProcess | undefined): Promise<number | null | undefined> {
  if (!instance || instance.child.exitCode !== null) return instance?.child.exitCode;
  await outputContaining(instance, '"msg":"GraphQL at ');
  process.kill(instance.child.pid!, 'SIGTERM');
  return instance.exited;
}

interface GraphQLBody {
  data?: SchemaAnswer;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function post(instance: MainProcess, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const response = await fetch(`${instance.address}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLBody;
  return { status: response.status, body, text: JSON.stringify(body) };
}

/** The id of the first section the server lists. */
async function sectionOf(instance: MainProcess): Promise<string> {
  const sections = await post(instance, `{ sections { id slug } }`);
  expect(sections.body.errors, sections.text).toBeUndefined();
  return sections.body.data!.sections[0]!.id;
}

/** The shipped seed page's article. */
const SEED_SLUG = '20230423-7c45cae95cf3';
const PUBLIC_READ = `query Read($slug: String!) { article(slug: $slug) { title } articles { totalCount } sections { slug } }`;
const CREATE = `mutation Create($input: CreateArticleInput!) { createArticle(input: $input) { article { id slug } } }`;
const BY_ID = `query ById($id: ID!) { article(id: $id, preview: true) { id slug title } }`;

/** An article of about 60 KB (under the request body limit), more than any room SQLite might have in hand on a full disk. */
function draft(n: number, sectionId: string) {
  return {
    title: `满盘测试 ${n}`,
    slug: `disk-full-${n}`,
    section: sectionId,
    body: [{ paragraph: `磁盘已满时的写入。${'满'.repeat(20_000)}` }],
  };
}

describe('the SQLite store on a disk that fills up', () => {
  let disk: { dir: string; release(): void } | undefined;
  let scratch: string;
  let env: Record<string, string>;
  let token: string;
  let server: MainProcess | undefined;
  beforeAll(async () => {
    if (!MOUNTABLE) return;
    scratch = mkdtempSync(join(tmpdir(), 'newsgraph-full-'));
    disk = mountTmpfs('newsgraph-full-disk-');
    const tokensFile = join(scratch, 'tokens.json');
    token = await addToken(tokensFile, { name: 'night-desk', role: 'EDITOR' });
    // No response cache: every read below reaches the store.
    env = {
      DATABASE_URL: `sqlite:${join(disk.dir, 'newsgraph.db')}`,
      NEWSGRAPH_TOKENS_FILE: tokensFile,
      RESPONSE_CACHE_MB: '0',
      SECTION_CACHE_RECORDS: '0',
    };
    server = await startMainProcess(env);
  }, 30_000);
  afterAll(async () => {
    await stop(server);
    disk?.release();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it.skipIf(!MOUNTABLE)(
    'refuses writes with STORE_FULL and the real cause (the importer too), serves reads meanwhile, takes writes again once space returns, and loses nothing it acknowledged',
    async () => {
      const sectionId = await sectionOf(server!);
      const acknowledged: string[] = [];
      for (const n of [1, 2, 3]) {
        const created = await post(server!, CREATE, { input: draft(n, sectionId) }, token);
        expect(created.status, created.text).toBe(200);
        expect(created.body.errors, created.text).toBeUndefined();
        acknowledged.push(created.body.data!.createArticle.article.id);
      }

      const filler = join(disk!.dir, 'filler');
      fillDisk(filler);
      const refused = await post(server!, CREATE, { input: draft(4, sectionId) }, token);
      expect(refused.status, refused.text).toBe(503);
      expect(refused.body.errors?.[0]?.extensions?.code, refused.text).toBe('STORE_FULL');
      // The log line may follow the response by a moment.
      const log = await outputContaining(server!, 'SQLITE_FULL');
      expect(log).toContain('SQLITE_FULL');
      expect(log).not.toContain('cannot rollback');

      // The importer says so too, naming the file it stopped at.
      const page = join(scratch, 'page.txt');
      writeFileSync(page, pageText({ title: '满盘导入', time: '2023-05-02 09:00:00', paragraphs: ['满'.repeat(20_000)] }));
      const imported = await run(process.execPath, ['--import', 'tsx', 'src/ingest/cli.ts', page], {
        env: { ...process.env, ...env },
      }).then(
        () => null,
        (error: { code: number; stderr: string }) => error,
      );
      expect(imported?.code, imported?.stderr).toBe(1);
      expect(imported?.stderr).toContain(
        `${page}: the disk the store is on is full (SQLITE_FULL: database or disk is full); nothing of it was written`,
      );

      const read = await post(server!, PUBLIC_READ, { slug: SEED_SLUG });
      expect(read.status, read.text).toBe(200);
      expect(read.body.errors, read.text).toBeUndefined();
      expect(read.body.data!.article.title, read.text).toBeTruthy();
      for (const id of acknowledged) {
        const found = await post(server!, BY_ID, { id }, token);
        expect(found.body.data?.article?.id, found.text).toBe(id);
      }

      rmSync(filler);
      // The same article again: the refused attempt left nothing behind, not even its slug.
      const retried = await post(server!, CREATE, { input: draft(4, sectionId) }, token);
      expect(retried.status, retried.text).toBe(200);
      expect(retried.body.errors, retried.text).toBeUndefined();
      acknowledged.push(retried.body.data!.createArticle.article.id);

      // Everything acknowledged is in the store, as a new process finds it.
      expect(await stop(server), server!.output()).toBe(0);
      server = await startMainProcess(env);
      for (const [i, id] of acknowledged.entries()) {
        const found = await post(server, BY_ID, { id }, token);
        expect(found.body.data?.article, found.text).toEqual({ id, slug: `disk-full-${i + 1}`, title: `满盘测试 ${i + 1}` });
      }
    },
    // Two server starts and an import, each compiling TypeScript on start.
    90_000,
  );
});

describe('the SQLite store on a read-only mount', () => {
  let disk: { dir: string; release(): void } | undefined;
  let scratch: string;
  let builder: MainProcess | undefined;
  let server: MainProcess | undefined;
  beforeAll(async () => {
    if (!MOUNTABLE) return;
    scratch = mkdtempSync(join(tmpdir(), 'newsgraph-read-only-'));
    disk = mountTmpfs('newsgraph-read-only-disk-');
  });
  afterAll(async () => {
    await stop(builder);
    await stop(server);
    disk?.release();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it.skipIf(!MOUNTABLE)(
    'starts, answers /ready with writes refused, serves reads, refuses writes with STORE_READ_ONLY and changes nothing, and takes writes again once the mount is writable',
    async () => {
      const tokensFile = join(scratch, 'tokens.json');
      const token = await addToken(tokensFile, { name: 'night-desk', role: 'EDITOR' });
      const env = { DATABASE_URL: `sqlite:${join(disk!.dir, 'newsgraph.db')}`, NEWSGRAPH_TOKENS_FILE: tokensFile };
      // A store migrated and seeded by a server that then stopped as it does in production.
      builder = await startMainProcess(env);
      expect(await stop(builder), builder.output()).toBe(0);
      execFileSync('mount', ['-o', 'remount,ro', disk!.dir]);
      const before = folderChecksum(disk!.dir);

      server = await startMainProcess(env);
      expect(await outputContaining(server, 'store is read-only')).toContain('"msg":"store is read-only: writes are refused"');
      const ready = await fetch(`${server.address}/ready`);
      const readyBody = await ready.json();
      expect(ready.status, JSON.stringify(readyBody)).toBe(200);
      expect(readyBody).toEqual({ status: 'ready', writes: 'refused', reason: expect.stringContaining('read-only') });

      const read = await post(server, PUBLIC_READ, { slug: SEED_SLUG });
      expect(read.status, read.text).toBe(200);
      expect(read.body.errors, read.text).toBeUndefined();
      expect(read.body.data!.articles.totalCount, read.text).toBe(1);
      expect(read.body.data!.article.title, read.text).toBeTruthy();

      const refused = await post(server, CREATE, { input: draft(1, await sectionOf(server)) }, token);
      expect(refused.status, refused.text).toBe(503);
      expect(refused.body.errors?.[0]?.extensions?.code, refused.text).toBe('STORE_READ_ONLY');

      expect(folderChecksum(disk!.dir)).toBe(before);

      // The mount turns writable again: writes are taken again, with no restart.
      execFileSync('mount', ['-o', 'remount,rw', disk!.dir]);
      let saved: Awaited<ReturnType<typeof post>> | null = null;
      for (let attempt = 0; attempt < 50 && saved?.status !== 200; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        saved = await post(server, CREATE, { input: draft(2, await sectionOf(server)) }, token);
      }
      expect(saved?.status, saved?.text).toBe(200);
      expect(saved?.body.errors, saved?.text).toBeUndefined();
      expect(await (await fetch(`${server.address}/ready`)).json()).toEqual({ status: 'ready' });
      expect(await stop(server), server.output()).toBe(0);
    },
    60_000,
  );
});
