import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken, TokenStore } from '../src/auth/tokens.js';
import { serverCommand } from '../src/tools/bench/server-command.js';
import { type HttpTestServer, startHttpServer, startMainProcess, TEST_STORE } from './helpers.js';

const ARTICLES = '{ articles(first: 1) { totalCount nodes { title section { name } } } }';

describe('over HTTP (Fastify)', () => {
  let t: HttpTestServer;
  let url: string;
  beforeAll(async () => {
    t = await startHttpServer();
    url = t.url;
  });
  afterAll(() => t.close());

  it('answers a POSTed query with JSON', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ARTICLES }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    expect(await response.json()).toEqual({
      data: {
        articles: {
          totalCount: 1,
          nodes: [{ title: '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始', section: { name: '原创' } }],
        },
      },
    });
  });

  it('answers a GET query with no header of its own', async () => {
    const response = await fetch(`${url}?query=${encodeURIComponent('{ sections { slug } }')}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { sections: [{ slug: 'shouye' }, { slug: 'yuanchuang' }] } });
  });

  it('reports bad input as a 200 with a BAD_USER_INPUT error, and a broken query as a 400', async () => {
    const post = (query: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const bad = await post('{ articles(first: 1000) { totalCount } }');
    expect(bad.status).toBe(200);
    const body = (await bad.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const broken = await post('{ articles(');
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as typeof body).errors[0]?.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('serves Apollo Sandbox as the landing page in development', async () => {
    const response = await fetch(url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(await response.text()).toContain('embeddable-sandbox');
  });
});

describe('npm start (the process entry)', () => {
  it('migrates and seeds a fresh store, serves it, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'newsgraph-main-'));
    const tokensFile = join(dir, 'tokens.json');
    const token = await addToken(tokensFile, { name: 'logger-check', role: 'EDITOR' });
    const main = await startMainProcess({ DATABASE_URL: `sqlite:${dir}/fresh.db`, NEWSGRAPH_TOKENS_FILE: tokensFile });
    try {
      const { child, address } = main;
      expect(main.output()).toContain('seeded an empty store');
      const response = await fetch(`${address}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: ARTICLES }),
      });
      expect(((await response.json()) as { data: { articles: { totalCount: number } } }).data.articles.totalCount).toBe(1);
      // An editor's request, with a good token and a bad one: neither token reaches the log.
      for (const header of [`Bearer ${token}`, `Bearer ${token.slice(0, -3)}abc`]) {
        await fetch(`${address}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: header },
          body: JSON.stringify({ query: ARTICLES }),
        });
      }
      await fetch(`${address}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query LogCheck { sections { slug } }' }),
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const output = main.output();
      expect(output).toContain('"url":"/graphql"');
      // One structured line per GraphQL request, with its request id, operation, status and duration.
      const line = output.split('\n').find((l) => l.includes('"operation":"LogCheck"'));
      expect(JSON.parse(line ?? '{}')).toMatchObject({
        msg: 'graphql request',
        status: 200,
        reqId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(JSON.parse(line ?? '{}').durationMs).toEqual(expect.any(Number));
      expect(output).not.toContain(token.slice(13));

      child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
    } finally {
      main.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // It builds dist/ and runs on its own SQLite file: once is enough, and the two halves building
  // at the same time would write the same files.
  it.skipIf(TEST_STORE === 'postgres')(
    'runs from the bundle npm run build makes, started anywhere, finding its schema, seed and dictionaries',
    async () => {
      const { command, args } = serverCommand(); // builds dist/, and reads package.json's start script
      const root = fileURLToPath(new URL('..', import.meta.url));
      const dir = mkdtempSync(join(tmpdir(), 'newsgraph-bundle-'));
      const main = await startMainProcess(
        { DATABASE_URL: `sqlite:${dir}/fresh.db`, SEED_PATH: join(root, 'data/pages') },
        { args: args.map((arg) => (arg.startsWith('-') ? arg : resolve(root, arg))), cwd: dir },
      );
      try {
        expect(command).toBe(process.execPath);
        expect(args.at(-1)).toBe('dist/newsgraph.mjs');
        expect(main.output()).toContain('seeded an empty store');
        // A search loads the segmenter and the newsroom dictionary, which holds 元宇宙.
        const response = await fetch(`${main.address}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ search(query: "元宇宙") { totalCount nodes { article { title } } } }' }),
        });
        const body = (await response.json()) as {
          data?: { search: { totalCount: number; nodes: { article: { title: string } }[] } };
          errors?: unknown;
        };
        expect(body.errors).toBeUndefined();
        expect(body.data?.search.totalCount).toBe(1);
        expect(body.data?.search.nodes[0]?.article.title).toContain('元宇宙');
        main.child.kill('SIGTERM');
        expect(await main.exited).toBe(0);
      } finally {
        main.child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      }
      // On a clean clone this compiles all of src/ and bundles it, beside the rest of the suite on two cores.
    },
    120_000,
  );

  it('refuses to start with a DATABASE_URL it cannot use, saying why', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DATABASE_URL: 'mysql://localhost/newsgraph' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('DATABASE_URL must start with sqlite: (for example sqlite:var/newsgraph.db) or postgres://');
  });
});

describe('editor tokens over HTTP', () => {
  let t: HttpTestServer;
  let tokensDir: string;
  let url: string;
  let editor: string;
  let admin: string;
  beforeAll(async () => {
    tokensDir = mkdtempSync(join(tmpdir(), 'newsgraph-tokens-'));
    const tokensFile = join(tokensDir, 'tokens.json');
    editor = await addToken(tokensFile, { name: 'night-desk', role: 'EDITOR' });
    admin = await addToken(tokensFile, { name: 'chief', role: 'ADMIN' });
    t = await startHttpServer({ tokens: await TokenStore.load(tokensFile) });
    url = t.url;
  });
  afterAll(async () => {
    await t.close();
    rmSync(tokensDir, { recursive: true, force: true });
  });

  const post = (query: string, token?: string, variables: Record<string, unknown> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: token }) },
      body: JSON.stringify({ query, variables }),
    });
  const CREATE_SECTION = `mutation { createSection(input: { name: "国际", parent: "1" }) { section { slug } } }`;

  it('answers a mutation without a token with 401 UNAUTHENTICATED', async () => {
    const response = await post(CREATE_SECTION);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a token that does not verify with 401, even for a query', async () => {
    for (const header of [`Bearer ${editor.slice(0, -2)}xx`, 'Bearer nonsense', 'Basic dXNlcjpwYXNz', editor]) {
      const response = await post('{ sections { slug } }', header);
      expect(response.status, header.slice(0, 12)).toBe(401);
    }
  });

  it("answers a section change with an editor's token with 403 FORBIDDEN, and an admin's with the section", async () => {
    const forbidden = await post(CREATE_SECTION, `Bearer ${editor}`);
    expect(forbidden.status).toBe(403);
    const allowed = await post(CREATE_SECTION, `Bearer ${admin}`);
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toEqual({ data: { createSection: { section: { slug: 'guoji' } } } });
  });

  it('marks every response to an editor as private, and leaves public answers cacheable', async () => {
    const asEditor = await post('{ articles(preview: true) { totalCount } }', `Bearer ${editor}`);
    expect(asEditor.status).toBe(200);
    expect(asEditor.headers.get('cache-control')).toBe('private, no-store');
    const publicAnswer = await post('{ articles { totalCount } }');
    expect(publicAnswer.headers.get('cache-control')).not.toBe('private, no-store');
  });
});
