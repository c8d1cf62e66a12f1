import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ApolloClient, CombinedGraphQLErrors, gql, HttpLink, ServerError, type TypedDocumentNode } from '@apollo/client';
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNewsgraphCache } from '../schema/clients/apollo-cache.js';
import { beijingTime, type MainProcess, pageText, SEED_FILE, startMainProcess } from './helpers.js';

// Apollo Client as a portal's front end runs it: against the real server process in production
// mode (introspection off), with the cache set up from what the repository ships
// (schema/clients/apollo-cache.ts: possibleTypes.json and the documented type policies). The pages a
// reader goes through land in one cache, each stays readable from it, and Apollo never warns.

const SEED_SLUG = '20230423-7c45cae95cf3';
const EXTRA_ARTICLES = 5;

/** The README's first example: the whole article page. */
const ARTICLE_PAGE: TypedDocumentNode<{ article: { id: string } }, { slug: string }> = gql`
  query ArticlePage($slug: String!) {
    article(slug: $slug) {
      id
      title
      source { name }
      publishedAt
      section { id name path { id name } }
      body {
        __typename
        ... on Paragraph { text }
        ... on Image { caption url }
      }
      credits { role label name }
      tags { id name }
      excerpt
      wordCount
      readingMinutes
      hot: related(kind: HOT, first: 6) { kind title summary url }
    }
  }
`;

interface Card {
  id: string;
  slug: string;
  title: string;
  source: { name: string; url: string | null } | null;
  tags: { id: string; name: string; slug: string }[];
}
interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** A section page's cards, two at a time. */
const SECTION_CARDS: TypedDocumentNode<
  { section: { id: string; name: string; articles: Page<Card> } },
  { slug: string; after?: string | null }
> = gql`
  query SectionCards($slug: String!, $after: String) {
    section(slug: $slug) {
      id
      name
      articles(first: 2, after: $after) {
        edges { cursor node { id slug title publishedAt excerpt source { name url } tags { id name slug } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`;

const SEARCH: TypedDocumentNode<
  { search: Page<{ score: number; snippet: string; article: { id: string; slug: string; title: string } }> },
  { query: string; after?: string | null }
> = gql`
  query Search($query: String!, $after: String) {
    search(query: $query, first: 2, after: $after) {
      edges { cursor node { score snippet article { id slug title source { name } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

const BLOCKS = gql`
  query ArticleBlocks($slug: String!) {
    article(slug: $slug) { id body { ...Block } }
  }
  fragment Block on ContentBlock {
    __typename
    ... on Paragraph { text }
    ... on Image { caption }
  }
`;

describe('Apollo Client against the server, with the cache the repository ships', () => {
  let dir: string;
  let main: MainProcess;
  beforeAll(async () => {
    // Apollo's warnings in words rather than message numbers, so a failure shows what it warned about.
    loadDevMessages();
    loadErrorMessages();
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-apollo-'));
    const pages = join(dir, 'pages');
    mkdirSync(pages);
    copyFileSync(SEED_FILE, join(pages, basename(SEED_FILE)));
    for (let i = 0; i < EXTRA_ARTICLES; i++) {
      writeFileSync(
        join(pages, `extra-${i}.txt`),
        pageText({
          title: `元宇宙产业观察第${i + 1}期`,
          time: beijingTime(i * 60),
          paragraphs: [`第${i + 1}期：元宇宙产业的新动向。`],
          credits: `撰文:记者${i + 1}`,
          tags: ['元宇宙', `观察${i + 1}`],
        }),
      );
    }
    main = await startMainProcess({ DATABASE_URL: `sqlite:${join(dir, 'newsgraph.db')}`, SEED_PATH: pages, NODE_ENV: 'production' });
  });
  afterAll(async () => {
    if (main && main.child.exitCode === null) {
      main.child.kill('SIGTERM');
      await main.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  let warnings: unknown[][];
  beforeEach(() => {
    warnings = [];
    for (const level of ['warn', 'error'] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void warnings.push([level, ...args]));
    }
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
