import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '../src/auth/tokens.js';
import { type MainProcess, startMainProcess, TEST_STORE } from './helpers.js';

// newsgraph composed into a supergraph with Apollo's own composition library, and queried
// through Apollo's gateway together with a second subgraph started here: a comments service
// that extends Article by its key, and adds followers to the tags newsgraph refers to by slug. newsgraph runs as the real process (`FEDERATION=true`).

const SEED_SLUG = '20230423-7c45cae95cf3';
const SEED_TITLE = '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始';

const COMMENTS_SDL = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  "An article of newsgraph, as the comments service knows it: by its id."
  type Article @key(fields: "id") {
    id: ID!
    "Readers' comments on the article, oldest first."
    comments: [Comment!]!
  }

  "A tag of newsgraph's, which newsgraph refers to by slug and this service adds followers to."
  type Tag @key(fields: "slug") {
    slug: String!
    "How many readers follow the tag."
    followers: Int!
  }

  "A reader's comment."
  type Comment {
    author: String!
    text: String!
  }
`;

const FOLLOWERS = new Map([['yuanyuzhou', 1024]]);

/** The comments subgraph: a tiny Apollo Server on a free loopback port, its comments keyed by article id. */
async function startCommentsSubgraph(commentsByArticle: Map<string, { author: string; text: string }[]>) {
  const server = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: COMMENTS_SDL,
      resolvers: {
        Article: {
          __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
          comments: (article: { id: string }) => commentsByArticle.get(article.id) ?? [],
        },
        Tag: {
          __resolveReference: (reference: { slug: string }) => ({ slug: reference.slug }),
          followers: (tag: { slug: string }) => FOLLOWERS.get(tag.slug) ?? 0,
        },
      },
    }),
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return { server, url };
}

async function postGraphQL(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  const body = JSON.parse(text) as { data?: unknown; errors?: unknown };
  if (body.errors !== undefined) throw new Error(`${query}\n→ ${text}`);
  return body.data;
}

// One SQLite file of its own for the server process; the PostgreSQL half adds nothing here.
describe.skipIf(TEST_STORE === 'postgres')('newsgraph in a supergraph', () => {
  let dir: string;
  let main: MainProcess | undefined;
  let comments: Awaited<ReturnType<typeof startCommentsSubgraph>> | undefined;
  let gateway: ApolloServer | undefined;
  let newsgraphUrl: string;
  let composition: ReturnType<typeof composeServices>;
  const commentsByArticle = new Map<string, { author: string; text: string }[]>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-federation-'));
    const tokensFile = join(dir, 'tokens.json');
    const editor = await addToken(tokensFile, { name: 'night-desk', role: 'EDITOR' });
    main = await startMainProcess({ DATABASE_URL: `sqlite:${dir}/newsgraph.db`, NEWSGRAPH_TOKENS_FILE: tokensFile, FEDERATION: 'true' });
    newsgraphUrl = `${main.address}/graphql`;
    const seed = (await postGraphQL(newsgraphUrl, `{ article(slug: "${SEED_SLUG}") { id version } }`)) as {
      article: { id: string; version: number };
    };
    await postGraphQL(
      newsgraphUrl,
      `mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { tags: ["元宇宙"] }) { article { id } } }`,
      { id: seed.article.id, v: seed.article.version },
      { authorization: `Bearer ${editor}` },
    );
    commentsByArticle.set(seed.article.id, [
      { author: '读者甲', text: '元宇宙还早。' },
      { author: '读者乙', text: '写得好。' },
    ]);
    comments = await startCommentsSubgraph(commentsByArticle);
    const { _service } = (await postGraphQL(newsgraphUrl, '{ _service { sdl } }')) as { _service: { sdl: string } };
    composition = composeServices([
      { name: 'newsgraph', typeDefs: parse(_service.sdl), url: newsgraphUrl },
      { name: 'comments', typeDefs: COMMENTS_SDL, url: comments.url },
    ]);
  });
  afterAll(async () => {
    await gateway?.stop();
    await comments?.server.stop();
    if (main) {
      main.child.kill('SIGTERM');
      await main.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("composes newsgraph's subgraph SDL with the comments subgraph without errors", () => {
    expect(composition.errors?.map((error) => error.message)).toBeUndefined();
    // What the supergraph offers clients: newsgraph's API, with comments on its articles.
    expect(composition.supergraphSdl).toMatch(/type Article\s[^{]*@join__type\(graph: NEWSGRAPH, key: "id"\)/);
    expect(composition.supergraphSdl).toMatch(/comments: \[Comment!\]! @join__field\(graph: COMMENTS\)/);
    expect(composition.supergraphSdl).toMatch(/type Tag\s[^{]*@join__type\(graph: NEWSGRAPH, key: "slug", resolvable: false\)/);
  });

  it('answers through the gateway a query that needs both subgraphs: titles from newsgraph, comments from the other', async () => {
    assert(composition.supergraphSdl !== undefined, `composition failed: ${composition.errors?.map((e) => e.message).join('; ')}`);
    gateway = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: composition.supergraphSdl }) });
    await gateway.start();
    const response = await gateway.executeOperation({
      query: `query ArticleWithComments($slug: String!) {
        article(slug: $slug) { title section { name } tags { name followers } comments { author text } }
        articles(first: 5) { nodes { slug comments { author } } }
      }`,
      variables: { slug: SEED_SLUG },
    });
    assert(response.body.kind === 'single');
    expect(response.body.singleResult.errors, JSON.stringify(response.body.singleResult)).toBeUndefined();
    expect(response.body.singleResult.data).toEqual({
      article: {
        title: SEED_TITLE,
        section: { name: '原创' },
        tags: [{ name: '元宇宙', followers: 1024 }],
        comments: [
          { author: '读者甲', text: '元宇宙还早。' },
          { author: '读者乙', text: '写得好。' },
        ],
      },
      articles: { nodes: [{ slug: SEED_SLUG, comments: [{ author: '读者甲' }, { author: '读者乙' }] }] },
    });
  });
});
