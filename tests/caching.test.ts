import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ContentStore } from '../src/data/store.js';
import { keptFor } from '../src/http-cache/hooks.js';
import { ResponseCache } from '../src/http-cache/response-cache.js';
import { ADMIN, addPage, beijingTime, EDITOR, type HttpTestServer, type SchemaAnswer, startHttpServer } from './helpers.js';

const ARTICLE_PAGE = `query ArticlePage($slug: String!) { article(slug: $slug) { id title version section { name }
  body { __typename ... on Paragraph { text } } hot: related(kind: HOT, first: 6) { title } } }`;
const ARTICLE_ONLY = `query Headline($slug: String!) { article(slug: $slug) { id title version } }`;
const LIST = `query Latest { articles(first: 5) { totalCount nodes { id title } } }`;
const LATEST_MODULE = `query LatestModule($slug: String!) { article(slug: $slug) { latest: related(kind: LATEST, first: 3) { title } } }`;
const SEARCH = `query Find($q: String!) { search(query: $q) { totalCount nodes { article { id title } } } }`;

const TOKENS: Record<string, typeof EDITOR> = { 'editor-token': EDITOR, 'admin-token': ADMIN };

interface Reply<T = SchemaAnswer> {
  status: number;
  cache: string | null;
  cacheControl: string | null;
  text: string;
  body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

describe('caching', () => {
  let t: HttpTestServer;
  let seedSlug: string;
  let otherSlug: string;
  let sectionId: string;
  beforeAll(async () => {
    t = await startHttpServer({ tokens: { verify: async (token) => TOKENS[token] ?? null } });
    await addPage(t.store, { title: '另一篇文章：缓存测试', time: beijingTime(60), paragraphs: ['与种子文章无关的正文，讨论城市交通。'] });
    // The server's cache only learns of writes that go through it; these happened before any request.
    const data = (await post(`{ articles(first: 2) { nodes { slug title } } section(slug: "yuanchuang") { id } }`)).body.data!;
    otherSlug = data.articles.nodes[0]!.slug;
    seedSlug = data.articles.nodes[1]!.slug;
    sectionId = data.section.id;
  });
  afterAll(() => t.close());

  async function send<T = SchemaAnswer>(init: RequestInit & { url?: string }): Promise<Reply<T>> {
    const response = await fetch(init.url ?? t.url, init);
    const text = await response.text();
    return {
      status: response.status,
      cache: response.headers.get('x-cache'),
      cacheControl: response.headers.get('cache-control'),
      text,
      body: JSON.parse(text) as Reply<T>['body'],
    };
  }
  function post<T = SchemaAnswer>(
    query: string,
    variables: Record<string, unknown> = {},
    token?: string,
    extra: Record<string, string> = {},
  ): Promise<Reply<T>> {
    return send<T>({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra },
      body: JSON.stringify({ query, variables }),
    });
  }
  async function edit(id: string, input: Record<string, unknown>) {
    const { version } = (await post(`query($id: ID) { article(id: $id, preview: true) { version } }`, { id }, 'editor-token')).body.data!
      .article;
    const reply = await post(
      `mutation($id: ID!, $v: Int!, $input: UpdateArticleInput!) { updateArticle(id: $id, expectedVersion: $v, input: $input) { article { title version } } }`,
      { id, v: version, input },
      'editor-token',
    );
    expect(reply.body.errors, reply.text).toBeUndefined();
    return reply.body.data!.updateArticle.article as { title: string; version: number };
  }
  async function mutate(query: string, variables: Record<string, unknown>) {
    const reply = await post(query, variables, 'editor-token');
    expect(reply.body.errors, reply.text).toBeUndefined();
    return reply.body.data!;
  }

  describe('Cache-Control follows the policy', () => {
    it('keeps an article 60 s and anything holding a list 15 s, publicly', async () => {
      expect((await post(ARTICLE_ONLY, { slug: seedSlug })).cacheControl).toBe('public, max-age=60, stale-if-error=3600');
      expect((await post(ARTICLE_PAGE, { slug: seedSlug })).cacheControl).toBe('public, max-age=15, stale-if-error=3600');
      expect((await post(LIST)).cacheControl).toBe('public, max-age=15, stale-if-error=3600');
      expect((await post(SEARCH, { q: '元宇宙' })).cacheControl).toBe('public, max-age=15, stale-if-error=3600');
      expect((await post(`{ sections { name } }`)).cacheControl).toBe('public, max-age=60, stale-if-error=3600');
    });

    it('makes anything an editor asks for private, and never stores or serves it from the cache', async () => {
      for (let i = 0; i < 2; i++) {
        const reply = await post(ARTICLE_ONLY, { slug: seedSlug }, 'editor-token');
        expect(reply.cacheControl).toBe('private, no-store');
        expect(reply.cache).toBeNull();
      }
      // preview: true without a token is refused, and the refusal is not stored either.
      const refused = await post(`{ articles(preview: true) { totalCount } }`);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(refused.cacheControl).toBe('no-store');
    });

    it('never stores mutations or responses with errors', async () => {
      const failed = await post(`query($slug: String!) { article(slug: $slug) { title nope } }`, { slug: seedSlug });
      expect(failed.status).toBe(400);
      expect(failed.cacheControl).toBe('no-store');
      const forbidden = await post(
        `mutation { createSection(input: { name: "无权", parent: "1" }) { section { id } } }`,
        {},
        'editor-token',
      );
      expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(forbidden.cacheControl).toBe('private, no-store');
      const badInput = await post(`{ articles(first: 500) { totalCount } }`);
      expect(badInput.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(badInput.cacheControl).toBe('no-store');
      expect((await post(`{ articles(first: 500) { totalCount } }`)).cache).toBeNull();
    });
  });

  describe('the response cache', () => {
    it('answers a repeated public query with the same bytes, marked HIT, once its document has been seen before', async () => {
      const query = `query Twice($slug: String!) { article(slug: $slug) { title excerpt } }`;
      // A document seen for the first time is answered but not stored: one-off queries would push out the pages everybody reads.
      const first = await post(query, { slug: seedSlug });
      expect(first.cache).toBeNull();
      expect(first.cacheControl).toBe('public, max-age=60, stale-if-error=3600');
      const second = await post(query, { slug: seedSlug });
      expect(second.cache).toBe('MISS');
      const third = await post(query, { slug: seedSlug });
      expect(third.cache).toBe('HIT');
      expect(third.text).toBe(first.text);
      expect(third.cacheControl).toBe('public, max-age=60, stale-if-error=3600');
      // The same document with other variables is stored at once.
      expect((await post(query, { slug: otherSlug })).cache).toBe('MISS');
      expect((await post(query, { slug: otherSlug })).cache).toBe('HIT');
    });

    it('keys by Accept, so each content type is answered in its own kind', async () => {
      const query = `{ sections { slug } }`;
      const graphqlJson = { accept: 'application/graphql-response+json' };
      await post(query);
      const a = await post(query, {}, undefined, graphqlJson);
      const b = await post(query, {}, undefined, graphqlJson);
      expect(a.cache).toBe('MISS');
      expect(b.cache).toBe('HIT');
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...graphqlJson },
        body: JSON.stringify({ query }),
      });
      expect(response.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    });

    it('serves automatic persisted queries over GET, cached, with or without a preflight header', async () => {
      const query = `query PersistedHeadline($slug: String!) { article(slug: $slug) { title } }`;
      const sha256Hash = createHash('sha256').update(query).digest('hex');
      const params = (withQuery: boolean) =>
        new URLSearchParams({
          operationName: 'PersistedHeadline',
          variables: JSON.stringify({ slug: seedSlug }),
          extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash } }),
          ...(withQuery ? { query } : {}),
        });
      const get = (search: URLSearchParams, headers: Record<string, string> = { 'apollo-require-preflight': 'true' }) =>
        send({ url: `${t.url}?${search}`, method: 'GET', headers });
      const unknown = await get(params(false));
      expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(unknown.cache).toBeNull();
      expect((await get(params(true))).body.data!.article.title).toBeTruthy();
      const first = await get(params(false));
      expect(first.body.data!.article.title).toBeTruthy();
      expect(first.cacheControl).toBe('public, max-age=60, stale-if-error=3600');
      const second = await get(params(false));
      expect(second.cache).toBe('HIT');
      expect(second.text).toBe(first.text);
      // A GET with no header of its own (urql's, a CDN's) gets the same stored answer.
      const simple = await get(params(false), {});
      expect(simple.status).toBe(200);
      expect(simple.cache).toBe('HIT');
      expect(simple.text).toBe(first.text);
    });
  });

  describe('invalidation', () => {
    it('never serves an edited title after the mutation returns', async () => {
      const { id } = (await post(ARTICLE_ONLY, { slug: otherSlug })).body.data!.article;
      for (const title of ['改过一次的标题', '改过两次的标题', '改过三次的标题']) {
        await post(ARTICLE_PAGE, { slug: otherSlug });
        expect((await post(ARTICLE_PAGE, { slug: otherSlug })).cache).toBe('HIT');
        expect((await post(LIST)).body.data!.articles.nodes.map((n: { title: string }) => n.title)).not.toContain(title);
        await edit(id, { title });
        expect((await post(ARTICLE_PAGE, { slug: otherSlug })).body.data!.article.title).toBe(title);
        expect((await post(LIST)).body.data!.articles.nodes.find((n: { id: string }) => n.id === id)!.title).toBe(title);
      }
    });

    it('does not serve a stale title even when reads race the edit', async () => {
      const { id } = (await post(ARTICLE_ONLY, { slug: otherSlug })).body.data!.article;
      let reading = true;
      // Readers keep the cache busy filling while edits land; responses that began before an edit
      // and finish after it must not be stored.
      const readers = Array.from({ length: 4 }, async () => {
        while (reading) await post(ARTICLE_ONLY, { slug: otherSlug });
      });
      try {
        for (let i = 0; i < 15; i++) {
          const { title } = await edit(id, { title: `并发编辑第${i}次` });
          expect((await post(ARTICLE_ONLY, { slug: otherSlug })).body.data!.article.title).toBe(title);
        }
      } finally {
        reading = false;
        await Promise.all(readers);
      }
    });

    it('drops only what an edit affects: another article stays cached', async () => {
      const { id } = (await post(ARTICLE_ONLY, { slug: otherSlug })).body.data!.article;
      await post(ARTICLE_ONLY, { slug: seedSlug });
      expect((await post(ARTICLE_ONLY, { slug: seedSlug })).cache).toBe('HIT');
      await edit(id, { title: '只改这一篇' });
      expect((await post(ARTICLE_ONLY, { slug: seedSlug })).cache).toBe('HIT');
      expect((await post(ARTICLE_ONLY, { slug: otherSlug })).cache).toBe('MISS');
    });

    it('shows a newly published article in cached lists, searches and lookups, and hides a deleted one', async () => {
      const slug = 'cache-new-article';
      const missing = await post(ARTICLE_ONLY, { slug });
      expect(missing.body.data!.article).toBeNull();
      expect((await post(ARTICLE_ONLY, { slug })).cache).toBe('HIT');
      const totalBefore = (await post(LIST)).body.data!.articles.totalCount;
      expect((await post(LIST)).cache).toBe('HIT');
      await post(SEARCH, { q: '缓存失效' });
      // Another article's 最近更新 module lists its section's newest articles.
      const latestOf = async (s: string) =>
        (await post<{ article: { latest: { title: string }[] } }>(LATEST_MODULE, { slug: s })).body.data!.article.latest.map(
          (i: { title: string }) => i.title,
        );
      await post(LATEST_MODULE, { slug: otherSlug });
      expect((await post(LATEST_MODULE, { slug: otherSlug })).cache).toBe('MISS');
      expect((await post(LATEST_MODULE, { slug: otherSlug })).cache).toBe('HIT');

      const created = await mutate(`mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id version } } }`, {
        input: { title: '缓存失效的新文章', slug, section: sectionId, body: [{ paragraph: '缓存失效测试正文。' }] },
      });
      const { id } = created.createArticle.article;
      // A draft changes nothing the public sees.
      expect((await post(ARTICLE_ONLY, { slug })).body.data!.article).toBeNull();
      await mutate(`mutation($id: ID!) { publishArticle(id: $id, expectedVersion: 1) { article { version } } }`, { id });

      expect((await post(ARTICLE_ONLY, { slug })).body.data!.article).toMatchObject({ id, title: '缓存失效的新文章' });
      const list = (await post(LIST)).body.data!.articles;
      expect(list.totalCount).toBe(totalBefore + 1);
      expect(list.nodes[0]!.id).toBe(id);
      expect(
        (await post(SEARCH, { q: '缓存失效' })).body.data!.search.nodes.map((n: { article: { id: string } }) => n.article.id),
      ).toContain(id);
      expect((await latestOf(otherSlug))[0]).toBe('缓存失效的新文章');

      await mutate(`mutation($id: ID!) { deleteArticle(id: $id, expectedVersion: 2) { article { version } } }`, { id });
      expect((await post(ARTICLE_ONLY, { slug })).body.data!.article).toBeNull();
      expect((await post(LIST)).body.data!.articles.totalCount).toBe(totalBefore);
      expect(
        (await post(SEARCH, { q: '缓存失效' })).body.data!.search.nodes.map((n: { article: { id: string } }) => n.article.id),
      ).not.toContain(id);
      expect(await latestOf(otherSlug)).not.toContain('缓存失效的新文章');
    });

    it('purges kept node answers: a tag only a draft carries appears once the draft is published, and the article goes once it is unpublished', async () => {
      const NODE = `query Node($id: ID!) { node(id: $id) { id ... on Tag { name } ... on Article { title } } }`;
      const tagId = 'gid://newsgraph/Tag/jiedianhuancun';
      const created = await mutate(`mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id version } } }`, {
        input: { title: '节点缓存测试', section: sectionId, body: [{ paragraph: '节点缓存的正文。' }], tags: ['节点缓存'] },
      });
      const { id } = created.createArticle.article;
      await post(NODE, { id: tagId });
      await post(NODE, { id });
      const hiddenTag = await post(NODE, { id: tagId });
      expect([hiddenTag.cache, hiddenTag.body.data]).toEqual(['MISS', { node: null }]);
      expect((await post(NODE, { id: tagId })).cache).toBe('HIT');
      // The draft is null to the public, and kept as such.
      expect(await post(NODE, { id })).toMatchObject({ cache: 'HIT', body: { data: { node: null } } });

      await mutate(`mutation($id: ID!) { publishArticle(id: $id, expectedVersion: 1) { article { version } } }`, { id });
      expect((await post(NODE, { id: tagId })).body.data).toEqual({ node: { id: tagId, name: '节点缓存' } });
      const shown = await post(NODE, { id });
      expect(shown.body.data).toEqual({ node: { id, title: '节点缓存测试' } });
      expect((await post(NODE, { id })).cache).toBe('HIT');

      await mutate(`mutation($id: ID!) { unpublishArticle(id: $id, expectedVersion: 2) { article { version } } }`, { id });
      expect((await post(NODE, { id })).body.data).toEqual({ node: null });
      expect((await post(NODE, { id: tagId })).body.data).toEqual({ node: null });
    });

    it('shows a new 热点 list and a renamed section at once', async () => {
      await post(ARTICLE_PAGE, { slug: seedSlug });
      expect((await post(ARTICLE_PAGE, { slug: seedSlug })).cache).toBe('HIT');
      await mutate(
        `mutation($s: ID!) { setHotItems(section: $s, items: [{ title: "新的热点", url: "https://example.com/hot" }]) { items { title } } }`,
        {
          s: sectionId,
        },
      );
      expect(
        (await post<{ article: { hot: { title: string }[] } }>(ARTICLE_PAGE, { slug: seedSlug })).body.data!.article.hot[0]!.title,
      ).toBe('新的热点');

      await post(ARTICLE_PAGE, { slug: seedSlug });
      const rename = await post(
        `mutation($id: ID!) { updateSection(id: $id, input: { name: "原创频道" }) { section { name } } }`,
        { id: sectionId },
        'admin-token',
      );
      expect(rename.body.errors, rename.text).toBeUndefined();
      expect((await post(ARTICLE_PAGE, { slug: seedSlug })).body.data!.article.section.name).toBe('原创频道');
    });

    it('purges lists when a scheduled article’s time comes, with no write at that moment', async () => {
      const slug = 'cache-scheduled-article';
      const created = await mutate(`mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } } }`, {
        input: { title: '定时发布的文章', slug, section: sectionId, body: [{ paragraph: '定时发布。' }] },
      });
      const at = new Date(Date.now() + 1500).toISOString();
      await mutate(`mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, expectedVersion: 1, at: $at) { article { version } } }`, {
        id: created.createArticle.article.id,
        at,
      });
      expect((await post(ARTICLE_ONLY, { slug })).body.data!.article).toBeNull();
      expect((await post(ARTICLE_ONLY, { slug })).cache).toBe('HIT');
      await new Promise((resolve) => setTimeout(resolve, 1800));
      expect((await post(ARTICLE_ONLY, { slug })).body.data!.article?.title).toBe('定时发布的文章');
      expect((await post(LIST)).body.data!.articles.nodes[0]!.title).toBe('定时发布的文章');
    });
  });
});

