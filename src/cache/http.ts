import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Context } from '../context.js';
import type { Metrics } from '../metrics.js';
import { cachePolicy, type CacheAges } from './policy.js';
import type { ResponseCache } from './response-cache.js';

/** What one public request that missed the cache carries to the point where its response is stored. */
export interface CacheCandidate {
  key: string;
  /** The cache's generation when the request began: a purge since then means it may have read old content. */
  generation: number;
  /** Filled by the tagging store while the request runs. */
  tags: Set<string>;
  /** Set by the policy plugin when the response may be kept, and for how long. */
  maxAge: number;
}

const candidates = new WeakMap<FastifyRequest, CacheCandidate>();

/** The candidate a request's context should tag, if the request may be answered from and stored in the cache. */
export function cacheCandidate(request: FastifyRequest): CacheCandidate | undefined {
  return candidates.get(request);
}

interface GraphQLBody {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

/**
 * The key of a public GraphQL request, or null when it must go the whole
 * way through Apollo: editors (any Authorization header), batches, and
 * requests that Apollo's CSRF prevention would refuse (a cached answer must
 * not get past a check the uncached one would fail). The Accept header is
 * part of the key because it chooses the response's content type.
 */
function keyOf(request: FastifyRequest): string | null {
  const { headers } = request;
  if (headers.authorization !== undefined) return null;
  const accept = headers.accept ?? '';
  if (request.method === 'GET') {
    const preflighted =
      headers['apollo-require-preflight'] !== undefined ||
      headers['x-apollo-operation-name'] !== undefined ||
      (headers['content-type'] ?? '').startsWith('application/json');
    return preflighted ? `G\n${accept}\n${request.url}` : null;
  }
  if (request.method !== 'POST' || !(headers['content-type'] ?? '').startsWith('application/json')) return null;
  const body = request.body as GraphQLBody | unknown[] | null;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { query, operationName, variables, extensions } = body;
  return `P\n${accept}\n${typeof query === 'string' ? query : ''}\n${typeof operationName === 'string' ? operationName : ''}\n${JSON.stringify(variables ?? null)}\n${JSON.stringify(extensions ?? null)}`;
}

function operationNameOf(request: FastifyRequest): string | null {
  const source = (request.method === 'GET' ? request.query : request.body) as { operationName?: unknown } | null;
  return typeof source?.operationName === 'string' ? source.operationName : null;
}

/**
 * The response cache at the HTTP edge: a public request whose answer is
 * stored is answered from the stored bytes before any GraphQL work (no
 * parse, validation, execution or serialization); one that is not goes
 * through Apollo and, if its policy allows, its exact response bytes are
 * stored with the tags it read. Headers say which happened (`x-cache`).
 */
export function serveFromCache(http: FastifyInstance, { cache, metrics }: { cache: ResponseCache; metrics: Metrics }): void {
  http.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const key = keyOf(request);
    if (key === null) return;
    const started = performance.now();
    const hit = cache.get(key);
    if (!hit) {
      candidates.set(request, { key, generation: cache.generation, tags: new Set(), maxAge: 0 });
      return;
    }
    const age = Math.floor((Date.now() - hit.storedAt) / 1000);
    metrics.cacheHit(operationNameOf(request), (performance.now() - started) / 1000);
    return reply
      .code(200)
      .header('content-type', hit.contentType)
      .header('cache-control', `public, max-age=${hit.maxAgeSeconds}`)
      .header('age', String(age))
      .header('x-cache', 'HIT')
      .send(hit.body);
  });

  http.addHook('onSend', async (request, reply, payload) => {
    const candidate = candidates.get(request);
    if (!candidate) return payload;
    candidates.delete(request);
    if (candidate.maxAge <= 0 || reply.statusCode !== 200 || typeof payload !== 'string') {
      metrics.cacheMiss(false);
      return payload;
    }
    const stored = cache.set(
      candidate.key,
      {
        body: Buffer.from(payload),
        contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
        tags: [...candidate.tags],
        storedAt: Date.now(),
        maxAgeSeconds: candidate.maxAge,
      },
      candidate.generation,
    );
    metrics.cacheMiss(stored);
    void reply.header('x-cache', 'MISS');
    return payload;
  });
}

/**
 * Cache-Control for every GraphQL response, from the static policy: a
 * public query answered without errors is `public, max-age=N` (so a CDN may
 * keep it, and so may our response cache); anything an editor sees is
 * `private, no-store`; mutations and failed requests are `no-store`.
 */
export function cacheControlPlugin(ages: CacheAges): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response, document, operationName, schema, errors }) {
          const { headers } = response.http;
          if (contextValue.private) {
            headers.set('cache-control', 'private, no-store');
            return;
          }
          const policy = document && !errors?.length ? cachePolicy(schema, document, operationName, ages) : null;
          const ok = (response.http.status ?? 200) === 200 && response.body.kind === 'single' && !response.body.singleResult.errors;
          if (!policy || !ok || policy.maxAge <= 0) {
            headers.set('cache-control', 'no-store');
            return;
          }
          headers.set('cache-control', `public, max-age=${policy.maxAge}`);
          if (contextValue.cache) contextValue.cache.maxAge = policy.maxAge;
        },
      };
    },
  };
}
