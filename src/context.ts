import type { TokenStore, Viewer } from './auth/tokens.js';
import { composeRequestStore } from './data/compose-store.js';
import { createLoaders, type Loaders } from './data/loaders.js';
import type { ContentStore } from './data/store.js';
import { unauthenticated } from './errors.js';
import type { ResponseCacheHints } from './http-cache/hints.js';

/** What every resolver receives: the store, reached through this request's loaders, and who is asking. */
export interface Context {
  store: ContentStore;
  loaders: Loaders;
  /** The editor token's holder; null for the anonymous public. */
  viewer: Viewer | null;
  /** Set when the response shows anything beyond the public graph, so it is never cached as public. */
  private: boolean;
  /** The request's logger (bound to its request id) when served over HTTP. */
  log?: RequestLog;
  /** The id the logs carry for this request; masked errors quote it. */
  requestId?: string;
  /** Set for a public request the response cache may keep the answer of: what it read, and for how long it may be kept. */
  cache?: ResponseCacheHints;
}

export interface RequestLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * The context of one request. `store` is the server's shared store; the
 * request's own layers (src/data/compose-store.ts) go on top of it: its
 * deadline, and for a public request whose answer may be cached, tagging
 * into the response cache's `hints`.
 */
export function createContext(
  store: ContentStore,
  viewer: Viewer | null = null,
  request?: { log: RequestLog; id: string; timeoutMs?: number; cache?: ResponseCacheHints },
): Context {
  const timeoutMs = request?.timeoutMs;
  const cache = viewer === null ? request?.cache : undefined;
  const scoped = composeRequestStore(store, {
    tags: cache?.tags,
    deadline: timeoutMs === undefined ? undefined : { at: Date.now() + timeoutMs, timeoutMs },
  });
  return {
    store: scoped,
    loaders: createLoaders(scoped),
    viewer,
    private: viewer !== null,
    log: request?.log,
    requestId: request?.id,
    cache,
  };
}

/**
 * Who sent the request: nobody without an Authorization header; the token's
 * holder with a valid bearer token; and a request with a token that does not
 * verify is refused outright (401) rather than quietly served as anonymous.
 */
export async function viewerOf(authorization: string | undefined, tokens: Pick<TokenStore, 'verify'>): Promise<Viewer | null> {
  if (authorization === undefined || authorization.trim() === '') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  const viewer = match ? await tokens.verify(match[1]!) : null;
  if (!viewer) throw unauthenticated('the Authorization header does not hold a valid editor token (Bearer <token>)');
  return viewer;
}
