import type { IncomingMessage, ServerResponse } from 'node:http';
import { originNotAllowed } from './errors.js';

/** What a browser may send to /graphql besides simple requests. */
const METHODS = 'GET, POST, OPTIONS';

/**
 * The request headers a page may send: JSON bodies, editor tokens, the
 * headers Apollo's clients add (`apollo-require-preflight`,
 * `x-apollo-operation-name`, client awareness), and `accept` whatever its
 * value (a long or unusual one is not CORS-safelisted).
 */
const REQUEST_HEADERS =
  'accept, authorization, content-type, apollo-require-preflight, x-apollo-operation-name, apollographql-client-name, apollographql-client-version';

/**
 * The response headers a page may read beyond the CORS-safelisted ones
 * (`cache-control`, `content-type`, `content-length`, …): whether the
 * response cache answered (`x-cache`), how long to wait after a 429 or 503
 * (`retry-after`), and how old a CDN's copy is (`age`).
 */
const EXPOSED_HEADERS = 'x-cache, retry-after, age';

/**
 * How long (seconds) a browser may reuse a preflight's answer: two hours,
 * the most Chromium honours (Firefox would keep it a day), so an app sends
 * one preflight per kind of request per two hours, and a changed
 * CORS_ORIGINS reaches browsers within that.
 */
const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/** Whether an `Origin` is allowed: exact origins, `https://*.portal.example`, `http://localhost:*`. */
export function originMatcher(origins: '*' | readonly string[]): (origin: string) => boolean {
  if (origins === '*') return () => true;
  const exact = new Set(origins.filter((origin) => !origin.includes('*')));
  const patterns = origins.filter((origin) => origin.includes('*')).map(patternOf);
  return (origin) => {
    const lower = origin.toLowerCase();
    return exact.has(lower) || patterns.some((pattern) => pattern.test(lower));
  };
}

/** `https://*.portal.example` → one or more labels before `.portal.example`; `:*` → any port or none. */
function patternOf(origin: string): RegExp {
  const escaped = origin.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const source = escaped.replace(/^(https?:\/\/)\*\\\./, '$1(?:[a-z0-9-]+\\.)+').replace(/:\*$/, '(?::\\d{1,5})?');
  return new RegExp(`^${source}$`);
}

export interface BrowserAccess {
  /**
   * Called first for every request the HTTP server receives: on /graphql it
   * sets the CORS and `Vary` headers on `response` before anything else
   * writes it (Fastify, the cache's edge, a refusal), and answers an
   * `OPTIONS` itself; true when it answered.
   */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
}

/**
 * CORS for /graphql (README, "Browsers and other origins"), on the Node
 * server in front of Fastify (src/edge-server.ts) rather than as a Fastify
 * hook: every answer gets its headers from here, whoever writes it (Apollo,
 * the response cache's edge or hooks, the refusal limiter's 429, a 413 or
 * 503), and a preflight is answered before the refusal limit, the cache or
 * Apollo ever see it, so it is never counted as a refusal. Headers are made
 * per request and never stored with a cached answer, so an answer kept
 * for one origin cannot carry its allow header to another.
 *
 * - `*`: every answer says `Access-Control-Allow-Origin: *`, whatever the
 *   request's `Origin`, so a CDN may keep one copy for every origin.
 * - A list: an allowed `Origin` is echoed back, and every answer says
 *   `Vary: Origin` (including answers to requests without one, which a CDN
 *   could otherwise hand to a browser).
 * - A refused origin gets no CORS headers: the browser keeps the answer from
 *   the page. Its preflight gets 403 with a JSON error saying why.
 *
 * Never `Access-Control-Allow-Credentials`: newsgraph takes bearer tokens,
 * never cookies. GET and HEAD answers also say `Vary: Accept`: Accept picks
 * the content type (and the landing page), and the response cache keys by it.
 */
export function browserAccess(origins: '*' | readonly string[]): BrowserAccess {
  const allowed = originMatcher(origins);
  const anyOrigin = origins === '*';
  // With a fixed answer for every origin, nothing varies by Origin; with none allowed, neither.
  const varyByOrigin = !anyOrigin && origins.length > 0;

  return {
    handle(request, response) {
      const url = request.url ?? '';
      if (url !== '/graphql' && !url.startsWith('/graphql?')) return false;
      const origin = request.headers.origin;
      const allowOrigin = anyOrigin ? '*' : origin !== undefined && allowed(origin) ? origin : null;
      const vary = [request.method === 'GET' || request.method === 'HEAD' ? 'Accept' : null, varyByOrigin ? 'Origin' : null].filter(
        (name) => name !== null,
      );
      if (vary.length) response.setHeader('vary', vary.join(', '));
      if (allowOrigin !== null) {
        response.setHeader('access-control-allow-origin', allowOrigin);
        response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      }
      if (request.method !== 'OPTIONS') return false;

      const preflight = origin !== undefined && request.headers['access-control-request-method'] !== undefined;
      if (preflight && allowOrigin === null) {
        const refusal = originNotAllowed(origin);
        const body = JSON.stringify(refusal.body);
        response
          .writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
          .end(body);
        return true;
      }
      // A preflight, or a plain OPTIONS (RFC 9110: which methods the resource supports).
      const headers: Record<string, string> = { allow: METHODS };
      if (preflight) {
        headers['access-control-allow-methods'] = METHODS;
        headers['access-control-allow-headers'] = REQUEST_HEADERS;
        headers['access-control-max-age'] = String(PREFLIGHT_MAX_AGE_SECONDS);
      }
      response.writeHead(204, headers).end();
      return true;
    },
  };
}
