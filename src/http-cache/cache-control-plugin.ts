import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode } from 'graphql';
import type { ResponseCacheHints } from './hints.js';
import { publicCacheControl } from './hooks.js';
import { type CacheAges, cachePolicy } from './policy.js';

/** What the plugin reads of a request's context: whether its answer is private, and the cache's hints when it may be kept. */
interface CacheableContext {
  private: boolean;
  cache?: ResponseCacheHints;
}

/**
 * Cache-Control for every GraphQL response, from the static policy: a
 * public query answered without errors is `public, max-age=N` (so a CDN may
 * keep it, and so may our response cache); anything an editor sees is
 * `private, no-store`; mutations and failed requests are `no-store`.
 */
export function cacheControlPlugin<C extends CacheableContext>(ages: CacheAges & { staleIfErrorSeconds?: number }): ApolloServerPlugin<C> {
  // How often each parsed document has been answered. A document seen once is not stored in
  // the response cache: a stream of one-off queries would otherwise push out the pages
  // everybody reads. (Apollo reuses the document object for the same query text.)
  const answered = new WeakMap<DocumentNode, number>();
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
          if (!document || !policy || !ok || policy.maxAge <= 0) {
            headers.set('cache-control', 'no-store');
            return;
          }
          headers.set('cache-control', publicCacheControl(policy.maxAge, ages.staleIfErrorSeconds ?? 0));
          const times = (answered.get(document) ?? 0) + 1;
          answered.set(document, times);
          if (contextValue.cache && times > 1) contextValue.cache.maxAge = policy.maxAge;
        },
      };
    },
  };
}
