import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestServer, startHttpServer } from './helpers.js';

describe('GraphQL over HTTP conformance (graphql-http server audits)', () => {
  let t: HttpTestServer;
  let url: string;
  beforeAll(async () => {
    t = await startHttpServer();
    url = t.url;
  });
  afterAll(() => t.close());

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
