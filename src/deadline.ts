import type { ContentStore } from './data/store.js';
import { GraphQLError } from 'graphql';

/**
 * The store as one request sees it: every call made after the request's
 * deadline fails at once, so a request that has run too long stops reaching
 * the store and fails with DEADLINE_EXCEEDED (HTTP 503) instead of running on.
 * A statement already running finishes; SQLite statements cannot be stopped
 * from outside, and each is short.
 */
export function storeWithDeadline(store: ContentStore, deadline: number, timeoutMs: number): ContentStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (Date.now() > deadline) {
          throw new GraphQLError(`the request ran longer than ${timeoutMs} ms and was stopped`, {
            extensions: { code: 'DEADLINE_EXCEEDED', http: { status: 503 } },
          });
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
