import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest, sha256 } from '../src/safelist/manifest.js';
import { type HttpTestServer, startHttpServer } from './helpers.js';

const run = promisify(execFile);

const OPERATIONS = `
query FrontPage { articles(first: 2) { totalCount nodes { ...Teaser } } }
query SectionList { sections { slug } }
fragment Teaser on Article { title slug }
`;

describe('the operation safelist', () => {
  let t: HttpTestServer;
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'newsgraph-safelist-'));
    writeFileSync(join(dir, 'ops.graphql'), OPERATIONS);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/safelist/cli.ts', join(dir, 'ops.graphql')]);
    writeFileSync(join(dir, 'safelist.json'), stdout);
    t = await startHttpServer({ env: { SAFELIST: join(dir, 'safelist.json') } });
    url = t.url;
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (body: unknown) => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] } };
  };

  it('builds a manifest of named operations with the fragments each uses, ids being sha256 of the body', () => {
    const manifest = buildManifest([{ source: 'ops.graphql', text: OPERATIONS }]);
    expect(manifest.format).toBe('apollo-persisted-query-manifest');
    expect(manifest.operations.map((o) => [o.name, o.type])).toEqual([
      ['FrontPage', 'query'],
      ['SectionList', 'query'],
    ]);
    const [front] = manifest.operations;
    expect(front!.body).toContain('fragment Teaser on Article');
    expect(front!.id).toBe(sha256(front!.body));
    expect(manifest.operations[1]!.body).not.toContain('fragment');
    expect(() => buildManifest([{ source: 'x.graphql', text: '{ sections { slug } }' }])).toThrow(
      /x.graphql: every operation in a safelist needs a name/,
    );
    expect(() => buildManifest([{ source: 'y.graphql', text: 'query A { sections { slug } } query A { sections { name } }' }])).toThrow(
      /two operations are named A/,
    );
  });

  it('runs a listed operation sent in full or by id alone, and refuses anything else', async () => {
    const manifest = buildManifest([{ source: 'ops.graphql', text: OPERATIONS }]);
    const front = manifest.operations[0]!;
    const full = await post({ query: front.body, operationName: 'FrontPage' });
    expect(full.status).toBe(200);
    expect(full.body.data).toMatchObject({ articles: { totalCount: 1 } });

    const byId = await post({ operationName: 'FrontPage', extensions: { persistedQuery: { version: 1, sha256Hash: front.id } } });
    expect(byId.status).toBe(200);
    expect(byId.body.data).toEqual(full.body.data);

    for (const query of ['{ sections { slug name } }', front.body.replace('first: 2', 'first: 3')]) {
      const refused = await post({ query });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.[0]?.extensions.code).toBe('OPERATION_NOT_IN_SAFELIST');
    }
  });
});
