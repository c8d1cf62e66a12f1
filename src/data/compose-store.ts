import { DeadlineStore } from './decorators/deadline.js';
import { InvalidatingStore, type Purger } from './decorators/invalidation.js';
import { type SectionCache, SectionCachingStore } from './decorators/section-cache.js';
import { TaggingStore, type TagSink } from './decorators/tagging.js';
import type { ContentStore } from './store.js';

/*
 * The store a resolver reaches is the SQL store (SqlStore) inside these
 * decorators, outermost first; this file is the one place they are put
 * together, and the order is written here alone:
 *
 *   DeadlineStore        per request   gives up on the store at the request's deadline
 *   TaggingStore         per request   notes what a cacheable public answer was built from
 *   SectionCachingStore  shared        section tree, teasers and newest lists kept in memory
 *   InvalidatingStore    shared        purges what each write made stale before it returns
 *   the store itself                   SqlStore on SQLite or PostgreSQL (open-store.ts)
 *
 * Why this order:
 * - The deadline is outermost so that it bounds everything the request waits
 *   for, the section cache's shared reads included.
 * - Tagging sits above the section cache so that an answer built from kept
 *   section data still carries that data's tags, and is purged with it.
 * - The section cache sits above invalidation: writes pass through it to the
 *   invalidating store, which purges the section cache (through `Purger`)
 *   as well as the cached answers once the write is done.
 * - Invalidation is innermost so that it reads the state before a change
 *   from the store itself, never from a cache.
 * The shared layers are built once by the server (src/server.ts) and live as
 * long as it; the per-request ones by the request's context (src/context.ts).
 */

/** The long-lived layers, and the handle on the invalidating store's publication timers. */
export interface SharedStore {
  store: ContentStore;
  invalidation: InvalidatingStore;
}

/** Wraps `store` in the layers every request shares: invalidation, and the section cache when there is one. */
export function composeSharedStore(
  store: ContentStore,
  { purger, sections, onPurgeError }: { purger: Purger; sections: SectionCache | null; onPurgeError: (error: unknown) => void },
): SharedStore {
  const invalidation = new InvalidatingStore(store, purger, onPurgeError);
  return { store: sections ? new SectionCachingStore(invalidation, sections) : invalidation, invalidation };
}

/**
 * Wraps the shared store in one request's layers: tagging into `tags` when
 * the answer may be cached, and the deadline when the request has one.
 */
export function composeRequestStore(
  shared: ContentStore,
  { tags, deadline }: { tags?: TagSink; deadline?: { at: number; timeoutMs: number } },
): ContentStore {
  const tagged = tags ? new TaggingStore(shared, tags) : shared;
  return deadline ? new DeadlineStore(tagged, deadline.at, deadline.timeoutMs) : tagged;
}
