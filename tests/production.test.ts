import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer } from './helpers.js';

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function start(env: Record<string, string>) {
  const logs = new PassThrough();
  let logText = '';
  logs.on('data', (chunk: Buffer) => (logText += chunk));
  const t = await startHttpServer({ env: { NODE_ENV: 'production', LOG_LEVEL: 'info', ...env }, logStream: logs });
  const { url } = t;
  const post = async (query: string) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    return { status: response.status, body: (await response.json()) as Body };
  };
  return { t, url, post, logs: () => logText };
}

describe('production mode', () => {
  let app: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    app = await start({});
  });
  afterAll(() => app.t.close());

  it('refuses introspection of the schema and types, but answers __typename', async () => {
    for (const query of ['{ __schema { types { name } } }', '{ __type(name: "Article") { name fields { name } } }']) {
      const { status, body } = await app.post(query);
      expect(status, query).toBe(400);
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    }
    expect(await app.post('{ __typename }')).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  it('shows no landing page, no stack traces and no field suggestions', async () => {
    const page = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('embeddable-sandbox');
    const { body } = await app.post('{ artcles { totalCount } }');
    expect(body.errors?.[0]?.message).toBe('Cannot query field "artcles" on type "Query".');
    const { body: bad } = await app.post('{ articles(first: 1000) { totalCount } }');
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.extensions).not.toHaveProperty('stacktrace');
  });

  it('masks a store failure as INTERNAL_SERVER_ERROR with the request id, and logs the full error under it', async () => {
    await app.t.store.close();
    const { status, body } = await app.post('{ articles(first: 1) { nodes { title } } }');
    expect(status).toBe(200);
    const [error] = body.errors ?? [];
    expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const requestId = String(error?.extensions?.requestId);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error?.message).toBe(`Internal server error (request ${requestId})`);
    expect(JSON.stringify(body)).not.toMatch(/sqlite|select|destroyed|\/work|\.ts|stacktrace/i);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const logged = app
      .logs()
      .split('\n')
      .find((line) => line.includes('"internal error"') && line.includes(requestId));
    expect(logged).toBeDefined();
    expect(logged).toMatch(/destroyed/i);
  });
});

describe('production switches', () => {
  it('turns introspection and the landing page back on when configured', async () => {
    const app = await start({ INTROSPECTION: 'true', LANDING_PAGE: 'true' });
    try {
      const { status, body } = await app.post('{ __schema { queryType { name } } }');
      expect(status).toBe(200);
      expect(body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      const page = await fetch(app.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).toContain('embeddable-sandbox');
    } finally {
      await app.t.close();
    }
  });
});
