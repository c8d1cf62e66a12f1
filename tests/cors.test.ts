import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestServer, startHttpServer } from './helpers.js';

// The promises of the README's "Browsers and other origins", over real HTTP. Node's fetch does not
// enforce CORS, so these tests send any Origin and read every header; tests/browser.test.ts shows
// what a real browser makes of them.

const PORTAL = 'https://www.portal.example';
const LISTED = `${PORTAL}, https://*.portal.example, http://localhost:*`;
const HEADLINE = 'query CorsHeadline($slug: String!) { article(slug: $slug) { title } }';
const SLUG = '20230423-7c45cae95cf3';
/** What urql sends with a GET: Accept alone. */
const URQL_ACCEPT = 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The CORS and Vary headers of an answer, all of them, so a test compares the whole set. */
function corsOf({ headers }: Answer): Record<string, string | null> {
  const names = [
    'access-control-allow-origin',
    'access-control-allow-methods',
    'access-control-allow-headers',
    'access-control-allow-credentials',
    'access-control-expose-headers',
    'access-control-max-age',
    'vary',
  ];
  return Object.fromEntries(names.map((name) => [name, headers.get(name)]));
}

const preflight = (url: string, origin: string, client: string, method = 'POST') =>
  send(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization,content-type',
      'x-forwarded-for': client,
    },
  });

const postQuery = (url: string, headers: Record<string, string>, body = JSON.stringify({ query: HEADLINE, variables: { slug: SLUG } })) =>
  send(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

const getQuery = (url: string, headers: Record<string, string>, query = HEADLINE) =>
  send(`${url}?${new URLSearchParams({ query, variables: JSON.stringify({ slug: SLUG }) })}`, {
    headers: { accept: URQL_ACCEPT, ...headers },
  });

const ALLOWED_PREFLIGHT = (origin: string) => ({
  'access-control-allow-origin': origin,
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers':
    'accept, authorization, content-type, apollo-require-preflight, x-apollo-operation-name, apollographql-client-name, apollographql-client-version',
  'access-control-allow-credentials': null,
  'access-control-expose-headers': 'x-cache, retry-after, age',
  'access-control-max-age': '7200',
  vary: 'Origin',
});

/**
 * A server allowing the LISTED origins, with the refusal limit on (2 a minute) and loopback as
 * the proxy, so each test is a client of its own; `fastifySaw()` counts the requests that reached
 * Fastify (its "incoming request" log lines).
 */
async function startListedServer(): Promise<{ t: HttpTestServer; fastifySaw: () => number }> {
  let logText = '';
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => (logText += chunk));
  const t = await startHttpServer({
    env: { CORS_ORIGINS: LISTED, LOG_LEVEL: 'info', MAX_REFUSALS_PER_MINUTE: '2', TRUST_PROXY: 'loopback' },
    logStream: logs,
  });
  return { t, fastifySaw: () => logText.split('\n').filter((line) => line.includes('"incoming request"')).length };
}

