import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, fetchExchange, gql } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken } from '../src/auth/tokens.js';
import { createFreshDatabase, type MainProcess, startMainProcess } from './helpers.js';

// urql as a front-end team uses it, with its defaults, against the server process `npm start` runs:
// a short query goes as a GET carrying nothing but Accept, a mutation as a JSON POST.

const HEADLINES = gql`
  query UrqlHeadlines {
    articles(first: 1) {
      totalCount
      nodes {
        title
      }
    }
  }
`;
const SECTION = gql`
  query UrqlSection {
    section(slug: "yuanchuang") {
      id
    }
  }
`;
const CREATE = gql`
  mutation UrqlCreate($input: CreateArticleInput!) {
    createArticle(input: $input) {
      article {
        title
        status
        version
      }
    }
  }
`;

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  status: number;
  cache: string | null;
}

describe('urql with its defaults, against the server process', () => {
  let main: MainProcess;
  let dir: string;
  let dropDatabase: () => Promise<void>;
  let token: string;
  const sent: Sent[] = [];
  /** urql's own fetch calls, recorded as they went over the wire. */
  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    sent.push({
      method: init?.method ?? 'GET',
      url: String(input),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      status: response.status,
      cache: response.headers.get('x-cache'),
    });
    return response;
  };
  const client = (headers: Record<string, string> = {}): Client =>
    createClient({
      url: `${main.address}/graphql`,
      exchanges: [fetchExchange],
      fetch: recordingFetch,
      requestPolicy: 'network-only',
      ...(Object.keys(headers).length ? { fetchOptions: { headers } } : {}),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-urql-'));
    const tokensFile = join(dir, 'tokens.json');
    token = await addToken(tokensFile, { name: 'urql-desk', role: 'EDITOR' });
    const database = await createFreshDatabase();
    dropDatabase = database.drop;
    main = await startMainProcess({ DATABASE_URL: database.url, NEWSGRAPH_TOKENS_FILE: tokensFile, MAX_REFUSALS_PER_MINUTE: '2' });
  });
  afterAll(async () => {
    main?.child.kill('SIGTERM');
    await main?.exited;
    await dropDatabase?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a short query as a GET with only Accept, and gets it answered (from the response cache once it is kept)', async () => {
    const reader = client();
    sent.length = 0;
    for (let i = 0; i < 3; i++) {
      const result = await reader.query(HEADLINES, {}).toPromise();
      expect(result.error, JSON.stringify(result.error)).toBeUndefined();
      expect(result.data).toEqual({
        articles: {
          totalCount: 1,
          nodes: [{ title: expect.stringMatching(/元宇宙/) }],
        },
      });
    }
    expect(sent.map(({ method, headers, status }) => ({ method, headers, status }))).toEqual(
      Array.from({ length: 3 }, () => ({
        method: 'GET',
        headers: {
          accept: 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed',
        },
        status: 200,
      })),
    );
    expect(sent.map(({ url }) => new URL(url).searchParams.get('query'))).toEqual(Array(3).fill(expect.stringContaining('UrqlHeadlines')));
    // The first asking of a document is not kept, the second is, the third is answered from it.
    expect(sent.map(({ cache }) => cache)).toEqual([null, 'MISS', 'HIT']);
  });

  it('sends a mutation as a JSON POST, which works with an editor token', async () => {
    const section = await client().query(SECTION, {}).toPromise();
    expect(section.error).toBeUndefined();
    const editor = client({ authorization: `Bearer ${token}` });
    sent.length = 0;
    const input = {
      title: 'urql 发来的稿件',
      section: section.data.section.id,
      body: [{ paragraph: '正文' }],
      credits: [{ role: 'WRITER', name: '小编' }],
    };
    const result = await editor.mutation(CREATE, { input }).toPromise();
    expect(result.error, JSON.stringify(result.error)).toBeUndefined();
    expect(result.data.createArticle.article).toEqual({ title: 'urql 发来的稿件', status: 'DRAFT', version: 1 });
    expect(sent).toEqual([
      expect.objectContaining({
        method: 'POST',
        headers: expect.objectContaining({ 'content-type': 'application/json', authorization: `Bearer ${token}` }),
        status: 200,
      }),
    ]);
    // Without the token the same mutation is refused: the token, not the request's shape, is what lets it write.
    const anonymous = await client().mutation(CREATE, { input }).toPromise();
    expect(anonymous.error?.graphQLErrors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});
