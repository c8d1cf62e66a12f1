import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeWithDeadline } from '../src/data/decorators/deadline.js';
import { createTestStore, startHttpServer, type TestStore } from './helpers.js';

describe('the per-request deadline', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await createTestStore();
  });
  afterAll(() => t.close());

  it('lets store calls through before the deadline and stops every one after it', async () => {
    const open = storeWithDeadline(t.store, Date.now() + 60_000, 60_000);
    expect(await open.countArticles({})).toBe(1);
    const late = storeWithDeadline(t.store, Date.now() - 1, 10);
    t.queries.length = 0;
    expect(() => late.countArticles({})).toThrow(/ran longer than 10 ms/);
    expect(() => late.listSections()).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'DEADLINE_EXCEEDED' }) }));
    expect(t.queries).toEqual([]);
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
