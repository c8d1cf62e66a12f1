import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, gql, type TypedDocumentNode } from '@urql/core';
import { buildSchema, isObjectType } from 'graphql';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNewsgraphClient, keys } from '../schema/clients/urql-client.js';
import { addToken } from '../src/auth/tokens.js';
import {
  ARTICLE_PAGE,
  BLOCKS,
  catchWarnings,
  EXTRA_ARTICLES,
  type Page,
  SEARCH,
  SECTION_CARDS,
  SEED_SLUG,
  startPortalServer,
} from './client-pages.js';
import type { MainProcess } from './helpers.js';

// urql with graphcache as a portal's front end runs it: the client schema/clients/urql-client.ts
// ships, against the real server process in production mode (introspection off). The pages a reader
// goes through land in one normalized cache and each stays readable from it; graphcache never warns
// (it warns on console.warn about a type it cannot key or a fragment it matches by guess). A small
// proxy in front of the server records what went over the wire.

interface Seen {
  method: string;
  hash: string | null;
  hasQuery: boolean;
  status: number;
  /** The first error's `extensions.code`, if the answer had errors. */
  code: string | null;
}

function firstErrorCode(text: string): string | null {
  try {
    return (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code ?? null;
  } catch {
    return `not JSON: ${text.slice(0, 200)}`;
  }
}

/** A proxy on 127.0.0.1 that forwards to `target` and records each request it passes on. */
async function startRecordingProxy(target: string): Promise<{ address: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (request, reply) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', target);
    const payload: { query?: string; extensions?: { persistedQuery?: { sha256Hash?: string } } } =
      request.method === 'POST' ? JSON.parse(body) : { extensions: JSON.parse(url.searchParams.get('extensions') ?? '{}') };
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (!['host', 'connection', 'content-length'].includes(name) && typeof value === 'string') headers.set(name, value);
    }
    const response = await fetch(url, { method: request.method, headers, ...(request.method === 'POST' ? { body } : {}) });
    const text = await response.text();
    seen.push({
      method: request.method ?? '',
      hash: payload.extensions?.persistedQuery?.sha256Hash ?? null,
      hasQuery: request.method === 'POST' ? typeof payload.query === 'string' : url.searchParams.has('query'),
      status: response.status,
      code: firstErrorCode(text),
    });
    reply.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/json' });
    reply.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('urql with graphcache, as schema/clients/urql-client.ts ships it, against the server process', () => {
  let tokensDir: string;
  let server: Awaited<ReturnType<typeof startPortalServer>>;
  let main: MainProcess;
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let token: string;
  beforeAll(async () => {
    tokensDir = mkdtempSync(join(tmpdir(), 'newsgraph-urql-graphcache-'));
    const tokensFile = join(tokensDir, 'tokens.json');
    token = await addToken(tokensFile, { name: 'urql-graphcache-desk', role: 'EDITOR' });
    server = await startPortalServer('urql-graphcache', { NEWSGRAPH_TOKENS_FILE: tokensFile });
    main = server.main;
    proxy = await startRecordingProxy(main.address);
  });
  afterAll(async () => {
    if (proxy) await new Promise((resolve) => proxy.server.close(resolve));
    await server?.close();
    rmSync(tokensDir, { recursive: true, force: true });
  });

  let warnings: unknown[][];
  beforeEach(() => {
    warnings = catchWarnings();
  });
  afterEach(() => vi.restoreAllMocks());

  const client = () => createNewsgraphClient(`${proxy.address}/graphql`);

  /** The whole list, straight from the server in one page: what walking it page by page must give. */
  const wholeList = async <T>(query: string, ids: (data: T) => string[]): Promise<string[]> => {
    const response = await fetch(`${main.address}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { data?: T };
    expect(body.data, JSON.stringify(body)).toBeDefined();
    return ids(body.data!);
  };

  /** Fetches page after page by `after: pageInfo.endCursor` (at most ten) until `hasNextPage` is false. */
  const walk = async <T, V extends { after?: string | null }>(
    urql: Client,
    query: TypedDocumentNode<T, V>,
    variables: Omit<V, 'after'>,
    pageOf: (data: T) => Page<unknown>,
  ): Promise<number> => {
    let after: string | null = null;
    for (let fetched = 1; fetched <= 10; fetched++) {
      const result = await urql.query(query, { ...variables, after } as V).toPromise();
      expect(result.error, JSON.stringify(result.error)).toBeUndefined();
      const { pageInfo } = pageOf(result.data!);
      if (!pageInfo.hasNextPage) return fetched;
      after = pageInfo.endCursor;
    }
    throw new Error('ten pages and still more: the walk never reached the end');
  };

  it('keeps the article page, the section cards walked to the end and search all readable from one cache, without a warning', async () => {
    const urql = client();
    const articlePage = await urql.query(ARTICLE_PAGE, { slug: SEED_SLUG }).toPromise();
    expect(articlePage.error, JSON.stringify(articlePage.error)).toBeUndefined();
    expect(articlePage.data?.article).toMatchObject({ id: expect.any(String) });

    // relayPagination joins the pages: each walk takes as many requests as pages, and the joined
    // list is the server's whole list in its order, nothing missing and nothing twice.
    expect(await walk(urql, SECTION_CARDS, { slug: 'yuanchuang' }, (data) => data.section.articles)).toBe(3);
    expect(await walk(urql, SEARCH, { query: '元宇宙' }, (data) => data.search)).toBe(3);

    const before = proxy.seen.length;
    const cached = <T, V extends object>(query: TypedDocumentNode<T, V>, variables: V): T => {
      const result = urql.readQuery(query, variables);
      expect(result?.error).toBeUndefined();
      expect(result?.stale).toBeFalsy();
      expect(result?.data).toBeTruthy();
      return result!.data!;
    };
    expect(cached(ARTICLE_PAGE, { slug: SEED_SLUG })).toEqual(articlePage.data);
    const cards = cached(SECTION_CARDS, { slug: 'yuanchuang', after: null }).section.articles;
    expect(cards.edges.map((edge) => edge.node.id)).toEqual(
      await wholeList<{ section: { articles: Page<{ id: string }> } }>(
        '{ section(slug: "yuanchuang") { articles(first: 50) { edges { node { id } } } } }',
        (data) => data.section.articles.edges.map((edge) => edge.node.id),
      ),
    );
    expect(cards.edges).toHaveLength(1 + EXTRA_ARTICLES);
    expect(cards.pageInfo.hasNextPage).toBe(false);
    expect(cards.edges.every((edge) => edge.node.tags.every((tag) => tag.slug))).toBe(true);
    const hits = cached(SEARCH, { query: '元宇宙', after: null }).search;
    expect(hits.edges.map((edge) => edge.node.article.id)).toEqual(
      await wholeList<{ search: Page<{ article: { id: string } }> }>(
        '{ search(query: "元宇宙", first: 50) { edges { node { article { id } } } } }',
        (data) => data.search.edges.map((edge) => edge.node.article.id),
      ),
    );
    expect(hits.pageInfo.hasNextPage).toBe(false);
    // The reads came from the cache: no request went through the proxy (the whole lists went straight to the server).
    expect(proxy.seen.length).toBe(before);

    expect(warnings).toEqual([]);
  });

  it('answers fragments on the ContentBlock union with each block’s text or caption, from the network and from the cache', async () => {
    const urql = client();
    const result = await urql.query(BLOCKS, { slug: SEED_SLUG }).toPromise();
    expect(result.error, JSON.stringify(result.error)).toBeUndefined();
    const body = result.data!.article.body;
    expect(body.length).toBeGreaterThan(1);
    expect(body.some((block) => block.__typename === 'Image')).toBe(true);
    for (const block of body) {
      if (block.__typename === 'Paragraph') expect(block.text, JSON.stringify(block)).toEqual(expect.any(String));
      else expect(block, JSON.stringify(block)).toHaveProperty('caption');
    }
    expect(urql.readQuery(BLOCKS, { slug: SEED_SLUG })?.data).toEqual(result.data);
    expect(warnings).toEqual([]);
  });

  it('sends queries as persisted queries by hash over GET: the text once, when the server does not know the hash, then the hash alone', async () => {
    // A document no other test sends, so the server has never seen its hash.
    const headline = gql`
      query PersistedHeadline($slug: String!) {
        article(slug: $slug) { id title }
      }
    `;
    proxy.seen.length = 0;
    const first = await client().query(headline, { slug: SEED_SLUG }).toPromise();
    expect(first.error, JSON.stringify(first.error)).toBeUndefined();
    const second = await client().query(headline, { slug: SEED_SLUG }).toPromise();
    expect(second.error, JSON.stringify(second.error)).toBeUndefined();
    expect(second.data).toEqual(first.data);
    const hash = proxy.seen[0]?.hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(proxy.seen).toEqual([
      { method: 'GET', hash, hasQuery: false, status: 200, code: 'PERSISTED_QUERY_NOT_FOUND' },
      { method: 'GET', hash, hasQuery: true, status: 200, code: null },
      { method: 'GET', hash, hasQuery: false, status: 200, code: null },
    ]);
    expect(warnings).toEqual([]);
  });

  it('sends the token it is given, so an editor’s mutation goes through (as a POST with its text), and without it is refused', async () => {
    const create = gql`
      mutation UrqlGraphcacheCreate($input: CreateArticleInput!) {
        createArticle(input: $input) { article { id title status version } }
      }
    `;
    const section = await client().query(gql`query DraftSection { section(slug: "yuanchuang") { id } }`, {}).toPromise();
    expect(section.error, JSON.stringify(section.error)).toBeUndefined();
    const input = {
      title: '图缓存客户端的草稿',
      section: section.data.section.id,
      body: [{ paragraph: '正文' }],
      credits: [{ role: 'WRITER', name: '小编' }],
    };
    proxy.seen.length = 0;
    const created = await createNewsgraphClient(`${proxy.address}/graphql`, token).mutation(create, { input }).toPromise();
    expect(created.error, JSON.stringify(created.error)).toBeUndefined();
    expect(created.data.createArticle.article).toMatchObject({ title: '图缓存客户端的草稿', status: 'DRAFT', version: 1 });
    expect(proxy.seen).toEqual([{ method: 'POST', hash: null, hasQuery: true, status: 200, code: null }]);
    const anonymous = await client().mutation(create, { input }).toPromise();
    expect(anonymous.error?.graphQLErrors.map((error) => error.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(warnings).toEqual([]);
  });

  it('reports error codes in result.error.graphQLErrors[i].extensions.code', async () => {
    const urql = client();
    const refused = await urql.query(gql`query Both { article(id: "1", slug: "x") { id } }`, {}).toPromise();
    expect(refused.error?.graphQLErrors.map((error) => error.extensions.code)).toEqual(['BAD_USER_INPUT']);
    const tooDeep = await urql
      .query(
        gql`query Deep { sections { id parent { id parent { id parent { id parent { id parent { id parent { id parent { id parent { id parent { id parent { id parent { id parent { id } } } } } } } } } } } } } }`,
        {},
      )
      .toPromise();
    expect(tooDeep.error?.graphQLErrors.map((error) => error.extensions.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(tooDeep.error?.networkError).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

describe('the urql client the repository ships', () => {
  it('keys every object type without an id as a value, and nothing else', () => {
    const schema = buildSchema(readFileSync(new URL('../schema/generated/schema.graphql', import.meta.url), 'utf8'));
    const values = Object.values(schema.getTypeMap())
      .filter((type) => isObjectType(type) && !type.name.startsWith('__') && !['Query', 'Mutation'].includes(type.name))
      .filter((type) => isObjectType(type) && !('id' in type.getFields()))
      .map((type) => type.name);
    expect(Object.keys(keys).sort()).toEqual(values.sort());
  });

  it('is shown in the README exactly as schema/clients/urql-client.ts ships it', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const shipped = readFileSync(new URL('../schema/clients/urql-client.ts', import.meta.url), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${shipped}\`\`\``);
  });
});
