import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '../src/auth/tokens.js';
import { createFreshDatabase, type MainProcess, startMainProcess } from './helpers.js';

// CORS as a real browser enforces it: headless Chromium (Debian's `chromium`, never a downloaded
// build) loads a page from one loopback port and calls newsgraph, a server process of its own, on
// another. The browser sends its own preflights and decides what the page may read.

/** The installed Chromium, or null. */
function chromiumPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const CHROMIUM = chromiumPath();
if (!CHROMIUM) {
  console.warn('\n  tests/browser.test.ts SKIPPED: chromium is not installed (apt-get install -y chromium).\n');
}

/** A page origin: a tiny server on its own loopback port, serving one empty page. */
async function startPageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_, response) => {
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>portal page</title><p>portal page</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** What the page's own fetch made of a call: the status and body it could read, or the error it rejected with. */
type Outcome = { ok: true; status: number; body: unknown; cache: string | null; retryAfter: string | null } | { ok: false; error: string };

/** Runs `fetch(url, init)` inside the page, as the page's own script would. */
function fetchFromPage(
  page: Page,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; cache?: 'no-store' },
): Promise<Outcome> {
  return page.evaluate(
    async (url, init) => {
      try {
        const response = await fetch(url, init);
        return {
          ok: true as const,
          status: response.status,
          body: await response.json(),
          cache: response.headers.get('x-cache'),
          retryAfter: response.headers.get('retry-after'),
        };
      } catch (error) {
        return { ok: false as const, error: String(error) };
      }
    },
    url,
    init,
  );
}

const HEADLINE = 'query BrowserHeadline { articles(first: 1) { nodes { title } } }';
/** What urql sends with a GET: Accept alone, so the browser sends it without a preflight. */
const URQL_ACCEPT = 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';

describe.skipIf(CHROMIUM === null)('a real browser (headless Chromium) on an allowed and a refused origin', () => {
  let browser: Browser;
  let main: MainProcess;
  let allowedPage: { server: Server; origin: string };
  let refusedPage: { server: Server; origin: string };
  let dir: string;
  let dropDatabase: () => Promise<void>;
  let token: string;
  let api: string;

  beforeAll(async () => {
    allowedPage = await startPageServer();
    refusedPage = await startPageServer();
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-browser-'));
    const tokensFile = join(dir, 'tokens.json');
    token = await addToken(tokensFile, { name: 'browser-desk', role: 'EDITOR' });
    const database = await createFreshDatabase();
    dropDatabase = database.drop;
    // Production, so nothing is allowed but what CORS_ORIGINS lists: the allowed page's origin alone.
    main = await startMainProcess({
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      NEWSGRAPH_TOKENS_FILE: tokensFile,
      CORS_ORIGINS: allowedPage.origin,
    });
    api = `${main.address}/graphql`;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--headless=new', '--no-sandbox', '--disable-gpu'],
      userDataDir: join(dir, 'profile'),
    });
  }, 60_000);

  afterAll(async () => {
    const chromium = browser?.process();
    await browser?.close().catch(() => chromium?.kill('SIGKILL'));
    main?.child.kill('SIGTERM');
    await main?.exited;
    await Promise.all([allowedPage, refusedPage].map((page) => page && new Promise((resolve) => page.server.close(resolve))));
    await dropDatabase?.();
    rmSync(dir, { recursive: true, force: true });
  });

  async function openPage(origin: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  it('lets a page on the allowed origin POST and GET queries, read x-cache, and run a mutation with a bearer token', async () => {
    const page = await openPage(allowedPage.origin);
    try {
      // A JSON POST: the browser sends a preflight first.
      const post = await fetchFromPage(page, api, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: HEADLINE }),
      });
      expect(post).toMatchObject({
        ok: true,
        status: 200,
        body: { data: { articles: { nodes: [{ title: expect.stringMatching(/元宇宙/) }] } } },
      });

      // urql's GET, three times: the document has been seen, so it is kept (MISS), then the cache's edge answers (HIT).
      // `no-store` keeps the browser's own HTTP cache (max-age=60) out of it, so each GET reaches newsgraph.
      const caches: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const get = await fetchFromPage(page, `${api}?${new URLSearchParams({ query: HEADLINE })}`, {
          headers: { accept: URQL_ACCEPT },
          cache: 'no-store',
        });
        expect(get).toMatchObject({
          ok: true,
          status: 200,
          body: { data: { articles: { nodes: [{ title: expect.stringMatching(/元宇宙/) }] } } },
        });
        if (get.ok) caches.push(get.cache);
      }
      expect(caches).toEqual(['MISS', 'HIT', 'HIT']);

      // A mutation with an editor token: a preflight for authorization and content-type, then the POST.
      const { section } = (
        (await fetchFromPage(page, `${api}?${new URLSearchParams({ query: '{ section(slug: "yuanchuang") { id } }' })}`, {})) as {
          body: { data: { section: { id: string } } };
        }
      ).body.data;
      const mutation = await fetchFromPage(page, api, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { title status } } }',
          variables: {
            input: {
              title: '浏览器里写的稿件',
              section: section.id,
              body: [{ paragraph: '正文' }],
              credits: [{ role: 'WRITER', name: '小编' }],
            },
          },
        }),
      });
      expect(mutation).toEqual({
        ok: true,
        status: 200,
        body: { data: { createArticle: { article: { title: '浏览器里写的稿件', status: 'DRAFT' } } } },
        cache: null,
        retryAfter: null,
      });
    } finally {
      await page.close();
    }
  });

  it('keeps every answer from a page on a refused origin: its fetch rejects, POST and GET alike', async () => {
    const page = await openPage(refusedPage.origin);
    try {
      const post = await fetchFromPage(page, api, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: HEADLINE }),
      });
      const get = await fetchFromPage(page, `${api}?${new URLSearchParams({ query: HEADLINE })}`, { headers: { accept: URQL_ACCEPT } });
      for (const outcome of [post, get]) expect(outcome).toEqual({ ok: false, error: expect.stringMatching(/TypeError: Failed to fetch/) });
    } finally {
      await page.close();
    }
  });
});