describe('browsers on the origins CORS_ORIGINS lists', () => {
  let t: HttpTestServer;
  let fastifySaw: () => number;
  beforeAll(async () => {
    ({ t, fastifySaw } = await startListedServer());
  });
  afterAll(() => t.close());

  it('answers the preflight of every listed origin and pattern, before the refusal limit and never counted by it', async () => {
    const client = '198.51.100.10';
    for (const origin of [PORTAL, 'https://m.portal.example', 'https://a.b.portal.example', 'http://localhost:5173', 'http://localhost']) {
      const answer = await preflight(t.url, origin, client);
      expect(answer.status, origin).toBe(204);
      expect(corsOf(answer), origin).toEqual(ALLOWED_PREFLIGHT(origin));
    }
    // Five preflights from a client allowed two refusals: it is still served (and see the cut-off client below).
    expect((await postQuery(t.url, { origin: PORTAL, 'x-forwarded-for': client })).status).toBe(200);
  });

  it('refuses the preflight of any other origin with 403 and no allow headers, never counted as a refusal', async () => {
    const client = '198.51.100.11';
    const others = [
      'https://portal.example', // the pattern asks for a subdomain
      'http://www.portal.example', // another scheme
      'https://www.portal.example:8443', // another port
      'https://evilportal.example',
      'https://www.portal.example.evil.example',
      'http://127.0.0.1:5173',
      'null', // a sandboxed frame or a file
    ];
    for (const origin of others) {
      const answer = await preflight(t.url, origin, client);
      expect(answer.status, origin).toBe(403);
      expect(JSON.parse(answer.text).errors[0].extensions.code, origin).toBe('ORIGIN_NOT_ALLOWED');
      expect(JSON.parse(answer.text).errors[0].message).toContain(origin);
      expect(corsOf(answer), origin).toEqual({
        'access-control-allow-origin': null,
        'access-control-allow-methods': null,
        'access-control-allow-headers': null,
        'access-control-allow-credentials': null,
        'access-control-expose-headers': null,
        'access-control-max-age': null,
        vary: 'Origin',
      });
    }
    expect((await postQuery(t.url, { 'x-forwarded-for': client })).status).toBe(200);
  });

  it('gives an allowed origin its own allow header on every answer, errors included, and a refused one none', async () => {
    const client = { 'x-forwarded-for': '198.51.100.12' };
    const allowed = await postQuery(t.url, { origin: 'https://m.portal.example', ...client });
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.text).data.article.title).toMatch(/元宇宙/);
    expect(corsOf(allowed)).toEqual({
      'access-control-allow-origin': 'https://m.portal.example',
      'access-control-allow-methods': null,
      'access-control-allow-headers': null,
      'access-control-allow-credentials': null,
      'access-control-expose-headers': 'x-cache, retry-after, age',
      'access-control-max-age': null,
      vary: 'Origin',
    });
    // The server still answers a refused origin (curl could ask the same); the browser keeps it from the page.
    for (const headers of [{ origin: 'https://evilportal.example' }, {}] as Record<string, string>[]) {
      const answer = await postQuery(t.url, { ...headers, ...client });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      expect(answer.headers.get('access-control-expose-headers')).toBeNull();
      // A CDN must not hand this answer, without an allow header, to a page on an allowed origin.
      expect(answer.headers.get('vary')).toBe('Origin');
    }
    // Refusals a page must be able to read: a document that does not parse (400), a body over the limit (413).
    const broken = await postQuery(t.url, { origin: PORTAL, ...client }, JSON.stringify({ query: '{ article(' }));
    expect(broken.status).toBe(400);
    expect(broken.headers.get('access-control-allow-origin')).toBe(PORTAL);
    const tooBig = await postQuery(
      t.url,
      { origin: PORTAL, 'x-forwarded-for': '198.51.100.13' },
      JSON.stringify({ query: HEADLINE, variables: { padding: 'x'.repeat(110_000) } }),
    );
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get('access-control-allow-origin')).toBe(PORTAL);
  });

  it('sets each origin its own allow header on answers the cache’s edge sends, never the one the answer was stored for', async () => {
    const client = { 'x-forwarded-for': '198.51.100.14' };
    // A document of this test's own: the first asking is not stored, the second is (MISS), then the edge answers.
    const query = 'query CorsEdgeHeadline($slug: String!) { article(slug: $slug) { title } }';
    await getQuery(t.url, { origin: PORTAL, ...client }, query);
    expect((await getQuery(t.url, { origin: PORTAL, ...client }, query)).headers.get('x-cache')).toBe('MISS');
    const before = fastifySaw();
    const hits = {
      portal: await getQuery(t.url, { origin: PORTAL, ...client }, query),
      mobile: await getQuery(t.url, { origin: 'https://m.portal.example', ...client }, query),
      refused: await getQuery(t.url, { origin: 'https://evilportal.example', ...client }, query),
      none: await getQuery(t.url, client, query),
    };
    expect(fastifySaw()).toBe(before);
    for (const hit of Object.values(hits)) {
      expect(hit.status).toBe(200);
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.text).toBe(hits.portal.text);
      expect(hit.headers.get('vary')).toBe('Accept, Origin');
    }
    expect(hits.portal.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(hits.mobile.headers.get('access-control-allow-origin')).toBe('https://m.portal.example');
    expect(hits.refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(hits.none.headers.get('access-control-allow-origin')).toBeNull();

    // A POST answered by the edge, likewise.
    const body = JSON.stringify({ query, variables: { slug: SLUG } });
    // The document has been seen: its first POST is stored.
    expect((await postQuery(t.url, { origin: PORTAL, ...client }, body)).headers.get('x-cache')).toBe('MISS');
    const beforePost = fastifySaw();
    const postHit = await postQuery(t.url, { origin: 'http://localhost:3000', ...client }, body);
    expect(fastifySaw()).toBe(beforePost);
    expect(postHit.headers.get('x-cache')).toBe('HIT');
    expect(postHit.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    expect(postHit.headers.get('vary')).toBe('Origin');
  });
});

describe('a client the refusal limit has cut off, on a listed origin', () => {
  let t: HttpTestServer;
  let fastifySaw: () => number;
  beforeAll(async () => {
    ({ t, fastifySaw } = await startListedServer());
  });
  afterAll(() => t.close());

  it('lets a page read a 429 and its Retry-After, and answers its preflight even while it is cut off', async () => {
    const cutOff = '203.0.113.20';
    for (let i = 0; i < 2; i++) expect((await postQuery(t.url, { 'x-forwarded-for': cutOff }, '{"query":"{ nope }"}')).status).toBe(400);
    const limited = await postQuery(t.url, { origin: PORTAL, 'x-forwarded-for': cutOff });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(limited.headers.get('access-control-expose-headers')).toContain('retry-after');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await preflight(t.url, PORTAL, cutOff)).status).toBe(204);

    // Meanwhile stored answers go through Fastify's hook (the edge steps aside): the same headers there.
    const reader = { origin: 'https://m.portal.example', 'x-forwarded-for': '198.51.100.15' };
    await getQuery(t.url, reader);
    expect((await getQuery(t.url, reader)).headers.get('x-cache')).toBe('MISS');
    const before = fastifySaw();
    const viaHook = await getQuery(t.url, reader);
    expect(fastifySaw()).toBeGreaterThan(before);
    expect(viaHook.headers.get('x-cache')).toBe('HIT');
    expect(viaHook.headers.get('access-control-allow-origin')).toBe('https://m.portal.example');
    expect(viaHook.headers.get('vary')).toBe('Accept, Origin');
  });
});

