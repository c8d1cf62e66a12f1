import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import { mayBePublicPost, publicRequestKey, storedAnswerHeaders } from './hooks.js';
import type { CachedResponse } from './response-cache.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface CacheEdge {
  /** Answers `request` from the cache, or hands it to `next` (Fastify) as if it had come straight from the server. */
  handle(request: IncomingMessage, response: ServerResponse, next: Handler): void;
}

/**
 * The response cache's edge, in front of Fastify: a public request whose
 * answer this process holds is answered by the Node HTTP server's own
 * handler, before Fastify builds a request and a reply, parses the body,
 * makes a request id and runs its hooks. A stored answer is already bytes,
 * so that work was most of what a hit cost.
 *
 * It answers exactly what the preHandler hook in hooks.ts would answer from
 * the cache (the same key, the same headers, the same metrics) and nothing
 * else; everything it does not answer goes to Fastify untouched, or, for a
 * POST whose body it has read, with that body replayed (the `preParsing`
 * hook below). So it steps aside whenever Fastify might refuse the request:
 * a path other than /graphql, a body Fastify would not read as JSON or
 * that is over its limit, a body that secure-json-parse would refuse (it
 * holds `__proto__` or `constructor`), and while the refusal limiter may
 * be cutting some client off (it answers those before anything else).
 */
export function cacheEdge(
  http: FastifyInstance,
  {
    peek,
    metrics,
    bodyLimit,
    mayCutOff = () => false,
    staleIfErrorSeconds = 0,
  }: {
    /** The in-memory store's synchronous lookup. */
    peek: (key: string) => CachedResponse | undefined;
    metrics: Metrics;
    /** Fastify's body limit: a longer body is Fastify's to refuse. */
    bodyLimit: number;
    /** True while the refusal limiter may be cutting some client off. */
    mayCutOff?: () => boolean;
    /** Announced in Cache-Control, as the hook in http.ts does. */
    staleIfErrorSeconds?: number;
  },
): CacheEdge {
  const replays = new WeakMap<IncomingMessage, Buffer>();
  http.addHook('preParsing', (request, _reply, payload, done) => {
    const body = replays.get(request.raw);
    if (body === undefined) return done(null, payload);
    replays.delete(request.raw);
    done(null, Readable.from([body], { objectMode: false }));
  });

  const answer = (response: ServerResponse, entry: CachedResponse, started: number) => {
    response.writeHead(200, { ...storedAnswerHeaders(entry, 'HIT', staleIfErrorSeconds), 'content-length': entry.body.length });
    response.end(entry.body);
    metrics.cacheHit(entry.operationName ?? null, (performance.now() - started) / 1000);
  };

  const lookUpPost = (request: IncomingMessage, body: Buffer): CachedResponse | undefined => {
    const text = body.toString();
    if (text.includes('__proto__') || text.includes('constructor')) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return undefined; // Fastify says what is wrong with it
    }
    const key = publicRequestKey('POST', request.url ?? '', request.headers, parsed);
    return key === null ? undefined : peek(key);
  };

  return {
    handle(request, response, next) {
      const url = request.url ?? '';
      if ((url !== '/graphql' && !url.startsWith('/graphql?')) || mayCutOff()) return next(request, response);
      const started = performance.now();
      if (request.method === 'GET') {
        const key = publicRequestKey('GET', url, request.headers, null);
        const entry = key === null ? undefined : peek(key);
        return entry ? answer(response, entry, started) : next(request, response);
      }
      // Read the body only where it may be answered: a public JSON POST of a length Fastify would read.
      const length = Number(request.headers['content-length']);
      if (request.method !== 'POST' || !mayBePublicPost(request.headers) || !(length > 0 && length <= bodyLimit))
        return next(request, response);
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      // A client that goes away mid-body leaves nothing to answer; the listener keeps its error from ending the process.
      request.on('error', () => {});
      request.once('end', () => {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const entry = lookUpPost(request, body);
        if (entry) return answer(response, entry, started);
        replays.set(request, body);
        next(request, response);
      });
    },
  };
}
