import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { buildServer, type Server } from '../src/server.js';
import { createTestStore, type TestStore } from './helpers.js';

describe('GraphQL over HTTP conformance (graphql-http server audits)', () => {
  let t: TestStore;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    t = await createTestStore();
    const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: `sqlite:${t.dir}/unused.db` });
    server = await buildServer({ config, store: t.store, tokens: TokenStore.empty() });
    url = `${await server.http.listen({ host: '127.0.0.1', port: 0 })}/graphql`;
  });
  afterAll(async () => {
    await server.http.close();
    await t.close();
  });

  it('fails no MUST-level audit in the development configuration', async () => {
    const audits = serverAudits({ url });
    const failures: string[] = [];
    let must = 0;
    for (const audit of audits) {
      if (audit.name.startsWith('MUST')) must++;
      const result = await audit.fn();
      if (result.status === 'error') failures.push(`${audit.name}: ${result.reason}`);
    }
    expect(must).toBeGreaterThan(10);
    expect(failures).toEqual([]);
  });
});
