import { parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE, DEFAULT_LIMITS, loadConfig } from '../src/config.js';
import { createContext } from '../src/context.js';
import type { ContentStore } from '../src/data/store.js';
import { cachePolicy } from '../src/http-cache/policy.js';
import { operationCost } from '../src/limits/cost.js';
import { buildSchema } from '../src/schema.js';
import { addPage, beijingTime, createTestServer, EDITOR, type HttpTestServer, startHttpServer, type TestServer } from './helpers.js';

// newsgraph as a Federation 2 subgraph (FEDERATION=true): `_service` and `_entities` on the real
// schema over a real store, and what the plain API (the default) keeps out.

const SEED_SLUG = '20230423-7c45cae95cf3';
const SEED_TITLE = '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始';

const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Article { id title section { name } tags { name } }
    ... on Section { id name path { name } }
  }
}`;

describe('newsgraph as a federation subgraph', () => {
  let t: TestServer;
  let article: { id: string; section: { id: string } };
  let home: { id: string };
  let draft: string;
  beforeAll(async () => {
    t = await createTestServer({ federation: true });
    ({ article } = await t.expectData<{ article: typeof article }>(`query($slug: String!) { article(slug: $slug) { id section { id } } }`, {
      slug: SEED_SLUG,
    }));
    ({ section: home } = await t.expectData<{ section: typeof home }>(`{ section(slug: "shouye") { id } }`));
    const created = await t.expectData<{ createArticle: { article: { id: string } } }>(
      `mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } } }`,
      { input: { title: '还没发布的稿子', section: article.section.id, body: [{ paragraph: '草稿正文。' }] } },
      EDITOR,
    );
    draft = created.createArticle.article.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('describes itself in _service.sdl: the Federation 2 link and the keys of Article, Section and Tag', async () => {
    const data = await t.expectData<{ _service: { sdl: string } }>(`{ _service { sdl } }`);
    const sdl = data._service.sdl;
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])');
    expect(sdl).toMatch(/type Article implements Node\s+@key\(fields: "id"\)\s+\{/);
    expect(sdl).toMatch(/type Section implements Node\s+@key\(fields: "id"\)\s+\{/);
    expect(sdl).toMatch(/type Tag implements Node\s+@key\(fields: "slug", resolvable: false\)\s+\{/);
    // The API's descriptions travel with it: composition keeps them in the supergraph.
    expect(sdl).toContain('"""The headline exactly as published."""');
  });

  it('resolves articles and sections by id, in the order asked for, through the request loaders', async () => {
    const data = await t.expectData(ENTITIES, {
      representations: [
        { __typename: 'Section', id: home.id },
        { __typename: 'Article', id: article.id },
        { __typename: 'Article', id: '999999' },
      ],
    });
    expect(data).toEqual({
      _entities: [
        { __typename: 'Section', id: home.id, name: '首页', path: [{ name: '首页' }] },
        { __typename: 'Article', id: article.id, title: SEED_TITLE, section: { name: '原创' }, tags: [] },
        null,
      ],
    });
  });

  it('returns null for a draft, to editors too, as article(id:) does without preview', async () => {
    const representations = [{ __typename: 'Article', id: draft }];
    expect(await t.expectData(ENTITIES, { representations })).toEqual({ _entities: [null] });
    expect(await t.expectData(ENTITIES, { representations }, EDITOR)).toEqual({ _entities: [null] });
    expect(await t.expectData(`query($id: ID!) { article(id: $id) { id } }`, { id: draft })).toEqual({ article: null });
  });

  it('loads many articles in one statement', async () => {
    await addPage(t.store, { title: '城市交通新规', time: beijingTime(10) });
    await addPage(t.store, { title: '地铁新线开通', time: beijingTime(20) });
    const listed = await t.expectData<{ articles: { nodes: { id: string }[] } }>(`{ articles(first: 10) { nodes { id } } }`);
    const ids = listed.articles.nodes.map((node) => node.id);
    expect(ids).toHaveLength(3);
    const representations = [...ids, draft, '999999'].map((id) => ({ __typename: 'Article', id }));
    t.queries.length = 0;
    await t.expectData(`query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Article { id } } }`, {
      representations,
    });
    expect(t.queries.filter((q) => /\bfrom "?articles"?\b/i.test(q.sql))).toHaveLength(1);
  });

  it('refuses a representation without an id as BAD_USER_INPUT', async () => {
    const result = await t.execute(ENTITIES, { representations: [{ __typename: 'Article', slug: SEED_SLUG }] });
    expect(result.data).toEqual({ _entities: [null] });
    expect(result.errors?.map((e) => ({ path: e.path, code: e.extensions?.code }))).toEqual([
      { path: ['_entities', 0], code: 'BAD_USER_INPUT' },
    ]);
  });

  it('answers _entities and _service alike on graphql-jit, compiled, and on graphql-js', async () => {
    const jit = await createTestServer({ federation: true, executor: 'jit' });
    const js = await createTestServer({ federation: true, executor: 'graphql-js' });
    try {
      const seed = await js.expectData<{ article: { id: string } }>(`{ article(slug: "${SEED_SLUG}") { id } }`);
      const variables = { representations: [{ __typename: 'Article', id: seed.article.id }] };
      const expected = await js.execute(ENTITIES, variables);
      expect(expected.data).toMatchObject({ _entities: [{ title: SEED_TITLE }] });
      // The first run is graphql-js, the later ones the compiled operation.
      for (let run = 1; run <= 3; run++) expect(await jit.execute(ENTITIES, variables), `run ${run}`).toEqual(expected);
      const sdl = await js.execute(`{ _service { sdl } }`);
      for (let run = 1; run <= 3; run++) expect(await jit.execute(`{ _service { sdl } }`), `run ${run}`).toEqual(sdl);
    } finally {
      await jit.close();
      await js.close();
    }
  });

  it('compiles _entities with graphql-jit, and the compiled query resolves entities', async () => {
    const schema = buildSchema({ federation: true });
    const compiled = compileQuery(schema, parse(ENTITIES));
    if (!isCompiledQuery(compiled)) throw new Error(`graphql-jit did not compile _entities: ${JSON.stringify(compiled)}`);
    const result = await compiled.query(undefined, createContext(t.store), {
      representations: [{ __typename: 'Article', id: article.id }],
    });
    expect(result).toEqual({
      data: { _entities: [{ __typename: 'Article', id: article.id, title: SEED_TITLE, section: { name: '原创' }, tags: [] }] },
    });
  });

  it('prices _entities per representation, so a flood of them is refused before it runs', async () => {
    const schema = buildSchema({ federation: true });
    const document = parse(ENTITIES);
    const cost = (n: number) =>
      operationCost(schema, document, { representations: Array.from({ length: n }, () => ({ __typename: 'Article', id: '1' })) });
    expect(cost(10)).toBe(1 + 10 * (cost(1) - 1));
    const tight = await createTestServer({ federation: true, limits: { ...DEFAULT_LIMITS, cost: cost(3) } });
    try {
      const ids = (n: number) => Array.from({ length: n }, () => ({ __typename: 'Article', id: article.id }));
      await tight.expectData(ENTITIES, { representations: ids(3) });
      const [error] = await tight.expectErrors(ENTITIES, { representations: ids(4) });
      expect(error?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', cost: cost(4), budget: cost(3) });
    } finally {
      await tight.close();
    }
  });

  it('keeps _entities in the response cache as long as what it selects: an article, or a list', () => {
    const schema = buildSchema({ federation: true });
    const policy = (query: string) => cachePolicy(schema, parse(query), null, DEFAULT_CACHE);
    expect(policy(ENTITIES)).toEqual({ maxAge: DEFAULT_CACHE.articleSeconds });
    expect(policy(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Article { related(kind: HOT) { title } } } }`)).toEqual({
      maxAge: DEFAULT_CACHE.listSeconds,
    });
  });
});

