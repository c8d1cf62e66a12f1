/**
 * What one request tells the response cache about the answer it is
 * building, passed down to the request's context (src/context.ts). Made by
 * the cache's Fastify hook (hooks.ts) for a public request the cache may
 * answer from or keep; read back by the same hook when the answer is sent.
 * Each field has one writer.
 */
export class ResponseCacheHints {
  /** What the answer was built from (src/data/tags.ts); written by the request's tagging store. */
  readonly tags = new Set<string>();
  /** How long the answer may be kept, in seconds; 0 (not kept) until the cache policy plugin allows it. */
  maxAge = 0;
}