describe('identical requests that miss together', () => {
  let t: HttpTestServer;
  beforeAll(async () => {
    // SQLite answers synchronously, so in-process requests rarely overlap; a store that takes
    // half a second per lookup makes them (30 ms, as a networked database takes, was too short a
    // window for all eight to arrive on a loaded machine).
    t = await startHttpServer({
      serve: (store) => ({
        ...bindAll(store),
        findArticlesBySlugs: async (args) => {
          await new Promise((resolve) => setTimeout(resolve, 500));
          return store.findArticlesBySlugs(args);
        },
      }),
    });
  });
  afterAll(() => t.close());

  it('are answered with one execution, and everyone gets the same bytes', async () => {
    const query = `query Together($slug: String!) { article(slug: $slug) { title wordCount } }`;
    const post = (slug: string) =>
      fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { slug } }),
      });
    await (await post('not-yet-seen')).text(); // the document is known from now on
    t.queries.length = 0;
    const replies = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const response = await post('20230423-7c45cae95cf3');
        return { cache: response.headers.get('x-cache'), text: await response.text() };
      }),
    );
    expect(t.queries.filter((q) => q.sql.includes('from "articles" where "slug"')).length).toBe(1);
    expect(replies.map((r) => r.cache).sort()).toEqual(['MISS', ...Array(7).fill('SHARED')]);
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(JSON.parse(replies[0]!.text).data!.article.title).toMatch(/元宇宙/);
  });
});

