import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import type { BrowserAccess } from './cors.js';
import { shuttingDown } from './errors.js';
import type { CacheEdge } from './http-cache/edge.js';

/**
 * The Node HTTP server Fastify runs on, with three things in front of
 * Fastify's own handler, in this order: CORS (src/cors.ts) sets the
 * headers every /graphql answer carries, whoever writes it, and answers
 * preflights; requests that arrive while the server closes are refused
 * (`refuseWhileClosing`); and public requests whose answer this process
 * holds are answered by the response cache's edge (src/http-cache/edge.ts)
 * before Fastify does any work.
 *
 * Fastify has no option that puts code in front of its handler except
 * `serverFactory`, so this is one; it builds the server as Fastify's own
 * lib/server.js does for plain HTTP (the same three timeouts). Fastify's
 * `return503OnClosing` cannot stand in for the refusal: it runs inside
 * Fastify's router, after the edge, which would go on answering from the
 * cache while the server drains.
 */
export function edgeServerFactory({
  cors,
  closing,
  edge,
}: {
  cors: BrowserAccess;
  closing: () => boolean;
  edge: () => CacheEdge | null;
}): FastifyServerFactory {
  return (handler, options) => {
    const { keepAliveTimeout, requestTimeout, connectionTimeout } = options as Record<
      'keepAliveTimeout' | 'requestTimeout' | 'connectionTimeout',
      number
    >;
    const server = createServer((request, response) => {
      // Headers set here are kept when Fastify, the edge or a refusal writes the head (Node merges them), so a
      // page can read a 503 or a 429 too. A preflight costs nothing and is answered even while the server drains.
      if (cors.handle(request, response)) return;
      if (closing()) return refuseWhileClosing(response);
      const cacheEdge = edge();
      if (cacheEdge) return cacheEdge.handle(request, response, handler);
      handler(request, response);
    });
    server.keepAliveTimeout = keepAliveTimeout;
    server.requestTimeout = requestTimeout;
    server.setTimeout(connectionTimeout);
    return server;
  };
}

/**
 * What Fastify answers (`return503OnClosing`) to a request that arrives
 * while the server drains, so a load balancer sends it elsewhere.
 */
function refuseWhileClosing(response: ServerResponse<IncomingMessage>): void {
  const refusal = shuttingDown();
  const body = JSON.stringify(refusal.body);
  response
    .writeHead(refusal.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    })
    .end(body);
}
