import { afterEach, describe, expect, it } from 'vitest';
import type { ContentStore } from '../src/data/store.js';
import { EDITOR, type HttpTestServer, startHttpServer } from './helpers.js';

// The store's failures as the drivers report them, injected in front of a real store: what
// node-postgres throws when the server refuses connections, and a read that never answers (a
// frozen server, a lock), held by a gate that never opens.
const REFUSED = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5491'), { code: 'ECONNREFUSED', errno: -111 });
const WRITES = new Set(['changeArticle', 'createArticle', 'savePage', 'setTeasers', 'createSection', 'updateSection', 'moveSection']);

function breakable(store: ContentStore, state: { mode: 'ok' | 'refused' | 'hung' }): ContentStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const read = typeof property === 'string' && !WRITES.has(property);
        if (state.mode === 'refused') return Promise.reject(REFUSED());
        if (state.mode === 'hung' && read) return new Promise(() => {});
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const ARTICLE = 'query Page($slug: String!) { article(slug: $slug) { id title version } }';
const SLUG = '20230423-7c45cae95cf3';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: { data?: { article?: { id: string; title: string; version: number } }; errors?: { extensions: { code: string } }[] };
}

describe('when the store fails', () => {
  let server: HttpTestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function post(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(server!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Answer['body'] };
  }
  const describeAnswer = (answer: Answer) => `${answer.status} ${JSON.stringify(Object.fromEntries(answer.headers))}\n${answer.text}`;

  it('answers a public request the store cannot answer with its last kept answer, marked STALE; with nothing kept, 503 STORE_UNAVAILABLE and Retry-After', async () => {
    const state = { mode: 'ok' as 'ok' | 'refused' | 'hung' };
    server = await startHttpServer({ env: { RESPONSE_CACHE_TTL: '1' }, serve: (store) => breakable(store, state) });
    await post(ARTICLE, { slug: SLUG });
    const stored = await post(ARTICLE, { slug: SLUG });
    expect(stored.headers.get('x-cache'), describeAnswer(stored)).toBe('MISS');
    // Past its time to live (at most 1 s): no longer answered as a HIT.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    state.mode = 'refused';
    const stale = await post(ARTICLE, { slug: SLUG });
    expect({ status: stale.status, cache: stale.headers.get('x-cache'), text: stale.text }, describeAnswer(stale)).toEqual({
      status: 200,
      cache: 'STALE',
      text: stored.text,
    });
    expect(stale.headers.get('cache-control')).toBe('public, max-age=60, stale-if-error=3600');
    expect(stale.headers.get('retry-after')).toBeNull();

    const never = await post('{ articles(first: 1) { nodes { title } } }');
    expect(never.status, describeAnswer(never)).toBe(503);
    expect(never.body.errors?.[0]?.extensions.code, describeAnswer(never)).toBe('STORE_UNAVAILABLE');
    expect(never.headers.get('retry-after')).toBe('1');

    state.mode = 'ok';
    const back = await post(ARTICLE, { slug: SLUG });
    expect(back.status, describeAnswer(back)).toBe(200);
    expect(back.headers.get('x-cache')).not.toBe('STALE');
  });

  it('never answers with an answer a write purged, even while the store is away', async () => {
    const state = { mode: 'ok' as 'ok' | 'refused' | 'hung' };
    server = await startHttpServer({
      serve: (store) => breakable(store, state),
      tokens: { verify: async (token) => (token === 'desk' ? EDITOR : null) },
    });
    await post(ARTICLE, { slug: SLUG });
    const stored = await post(ARTICLE, { slug: SLUG });
    expect(stored.headers.get('x-cache'), describeAnswer(stored)).toBe('MISS');
    const { id, version } = stored.body.data!.article!;
    const edit = await post(
      'mutation Edit($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { title: "改过的标题" }) { article { version } } }',
      { id, v: version },
      { authorization: 'Bearer desk' },
    );
    expect(edit.body.errors, describeAnswer(edit)).toBeUndefined();

    state.mode = 'refused';
    const answer = await post(ARTICLE, { slug: SLUG });
    expect(answer.status, describeAnswer(answer)).toBe(503);
    expect(answer.body.errors?.[0]?.extensions.code).toBe('STORE_UNAVAILABLE');
  });

  it('gives up on a read that does not answer at the deadline: 503 DEADLINE_EXCEEDED, and the server goes on', async () => {
    const state = { mode: 'ok' as 'ok' | 'refused' | 'hung' };
    server = await startHttpServer({
      env: { REQUEST_TIMEOUT_MS: '300', RESPONSE_CACHE_MB: '0', SECTION_CACHE_RECORDS: '0' },
      serve: (store) => breakable(store, state),
    });
    state.mode = 'hung';
    const started = Date.now();
    const hung = await post('{ sections { name } }');
    // The gate never opens: only the deadline can have ended the wait.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hung.status, describeAnswer(hung)).toBe(503);
    expect(hung.body.errors?.[0]?.extensions.code, describeAnswer(hung)).toBe('DEADLINE_EXCEEDED');
    state.mode = 'ok';
    const after = await post('{ sections { name } }');
    expect(after.status, describeAnswer(after)).toBe(200);
  });
});