describe('the edge: stored answers sent before Fastify', () => {
  let t: HttpTestServer;
  let logText = '';
  const HEADLINE = `query EdgeHeadline($slug: String!) { article(slug: $slug) { title } }`;
  const SLUG = '20230423-7c45cae95cf3';
  beforeAll(async () => {
    const logs = new PassThrough();
    logs.on('data', (chunk: Buffer) => (logText += chunk));
    // Fastify logs every request it handles at info; the refusal limit is on, with loopback as the proxy.
    t = await startHttpServer({ env: { LOG_LEVEL: 'info', MAX_REFUSALS_PER_MINUTE: '2', TRUST_PROXY: 'loopback' }, logStream: logs });
  });
  afterAll(() => t.close());

  const post = async (body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return {
      status: response.status,
      cache: response.headers.get('x-cache'),
      cacheControl: response.headers.get('cache-control'),
      text: await response.text(),
    };
  };
  const headline = (client = '198.51.100.1') =>
    post(JSON.stringify({ query: HEADLINE, variables: { slug: SLUG } }), { 'x-forwarded-for': client });
  const fastifySaw = () => logText.split('\n').filter((line) => line.includes('"incoming request"')).length;

  it('answers a stored answer without Fastify handling the request, with the bytes and headers Fastify would send', async () => {
    const first = await headline();
    expect((await headline()).cache).toBe('MISS'); // the POST's body was read by the edge and handed on to Fastify
    const before = fastifySaw();
    const hits = await Promise.all([headline(), headline(), headline()]);
    expect(fastifySaw()).toBe(before);
    for (const hit of hits)
      expect(hit).toEqual({ status: 200, cache: 'HIT', cacheControl: 'public, max-age=60, stale-if-error=3600', text: first.text });
    expect(JSON.parse(first.text).data!.article.title).toMatch(/元宇宙/);
  });

  it('leaves to Fastify what Fastify would refuse, stored answer or not', async () => {
    const body = JSON.stringify({ query: HEADLINE, variables: { slug: SLUG } });
    expect((await headline()).cache).toBe('HIT');
    // secure-json-parse refuses a prototype key; the edge must not answer it from the cache.
    const polluted = await post(`${body.slice(0, -1)},"__proto__":{"x":1}}`);
    expect(polluted.status).toBe(400);
    // A body sent in chunks without a length goes to Fastify, which answers it from the cache too.
    const chunked = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.headers.get('x-cache')).toBe('HIT');
    expect(await chunked.text()).toBe((await headline()).text);
  });

  it('steps aside while a client is cut off, so that client gets its 429 even for a stored answer', async () => {
    expect((await headline('203.0.113.5')).cache).toBe('HIT');
    for (let i = 0; i < 2; i++) expect((await post('{"query":"{ nope }"}', { 'x-forwarded-for': '203.0.113.5' })).status).toBe(400);
    const cut = await headline('203.0.113.5');
    expect(cut.status).toBe(429);
    expect(JSON.parse(cut.text).errors[0].extensions.code).toBe('RATE_LIMITED');
    // Everyone else still gets the stored answer (through Fastify's hook while someone is cut off).
    expect(await headline('198.51.100.7')).toMatchObject({ status: 200, cache: 'HIT' });
  });
});

