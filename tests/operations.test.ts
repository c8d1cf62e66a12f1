import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/metrics.js';
import { type HttpTestServer, startHttpServer } from './helpers.js';

describe('operating the server: health, readiness, metrics', () => {
  let t: HttpTestServer;
  let base: string;
  const metrics = new Metrics();
  beforeAll(async () => {
    t = await startHttpServer({ metrics, onQuery: metrics.observeQuery });
    base = t.base;
  });
  afterAll(() => t.close());

  const graphql = (body: unknown) =>
    fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('says it is alive and ready', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('counts requests by operation and status, errors by code, and store statements, in Prometheus format', async () => {
    await graphql({ query: 'query FrontPage { articles(first: 2) { totalCount } }', operationName: 'FrontPage' });
    await graphql({ query: 'query FrontPage { articles(first: 2) { totalCount } }', operationName: 'FrontPage' });
    await graphql({ query: 'query Broken { articles(first: 1000) { totalCount } }' });
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/newsgraph_graphql_requests_total\{operation="FrontPage",status="200"\} 2/);
    expect(text).toMatch(/newsgraph_graphql_errors_total\{code="BAD_USER_INPUT"\} 1/);
    expect(text).toMatch(/newsgraph_graphql_request_duration_seconds_count\{operation="FrontPage"\} 2/);
    const statements = /newsgraph_store_query_duration_seconds_count (\d+)/.exec(text);
    expect(Number(statements?.[1])).toBeGreaterThan(0);
    expect(text).toContain('newsgraph_process_resident_memory_bytes');
  });

  it('counts response cache hits as requests, and reports the cache’s lookups and size', async () => {
    const query = 'query Sections { sections { slug name } }';
    for (let i = 0; i < 3; i++) await graphql({ query, operationName: 'Sections' });
    const text = await (await fetch(`${base}/metrics`)).text();
    // Answered, stored, then answered from the cache: three requests, one a hit.
    expect(text).toMatch(/newsgraph_graphql_requests_total\{operation="Sections",status="200"\} 3/);
    expect(text).toMatch(/newsgraph_response_cache_lookups_total\{result="hit"\} 1/);
    expect(text).toMatch(/newsgraph_response_cache_lookups_total\{result="miss_stored"\} [1-9]/);
    expect(Number(/newsgraph_response_cache_entries (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/newsgraph_response_cache_bytes (\d+)/.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it('keeps client-chosen operation names from growing the metrics without bound', async () => {
    await graphql({ query: `query ${'X'.repeat(80)} { sections { slug } }` });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).not.toContain('X'.repeat(80));
    expect(text).toMatch(/newsgraph_graphql_requests_total\{operation="other",status="200"\} 1/);
  });

  it('reports 503 when the store no longer answers', async () => {
    await t.store.close();
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { status: string }).status).toBe('unavailable');
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
