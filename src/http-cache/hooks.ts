import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics.js';
import { ResponseCacheHints } from './hints.js';
import type { CachedResponse, ResponseStore } from './response-cache.js';

/**
 * What the cache keeps of one public request that missed it, from the
 * point it decided the request may be answered from or stored in the cache
 * (preHandler) to the point its answer is sent (onSend). Only the hooks
 * below write it; the request's context gets `hints` alone.
 */
interface PendingAnswer {
  key: string;
  /** The cache's generation when the request began: a purge since then means it may have read old content. */
  generation: number;
  /** Whether its answer may be stored (false while the shared cache is gone past). */
  storable: boolean;
  /** Passed to the request's context, which fills them in while the request runs. */
  hints: ResponseCacheHints;
  /** Settles, with the stored answer or null, once this request's answer is stored or known not to be. */
  settle(entry: CachedResponse | null): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the response cache's hooks (src/http-cache/hooks.ts) for a public GraphQL request that missed it. */
    responseCache?: PendingAnswer | null;
  }
}

interface InFlight {
  generation: number;
  answer: Promise<CachedResponse | null>;
}

/**
 * The hints a request's context fills in for the response cache, when the
 * cache may answer it or keep its answer; for the context factory.
 */
export function responseCacheHints(request: FastifyRequest): ResponseCacheHints | undefined {
  return request.responseCache?.hints;
}