/** A store's methods bound to it, so they can be spread into a wrapper. */
function bindAll(store: ContentStore): ContentStore {
  const bound: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const value: unknown = Reflect.get(store, name);
    if (name !== 'constructor' && typeof value === 'function') bound[name] = (value as (...a: unknown[]) => unknown).bind(store);
  }
  return bound as unknown as ContentStore;
}

describe('how long answers are kept', () => {
  let t: HttpTestServer;
  beforeAll(async () => {
    t = await startHttpServer({ env: { RESPONSE_CACHE_TTL: '100' } });
  });
  afterAll(() => t.close());
  const ask = async (slug: string) => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ARTICLE_ONLY, variables: { slug } }),
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    return response.headers.get('x-cache');
  };

  it('spreads the expiry of answers stored together over the last fifth of RESPONSE_CACHE_TTL', async () => {
    const slugs = Array.from({ length: 20 }, (_, i) => `no-such-article-${i}`);
    const started = Date.now();
    await ask('the-document-seen-once'); // a document's first answer is not stored
    for (const slug of slugs) expect(await ask(slug)).toBe('MISS');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(started + 79_000);
      expect(new Set(await Promise.all(slugs.map(ask)))).toEqual(new Set(['HIT']));
      // Half-way through the spread, about half are gone (all or none: one chance in 500,000).
      vi.setSystemTime(started + 90_000);
      const halfway = await Promise.all(slugs.map(ask));
      expect(new Set(halfway)).toEqual(new Set(['HIT', 'MISS']));
      // Past the TTL none is served, counted from when it was stored (the misses just now are stored anew).
      vi.setSystemTime(Date.now() + 101_000);
      const after = await Promise.all(slugs.map(ask));
      expect(after.every((how) => how === 'MISS')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps each answer between four fifths of the TTL and the TTL', () => {
    expect(keptFor(300, 0)).toBe(300_000);
    expect(keptFor(300, 0.5)).toBe(270_000);
    expect(keptFor(300, 0.999_999)).toBeGreaterThanOrEqual(240_000);
  });
});