describe('the plain API (FEDERATION off, the default)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is what the configuration gives unless FEDERATION says otherwise', () => {
    expect(loadConfig({}).federation).toBe(false);
    expect(loadConfig({ FEDERATION: 'true' }).federation).toBe(true);
  });

  it('has neither _service nor _entities, nor the federation directives', async () => {
    const [error] = await t.expectErrors(`{ _service { sdl } }`);
    expect(error?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const schema = buildSchema();
    expect(schema.getDirective('key')).toBeUndefined();
    expect(schema.getDirective('link')).toBeUndefined();
    expect(schema.getType('_Entity')).toBeUndefined();
  });
});

describe('a subgraph over HTTP', () => {
  let server: HttpTestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function post(query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
    const response = await fetch(server!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] };
    return {
      status: response.status,
      cache: response.headers.get('x-cache'),
      cacheControl: response.headers.get('cache-control'),
      body,
      text,
    };
  }
  const TITLE = `query Title($representations: [_Any!]!) { _entities(representations: $representations) { ... on Article { title } } }`;

  it('keeps a public _entities answer in the response cache and purges it when an editor changes the article', async () => {
    server = await startHttpServer({
      env: { FEDERATION: 'true' },
      tokens: { verify: async (token) => (token === 'desk' ? EDITOR : null) },
    });
    const seed = await post(`{ article(slug: "${SEED_SLUG}") { id version } }`, {});
    const { id, version } = (seed.body.data as { article: { id: string; version: number } }).article;
    const representations = [{ __typename: 'Article', id }];
    const answers = [];
    for (let run = 1; run <= 3; run++) answers.push(await post(TITLE, { representations }));
    expect(
      answers.map((a) => a.cache),
      answers.at(-1)?.text,
    ).toEqual([null, 'MISS', 'HIT']);
    expect(answers[2]?.body).toEqual({ data: { _entities: [{ title: SEED_TITLE }] } });
    expect(answers[2]?.cacheControl).toMatch(/^public, max-age=60\b/);
    const forwarded = await post(TITLE, { representations }, { authorization: 'Bearer desk' });
    expect(forwarded.body).toEqual({ data: { _entities: [{ title: SEED_TITLE }] } });
    expect([forwarded.cache, forwarded.cacheControl]).toEqual([null, 'private, no-store']);

    const edited = await post(
      `mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { title: "改过的标题" }) { article { title } } }`,
      { id, v: version },
      { authorization: 'Bearer desk' },
    );
    expect(edited.body.errors, edited.text).toBeUndefined();
    const after = await post(TITLE, { representations });
    expect(after.cache, after.text).not.toBe('HIT');
    expect(after.body).toEqual({ data: { _entities: [{ title: '改过的标题' }] } });
  });

  it('sends no inline traces (per-field timings) to a client that asks for them as a gateway would', async () => {
    server = await startHttpServer({ env: { FEDERATION: 'true' } });
    const answer = await post(
      TITLE,
      { representations: [{ __typename: 'Article', id: '1' }] },
      { 'apollo-federation-include-trace': 'ftv1' },
    );
    expect(answer.body, answer.text).toEqual({ data: { _entities: [{ title: SEED_TITLE }] } });
  });

  it('tells a store failure while resolving entities as 503 STORE_UNAVAILABLE, as any read', async () => {
    server = await startHttpServer({
      env: { FEDERATION: 'true', RESPONSE_CACHE_MB: '0' },
      serve: (store) => failingArticleReads(store),
    });
    const answer = await post(TITLE, { representations: [{ __typename: 'Article', id: '1' }] });
    expect(answer.status, answer.text).toBe(503);
    expect(answer.body.errors?.map((e) => e.extensions?.code)).toEqual(['STORE_UNAVAILABLE']);
  });
});

/** The store, with article look-ups by id failing the way node-postgres reports a refused connection. */
function failingArticleReads(store: ContentStore): ContentStore {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5491'), { code: 'ECONNREFUSED', errno: -111 });
  return Object.assign(Object.create(store) as ContentStore, {
    findArticlesByIds: () => Promise.reject(refused),
  });
}
