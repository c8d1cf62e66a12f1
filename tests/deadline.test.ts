import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadlineStore } from '../src/data/decorators/deadline.js';
import { DeadlineExceeded } from '../src/data/errors.js';
import { storeErrorToGraphQLError } from '../src/errors.js';
import { createTestStore, startHttpServer, type TestStore } from './helpers.js';

describe('the per-request deadline', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await createTestStore();
  });
  afterAll(() => t.close());

  it('lets store calls through before the deadline and stops every one after it', async () => {
    const open = new DeadlineStore(t.store, Date.now() + 60_000, 60_000);
    expect(await open.countArticles({})).toBe(1);
    const late = new DeadlineStore(t.store, Date.now() - 1, 10);
    t.queries.length = 0;
    expect(() => late.countArticles({})).toThrow(/ran longer than 10 ms/);
    expect(() => late.listSections()).toThrow(DeadlineExceeded);
    expect(t.queries).toEqual([]);
  });

  it('is told to the client as DEADLINE_EXCEEDED, a 503 with Retry-After (the store itself knows nothing of GraphQL)', () => {
    const error = storeErrorToGraphQLError(new DeadlineExceeded(10));
    expect(error?.message).toBe('the request ran longer than 10 ms and was stopped');
    expect(error?.extensions).toEqual({ code: 'DEADLINE_EXCEEDED', http: { status: 503, headers: new Map([['retry-after', '1']]) } });
  });

  it('fails a request that runs past REQUEST_TIMEOUT_MS with 503 DEADLINE_EXCEEDED, and the server goes on', async () => {
    const server = await startHttpServer({ env: { REQUEST_TIMEOUT_MS: '1' } });
    try {
      const post = (query: string) =>
        fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
      // Cutting the seed into words takes longer than 1 ms, so the look-up after it is past the deadline.
      const slow = await post('{ articles(first: 1) { nodes { keywords(first: 20) } } }');
      expect(slow.status).toBe(503);
      const body = (await slow.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe('DEADLINE_EXCEEDED');
      const after = await post('{ __typename }');
      expect(after.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
