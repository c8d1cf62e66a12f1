import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken, TokenStore } from '../src/auth/tokens.js';
import { type HttpTestServer, startHttpServer } from './helpers.js';

interface Body {
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

describe('request limits over HTTP', () => {
  let t: HttpTestServer;
  let url: string;
  beforeAll(async () => {
    t = await startHttpServer();
    url = t.url;
  });
  afterAll(() => t.close());

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text) as Body };
  };
  /** After every refusal the server must still answer an ordinary query. */
  const stillServes = async () => {
    const { status, body } = await post({ query: '{ articles(first: 1) { totalCount } }' });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { articles: { totalCount: 1 } } });
  };
  /** article → section → articles → nodes → section → …: the cycle a hostile client would use. */
  const nested = (rounds: number) =>
    `{ section(slug: "yuanchuang") { ${'articles(first: 1) { nodes { section { '.repeat(rounds)}name${' } } }'.repeat(rounds)} } }`;

  it('refuses a document nested deeper than 12 with 400 GRAPHQL_VALIDATION_FAILED', async () => {
    expect((await post({ query: nested(3) })).status).toBe(200); // depth 11
    const { status, body } = await post({ query: nested(7) }); // depth 23
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors?.[0]?.message).toMatch(/depth/i);
    await stillServes();
  });

  it('refuses more than 30 aliases and more than 50 directives', async () => {
    const aliases = `{ ${Array.from({ length: 31 }, (_, i) => `a${i}: sections { slug }`).join(' ')} }`;
    const directives = `{ sections { slug ${Array.from({ length: 51 }, () => '@include(if: true)').join(' ')} } }`;
    for (const query of [aliases, directives]) {
      const { status, body } = await post({ query });
      expect(status).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    expect((await post({ query: `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: sections { slug }`).join(' ')} }` })).status).toBe(200);
    await stillServes();
  });

  it('refuses a document of more than 2,000 tokens, or one that does not parse, with 400 GRAPHQL_PARSE_FAILED', async () => {
    const long = `{ sections { ${'slug '.repeat(2_100)} } }`;
    for (const query of [long, '{ articles(', '}}}}']) {
      const { status, body } = await post({ query });
      expect(status, query.slice(0, 20)).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    }
    await stillServes();
  });

  it('refuses an operation over the cost budget before touching the store, with the estimate and budget', async () => {
    const expensive = `query($n: Int) { articles(first: $n) { nodes { title related(kind: LATEST, first: 50) { title article { title } } } } }`;
    t.queries.length = 0;
    const { status, body } = await post({ query: expensive, variables: { n: 100 } });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', budget: 5000 });
    expect(body.errors?.[0]?.extensions?.cost).toBeGreaterThan(5000);
    expect(t.queries).toEqual([]);
    // The same shape with a small page is well within budget.
    const cheap = await post({ query: expensive, variables: { n: 2 } });
    expect(cheap.status).toBe(200);
    // Costs are remembered per document and page size, never across page sizes.
    expect((await post({ query: expensive, variables: { n: 100 } })).status).toBe(400);
    expect((await post({ query: expensive, variables: { n: 3 } })).status).toBe(200);
    await stillServes();
  });

  it('costs nodes by the number of ids, however they are passed', async () => {
    const NODES = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Article { related(kind: LATEST, first: 50) { title article { title } } } } }`;
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `gid://newsgraph/Article/${i + 1}`);
    t.queries.length = 0;
    const { status, body } = await post({ query: NODES, variables: { ids: ids(100) } });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', budget: 5000 });
    expect(t.queries).toEqual([]);
    expect((await post({ query: NODES, variables: { ids: ids(2) } })).status).toBe(200);
    // Remembered by the number of ids: a second long list with other ids is refused too.
    expect((await post({ query: NODES, variables: { ids: ids(100).reverse() } })).status).toBe(400);
    const inline = `{ nodes(ids: [${ids(100)
      .map((id) => `"${id}"`)
      .join(',')}]) { ... on Article { related(kind: LATEST, first: 50) { title } } } }`;
    expect((await post({ query: inline })).status).toBe(400);
    await stillServes();
  });

  it('refuses a body over 100 KB with 413 and a URL over 8 KB with 414', async () => {
    const big = await post({ query: `{ sections { slug } }`, variables: { padding: 'x'.repeat(110_000) } });
    expect(big.status).toBe(413);
    const longUrl = await fetch(`${url}?query=${encodeURIComponent('{ sections { slug } }')}&pad=${'x'.repeat(9_000)}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(longUrl.status).toBe(414);
    await stillServes();
  });

  it('refuses batches, mutations over GET and POSTs whose body is not JSON, and answers a GET with no special header', async () => {
    const batch = await post([{ query: '{ sections { slug } }' }, { query: '{ sections { name } }' }]);
    expect(batch.status).toBe(400);

    const getMutation = await fetch(`${url}?query=${encodeURIComponent('mutation { importPages(pages: []) { pages { status } } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(getMutation.status).toBe(405);

    // No cookies, so nothing for a cross-site GET to forge: a plain GET is answered (README, "Browsers and other origins").
    const simpleGet = await fetch(`${url}?query=${encodeURIComponent('{ sections { slug } }')}`);
    expect(simpleGet.status).toBe(200);
    const textPlain = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ sections { slug } }' }),
    });
    expect(textPlain.status).toBe(400);
    await stillServes();
  });
});

describe('per-client limit on refused requests', () => {
  let t: HttpTestServer;
  let editorToken: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-refusals-'));
    const tokensFile = join(dir, 'tokens.json');
    editorToken = await addToken(tokensFile, { name: 'night-desk', role: 'EDITOR' });
    // Behind a load balancer on loopback: X-Forwarded-For tells the clients apart.
    t = await startHttpServer({
      env: { MAX_REFUSALS_PER_MINUTE: '3', TRUST_PROXY: 'loopback' },
      tokens: await TokenStore.load(tokensFile),
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = async (client: string, body: unknown, authorization?: string) => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client, ...(authorization ? { authorization } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as Body };
  };
  const ok = { query: '{ articles(first: 1) { totalCount } }' };

  it('cuts a client off with 429 and Retry-After once it has caused the allowed number of refusals, and only that client', async () => {
    for (let i = 0; i < 3; i++) expect((await send('203.0.113.9', { query: '{ nope }' })).status).toBe(400);
    const cut = await send('203.0.113.9', ok);
    expect(cut.status).toBe(429);
    expect(Number(cut.retryAfter)).toBeGreaterThan(0);
    expect(Number(cut.retryAfter)).toBeLessThanOrEqual(60);
    expect(cut.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(cut.body.errors?.[0]?.message).toMatch(/too many refused requests/);
    // Another client behind the same proxy is not affected.
    expect(await send('198.51.100.20', ok)).toMatchObject({ status: 200, body: { data: { articles: { totalCount: 1 } } } });
  });

  it('never limits a client whose requests succeed, however many it sends', async () => {
    for (let i = 0; i < 40; i++) expect((await send('198.51.100.21', ok)).status).toBe(200);
  });

  it('stops a token guesser: failed token checks count, after which even the right token waits for the window', async () => {
    for (let i = 0; i < 3; i++) {
      const guess = await send('203.0.113.10', ok, `Bearer ${editorToken.slice(0, -4)}abcd`);
      expect(guess.status).toBe(401);
      expect(guess.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect((await send('203.0.113.10', ok, `Bearer ${editorToken}`)).status).toBe(429);
    expect((await send('198.51.100.22', ok, `Bearer ${editorToken}`)).status).toBe(200);
  });
});