describe('ResponseCache', () => {
  const entry = (bytes: number, tags: string[], expiresAt = Date.now() + 60_000) => ({
    body: Buffer.alloc(bytes, 'x'),
    contentType: 'application/json',
    tags,
    maxAgeSeconds: 60,
    expiresAt,
  });

  it('stays within its byte budget, dropping the least recently used first', () => {
    const cache = new ResponseCache({ maxBytes: 20_000 });
    for (let i = 0; i < 50; i++) cache.set(`k${i}`, entry(1_000, [`article:${i}`]), cache.generation);
    expect(cache.stats().bytes).toBeLessThanOrEqual(20_000);
    expect(cache.stats().entries).toBeGreaterThan(5);
    expect(cache.get('k0')).toBeUndefined();
    expect(cache.get('k49')).toBeDefined();
  });

  it('drops exactly the entries holding a purged tag', () => {
    const cache = new ResponseCache({ maxBytes: 1 << 20 });
    cache.set('page-1', entry(10, ['article:1', 'sections']), cache.generation);
    cache.set('page-2', entry(10, ['article:2', 'sections']), cache.generation);
    cache.set('list', entry(10, ['list:all', 'article:1', 'article:2']), cache.generation);
    expect(cache.purge(['article:1'])).toBe(2);
    expect([cache.get('page-1'), cache.get('page-2'), cache.get('list')].map(Boolean)).toEqual([false, true, false]);
    expect(cache.purge(['sections'])).toBe(1);
    expect(cache.stats().entries).toBe(0);
  });

  it('refuses a response begun before a purge, and forgets one past its time', () => {
    const cache = new ResponseCache({ maxBytes: 1 << 20 });
    const began = cache.generation;
    cache.purge(['article:1']);
    expect(cache.set('late', entry(10, ['article:1']), began)).toBe(false);
    expect(cache.get('late')).toBeUndefined();
    expect(cache.set('soon', entry(10, [], Date.now() + 50), cache.generation)).toBe(true);
    expect(cache.get('soon', Date.now() + 100)).toBeUndefined();
    expect(cache.get('soon')).toBeUndefined();
  });
});
