import type { ContentStore } from '../store.js';
import { deadlineExceeded, storeFailureError } from '../../errors.js';

/**
 * Writes are never abandoned at the deadline: a write given up on might still
 * commit, and a save that was written must not be reported as failed. They
 * are bounded by the database's own statement timeout instead.
 */
const WRITES = new Set<string>(['savePage', 'savePages', 'createArticle', 'changeArticle', 'createSection', 'updateSection', 'moveSection', 'setTeasers', 'importContent']);

/**
 * The store as one request sees it. Every call made after the request's
 * deadline fails at once, so a request that has run too long stops reaching
 * the store and fails with DEADLINE_EXCEEDED (HTTP 503) instead of running
 * on; and a read still waiting at the deadline (for a pool connection, a
 * lock, a server that went away) is given up then, so the request is
 * answered within its deadline whatever the store does. A SQLite statement
 * already running finishes (it cannot be stopped from outside, and each is
 * short). Failures of the store itself reach the client as the codes in
 * src/errors.ts (STORE_UNAVAILABLE and the like, 503 with Retry-After).
 */
export function storeWithDeadline(store: ContentStore, deadline: number, timeoutMs: number): ContentStore {
  const translate = (error: unknown): never => {
    throw storeFailureError(error) ?? error;
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const write = typeof property === 'string' && WRITES.has(property);
      return (...args: unknown[]) => {
        const left = deadline - Date.now();
        if (left < 0) throw deadlineExceeded(timeoutMs);
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        if (write) return result.catch(translate);
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(deadlineExceeded(timeoutMs)), left);
        });
        // The read goes on in the background after the deadline; its outcome is nobody's now.
        result.catch(() => {});
        return Promise.race([result, expired])
          .catch(translate)
          .finally(() => clearTimeout(timer));
      };
    },
  });
}