interface GraphQLBody {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

/** Whether a POST's headers allow a public answer, whatever its body: no editor token, a JSON body. */
export function mayBePublicPost(headers: IncomingHttpHeaders): boolean {
  return headers.authorization === undefined && (headers['content-type'] ?? '').startsWith('application/json');
}

/**
 * The key of a public GraphQL request, or null when it must go the whole
 * way through Apollo: editors (any Authorization header), batches, and
 * POSTs Apollo would refuse for their body's type (a cached answer must not
 * get past a check the uncached one would fail). Any GET is public: no
 * header is needed (README, "Browsers and other origins"). The Accept
 * header is part of the key because it chooses the response's content type
 * (GET answers say `Vary: Accept`, src/cors.ts); the origin is not, since
 * CORS headers are set per request and never kept. `body` is the parsed
 * JSON body of a POST. Both the edge (edge.ts) and the hook below key
 * requests with it, so each finds what the other stored.
 */
export function publicRequestKey(method: string | undefined, url: string, headers: IncomingHttpHeaders, body: unknown): string | null {
  if (headers.authorization !== undefined) return null;
  const accept = headers.accept ?? '';
  if (method === 'GET') return `G\n${accept}\n${url}`;
  if (method !== 'POST' || !mayBePublicPost(headers)) return null;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { query, operationName, variables, extensions } = body as GraphQLBody;
  return `P\n${accept}\n${typeof query === 'string' ? query : ''}\n${typeof operationName === 'string' ? operationName : ''}\n${JSON.stringify(variables ?? null)}\n${JSON.stringify(extensions ?? null)}`;
}

const keyOf = (request: FastifyRequest) => publicRequestKey(request.method, request.url, request.headers, request.body);

/**
 * `Cache-Control` of a public answer: its max-age, and how long past it a
 * cache may still send it when newsgraph cannot answer (`stale-if-error`,
 * RFC 5861), as newsgraph's own cache does.
 */
export function publicCacheControl(maxAgeSeconds: number, staleIfErrorSeconds: number): string {
  return staleIfErrorSeconds > 0
    ? `public, max-age=${maxAgeSeconds}, stale-if-error=${staleIfErrorSeconds}`
    : `public, max-age=${maxAgeSeconds}`;
}

/**
 * The headers of an answer sent from the cache, here and at the edge
 * (besides its length). STALE: the store could not answer, and this is the
 * last answer kept for the request, past its freshness.
 */
export function storedAnswerHeaders(
  entry: CachedResponse,
  how: 'HIT' | 'SHARED' | 'STALE',
  staleIfErrorSeconds: number,
): Record<string, string> {
  return {
    'content-type': entry.contentType,
    'cache-control': publicCacheControl(entry.maxAgeSeconds, staleIfErrorSeconds),
    'x-cache': how,
  };
}

function operationNameOf(request: FastifyRequest): string | null {
  const source = (request.method === 'GET' ? request.query : request.body) as { operationName?: unknown } | null;
  return typeof source?.operationName === 'string' ? source.operationName : null;
}

/** How much shorter than the TTL an answer may be kept: up to a fifth. */
const TTL_SPREAD = 0.2;

/**
 * How long (ms) one answer is kept: the TTL less a random part of up to a
 * fifth. Answers stored together (a warm-up, a purge followed by a burst of
 * readers) would otherwise all expire in the same moment and be computed
 * again in one burst, on a single event loop; the TTL stays the bound on
 * how long an answer nothing purged can be served.
 */
export function keptFor(ttlSeconds: number, random = Math.random()): number {
  return Math.round(ttlSeconds * 1000 * (1 - TTL_SPREAD * random));
}

/**
 * The response cache at the HTTP edge: a public request whose answer is
 * stored is answered from the stored bytes before any GraphQL work (no
 * parse, validation, execution or serialization); one that is not goes
 * through Apollo and, if its policy allows, its exact response bytes are
 * stored with the tags it read, for `ttlSeconds` or until a purge. Headers
 * say which happened (`x-cache`).
 *
 * Identical requests that miss together are answered once: the first runs,
 * the others wait for its answer (an expired popular page would otherwise
 * be computed by every request that arrives while it is being computed).
 * Only requests that arrived in the same cache generation wait for each
 * other, so nobody who asks after a purge gets an answer begun before it.
 */
export function serveFromCache(
  http: FastifyInstance,
  {
    cache,
    metrics,
    ttlSeconds,
    staleIfErrorSeconds = 0,
  }: { cache: ResponseStore; metrics: Metrics; ttlSeconds: number; staleIfErrorSeconds?: number },
): void {
  const inFlight = new Map<string, InFlight>();
  const send = (reply: FastifyReply, entry: CachedResponse, how: 'HIT' | 'SHARED') =>
    reply
      .code(200)
      .headers(storedAnswerHeaders(entry, how, staleIfErrorSeconds))
      .send(entry.body);
  /** A request that goes past the cache: answered by Apollo, never stored, but a kept answer may stand in if the store fails. */
  const bypass = (request: FastifyRequest, key: string) => {
    metrics.cacheBypassed();
    request.responseCache = { key, generation: -1, storable: false, hints: new ResponseCacheHints(), settle: () => {} };
  };

  http.decorateRequest('responseCache', null);

  http.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/graphql') return;
    const key = keyOf(request);
    if (key === null) return;
    // A shared cache that cannot be reached or trusted now (see SharedPurges) is gone past, not waited for.
    if (cache.usable && !cache.usable()) return bypass(request, key);
    const started = performance.now();
    let hit: CachedResponse | undefined;
    let generation: number;
    try {
      hit = await cache.get(key);
      generation = hit ? 0 : await cache.generation();
    } catch {
      // A shared cache that does not answer (Redis away) must not take public reads down with it.
      return bypass(request, key);
    }
    if (hit) {
      metrics.cacheHit(operationNameOf(request), (performance.now() - started) / 1000);
      return send(reply, hit, 'HIT');
    }
    const leader = inFlight.get(key);
    if (leader && leader.generation === generation) {
      const shared = await leader.answer;
      if (shared) {
        metrics.cacheHit(operationNameOf(request), (performance.now() - started) / 1000);
        return send(reply, shared, 'SHARED');
      }
      // The leader's answer could not be stored (an error, a purge meanwhile): run this one too.
    }
    let settle!: (entry: CachedResponse | null) => void;
    const answer = new Promise<CachedResponse | null>((resolve) => (settle = resolve));
    const own: InFlight = { generation, answer };
    inFlight.set(key, own);
    request.responseCache = {
      key,
      generation,
      storable: true,
      hints: new ResponseCacheHints(),
      settle: (entry) => {
        if (inFlight.get(key) === own) inFlight.delete(key);
        settle(entry);
      },
    };
  });

  http.addHook('onSend', async (request, reply, payload) => {
    const pending = request.responseCache;
    if (!pending) return payload;
    request.responseCache = null;
    // The store could not answer (away, full of locks, past the deadline): the last answer kept for
    // this request, if any, is better for a reader than an error (stale-if-error).
    if (reply.statusCode === 503 && staleIfErrorSeconds > 0) {
      const kept = await cache.stale(pending.key).catch(() => undefined);
      pending.settle(null);
      if (!kept) return payload;
      metrics.staleServed();
      reply.removeHeader('retry-after');
      void reply.code(200).headers(storedAnswerHeaders(kept, 'STALE', staleIfErrorSeconds));
      return kept.body;
    }
    if (!pending.storable || pending.hints.maxAge <= 0 || reply.statusCode !== 200 || typeof payload !== 'string') {
      metrics.cacheMiss(false);
      pending.settle(null);
      return payload;
    }
    const entry: CachedResponse = {
      body: Buffer.from(payload),
      contentType: String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8'),
      tags: [...pending.hints.tags],
      operationName: operationNameOf(request),
      maxAgeSeconds: pending.hints.maxAge,
      expiresAt: Date.now() + keptFor(ttlSeconds),
    };
    const stored = await cache.set(pending.key, entry, pending.generation).catch((error: unknown) => {
      request.log.warn({ err: error }, 'could not store the answer in the response cache');
      return false;
    });
    metrics.cacheMiss(stored);
    pending.settle(stored ? entry : null);
    if (stored) void reply.header('x-cache', 'MISS');
    // The bytes just encoded: sent as a string, Fastify would measure and encode the text again.
    return entry.body;
  });

  // A request that failed before sending (or whose client went away) must not leave others waiting.
  http.addHook('onResponse', async (request) => {
    const pending = request.responseCache;
    if (!pending) return;
    request.responseCache = null;
    pending.settle(null);
  });
}