describe('any origin (CORS_ORIGINS=*, the default outside production)', () => {
  let t: HttpTestServer;
  beforeAll(async () => {
    t = await startHttpServer();
  });
  afterAll(() => t.close());

  it('says * to every request, with or without an Origin, so one cached copy serves every page', async () => {
    for (const headers of [{ origin: 'https://anywhere.example' }, {}] as Record<string, string>[]) {
      const answer = await postQuery(t.url, headers);
      expect(answer.status).toBe(200);
      expect(corsOf(answer)).toEqual({
        'access-control-allow-origin': '*',
        'access-control-allow-methods': null,
        'access-control-allow-headers': null,
        'access-control-allow-credentials': null,
        'access-control-expose-headers': 'x-cache, retry-after, age',
        'access-control-max-age': null,
        vary: null,
      });
    }
    const get = await getQuery(t.url, { origin: 'https://anywhere.example' });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
    expect(get.headers.get('vary')).toBe('Accept');
    const answer = await preflight(t.url, 'https://anywhere.example', '127.0.0.1');
    expect(answer.status).toBe(204);
    expect(corsOf(answer)).toEqual({ ...ALLOWED_PREFLIGHT('*'), vary: null });
  });

  it('answers a plain OPTIONS (no preflight) with the methods /graphql takes', async () => {
    const answer = await send(t.url, { method: 'OPTIONS' });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('allow')).toBe('GET, POST, OPTIONS');
    expect(answer.headers.get('access-control-allow-methods')).toBeNull();
  });
});

describe('no origin (CORS_ORIGINS unset in production)', () => {
  let t: HttpTestServer;
  beforeAll(async () => {
    t = await startHttpServer({ env: { NODE_ENV: 'production' } });
  });
  afterAll(() => t.close());

  it('sends no CORS headers and refuses every preflight', async () => {
    const answer = await postQuery(t.url, { origin: PORTAL });
    expect(answer.status).toBe(200);
    expect(corsOf(answer)).toEqual({
      'access-control-allow-origin': null,
      'access-control-allow-methods': null,
      'access-control-allow-headers': null,
      'access-control-allow-credentials': null,
      'access-control-expose-headers': null,
      'access-control-max-age': null,
      vary: null,
    });
    expect((await preflight(t.url, PORTAL, '127.0.0.1')).status).toBe(403);
  });
});

describe('GET queries from any client (no cookies, so no cross-site request forgery to prevent)', () => {
  let t: HttpTestServer;
  beforeAll(async () => {
    // Two refusals a minute: a GET that were refused would cut the client off at the third.
    t = await startHttpServer({ env: { MAX_REFUSALS_PER_MINUTE: '2', TRUST_PROXY: 'loopback' } });
  });
  afterAll(() => t.close());

  it('answers a GET with nothing but Accept (urql’s), or with no header at all (curl’s), with Vary: Accept, never as a refusal', async () => {
    for (let i = 0; i < 4; i++) {
      for (const headers of [{ accept: URQL_ACCEPT, 'x-forwarded-for': '198.51.100.31' }, { 'x-forwarded-for': '198.51.100.31' }] as Record<
        string,
        string
      >[]) {
        const answer = await send(`${t.url}?${new URLSearchParams({ query: HEADLINE, variables: JSON.stringify({ slug: SLUG }) })}`, {
          headers,
        });
        expect(answer.status, answer.text).toBe(200);
        expect(JSON.parse(answer.text).data.article.title).toMatch(/元宇宙/);
        expect(answer.headers.get('vary')).toBe('Accept');
      }
    }
  });

  it('answers the landing page with Vary: Accept too (Accept: text/html picks it)', async () => {
    const answer = await send(t.url, { headers: { accept: 'text/html', 'x-forwarded-for': '198.51.100.34' } });
    expect(answer.headers.get('content-type')).toContain('text/html');
    expect(answer.headers.get('vary')).toBe('Accept');
  });

  it('never runs a mutation over GET, whatever the headers (405)', async () => {
    const mutation = 'mutation { importPages(pages: []) { pages { status } } }';
    const headerSets: Record<string, string>[] = [
      { 'x-forwarded-for': '198.51.100.32' },
      { 'apollo-require-preflight': 'true', 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.33' },
    ];
    for (const headers of headerSets) {
      const answer = await send(`${t.url}?${new URLSearchParams({ query: mutation })}`, { headers });
      expect(answer.status).toBe(405);
      expect(JSON.parse(answer.text).data).toBeUndefined();
    }
  });

  it('still refuses a POST whose body a form could send (not JSON)', async () => {
    const answer = await send(t.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-forwarded-for': '198.51.100.30' },
      body: JSON.stringify({ query: '{ sections { slug } }' }),
    });
    expect(answer.status).toBe(400);
  });
});
