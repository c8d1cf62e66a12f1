import { readFileSync } from 'node:fs';
import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, ServerError, type TypedDocumentNode } from '@apollo/client';
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNewsgraphCache } from '../schema/clients/apollo-cache.js';
import {
  ARTICLE_PAGE,
  BLOCKS,
  catchWarnings,
  EXTRA_ARTICLES,
  SEARCH,
  SECTION_CARDS,
  SEED_SLUG,
  startPortalServer,
} from './client-pages.js';
import type { MainProcess } from './helpers.js';

// Apollo Client as a portal's front end runs it: against the real server process in production
// mode (introspection off), with the cache set up from what the repository ships
// (schema/clients/apollo-cache.ts: possibleTypes.json and the documented type policies). The pages a
// reader goes through land in one cache, each stays readable from it, and Apollo never warns.

describe('Apollo Client against the server, with the cache the repository ships', () => {
  let server: Awaited<ReturnType<typeof startPortalServer>>;
  let main: MainProcess;
  beforeAll(async () => {
    // Apollo's warnings in words rather than message numbers, so a failure shows what it warned about.
    loadDevMessages();
    loadErrorMessages();
    server = await startPortalServer('apollo');
    main = server.main;
  });
  afterAll(async () => {
    await server?.close();
  });

  let warnings: unknown[][];
  beforeEach(() => {
    warnings = catchWarnings();
  });
  afterEach(() => vi.restoreAllMocks());

  const client = () => new ApolloClient({ link: new HttpLink({ uri: `${main.address}/graphql` }), cache: createNewsgraphCache() });

  it('keeps the article page, the section cards walked to the end and search all readable from one cache, without a warning', async () => {
    const apollo = client();
    const articlePage = await apollo.query({ query: ARTICLE_PAGE, variables: { slug: SEED_SLUG } });
    expect(articlePage.error).toBeUndefined();

    // The section page, walked to the end with fetchMore; relayStylePagination joins the pages.
    const cards = apollo.watchQuery({ query: SECTION_CARDS, variables: { slug: 'yuanchuang' } });
    const subscription = cards.subscribe(() => {});
    try {
      let page = (await cards.refetch()).data!.section.articles;
      for (let i = 0; i < 10 && page.pageInfo.hasNextPage; i++) {
        page = (await cards.fetchMore({ variables: { after: page.pageInfo.endCursor } })).data!.section.articles;
      }
      expect(page.pageInfo.hasNextPage).toBe(false);
    } finally {
      subscription.unsubscribe();
    }

    const search = await apollo.query({ query: SEARCH, variables: { query: '元宇宙' } });
    expect(search.error).toBeUndefined();

    const cached = <T, V extends Record<string, unknown>>(query: TypedDocumentNode<T, V>, variables: V) => {
      const diff = apollo.cache.diff<T, V>({ query, variables, optimistic: false });
      expect(diff.missing?.message, JSON.stringify(diff.missing?.missing)).toBeUndefined();
      expect(diff.complete).toBe(true);
      return diff.result as T;
    };
    expect(cached(ARTICLE_PAGE, { slug: SEED_SLUG })).toEqual(articlePage.data);
    const walked = cached(SECTION_CARDS, { slug: 'yuanchuang' }).section.articles.edges.map((e) => e.node);
    expect(walked).toHaveLength(1 + EXTRA_ARTICLES);
    expect(new Set(walked.map((card) => card.id)).size).toBe(walked.length);
    expect(walked.every((card) => card.source !== null && 'url' in card.source && card.tags.every((tag) => tag.slug))).toBe(true);
    expect(cached(SEARCH, { query: '元宇宙' })).toEqual(search.data);
    // The tags the cards and the article page share are one object in the cache.
    const tag = walked.flatMap((card) => card.tags).find((t) => t.name === '元宇宙')!;
    expect((apollo.cache.extract() as Record<string, unknown>)[`Tag:${tag.id}`]).toMatchObject({ name: '元宇宙', slug: 'yuanyuzhou' });

    expect(warnings).toEqual([]);
  });

  it('sends automatic persisted queries by hash over GET, as the README sets them up', async () => {
    const sent: { method: string; hasQuery: boolean }[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      sent.push({ method: init?.method ?? 'GET', hasQuery: url.searchParams.has('query') || String(init?.body ?? '').includes('"query"') });
      return fetch(input, init);
    };
    // The README's link, byte for byte apart from the recording fetch.
    const sha256 = async (text: string) =>
      Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))), (b) =>
        b.toString(16).padStart(2, '0'),
      ).join('');
    const persistedClient = () =>
      new ApolloClient({
        link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
          new HttpLink({ uri: `${main.address}/graphql`, headers: { 'apollo-require-preflight': 'true' }, fetch: recordingFetch }),
        ),
        cache: createNewsgraphCache(),
      });
    const first = await persistedClient().query({ query: ARTICLE_PAGE, variables: { slug: SEED_SLUG } });
    expect(first.error).toBeUndefined();
    sent.length = 0;
    const second = await persistedClient().query({ query: ARTICLE_PAGE, variables: { slug: SEED_SLUG } });
    expect(second.data).toEqual(first.data);
    expect(sent).toEqual([{ method: 'GET', hasQuery: false }]);
    expect(warnings).toEqual([]);
  });

  it('reports the error codes the README lists: GraphQL errors with extensions.code, HTTP refusals with their status', async () => {
    const apollo = client();
    const refused = await apollo.query({ query: gql`query Both { article(id: "1", slug: "x") { id } }` }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(CombinedGraphQLErrors.is(refused) && refused.errors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const tooDeep = await apollo
      .query({
        query: gql`query Deep { sections { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }`,
      })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(CombinedGraphQLErrors.is(tooDeep) && tooDeep.errors.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(ServerError.is(tooDeep)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('answers fragments on the ContentBlock union with each block’s text or caption, from the network and from the cache', async () => {
    const apollo = client();
    const { data } = await apollo.query({ query: BLOCKS, variables: { slug: SEED_SLUG } });
    const body = (data as { article: { body: { __typename: string; text?: string; caption?: string | null }[] } }).article.body;
    expect(body.length).toBeGreaterThan(1);
    for (const block of body) expect(block.__typename === 'Paragraph' ? block.text : 'caption' in block).toBeTruthy();
    expect(body.some((block) => block.__typename === 'Image')).toBe(true);
    const again = await apollo.query({ query: BLOCKS, variables: { slug: SEED_SLUG }, fetchPolicy: 'cache-only' });
    expect(again.data).toEqual(data);
    expect(warnings).toEqual([]);
  });
});

describe('the README', () => {
  it('shows the Apollo Client cache configuration exactly as schema/clients/apollo-cache.ts ships it', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const shipped = readFileSync(new URL('../schema/clients/apollo-cache.ts', import.meta.url), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${shipped}\`\`\``);
  });
});
