import { TaggedCache, type TaggedEntry } from '../data/tagged-cache.js';

/** One stored public response: the exact bytes Apollo sent, and what they were built from. */
export interface CachedResponse extends TaggedEntry {
  body: Buffer;
  contentType: string;
  /** The operation name the request gave, for metrics (the key holds it too, so every hit has the same). */
  operationName?: string | null;
  /** The policy's max-age, sent to clients and CDNs with every answer. */
  maxAgeSeconds: number;
}

export interface ResponseCacheStats {
  entries: number;
  bytes: number;
}

/**
 * Whole public GraphQL responses in this process's memory, bounded by bytes
 * and by time, and purged by the tags of what they show (see TaggedCache).
 */
export class ResponseCache extends TaggedCache<CachedResponse> {
  constructor({ maxBytes, staleMs = 0 }: { maxBytes: number; staleMs?: number }) {
    super({ maxSize: maxBytes, staleMs, sizeOf: (entry, key) => entry.body.length + key.length * 2 + 64 * (entry.tags.length + 4) });
  }

  override stats(): ResponseCacheStats & { size: number } {
    const { entries, size } = super.stats();
    return { entries, size, bytes: size };
  }
}

/**
 * Where answers are kept: this process's memory (`memoryResponseStore`), or
 * Redis, shared by every instance (`RedisResponseCache`).
 */
export interface ResponseStore {
  get(key: string): Promise<CachedResponse | undefined>;
  /** The same as `get`, answered at once, where the store is in this process's memory. */
  peek?(key: string): CachedResponse | undefined;
  /** The answer kept for the key even past its freshness (up to STALE_IF_ERROR), for when the store fails. */
  stale(key: string): Promise<CachedResponse | undefined>;
  /** Whether it may be used now; a shared store that cannot be trusted or reached is gone past. Always, when absent. */
  usable?(): boolean;
  /** Goes up with every purge, everywhere the store is shared. */
  generation(): Promise<number>;
  /** Stores an answer built by a request that began at `generation`, unless a purge has happened since. */
  set(key: string, entry: CachedResponse, generation: number): Promise<boolean>;
  purge(tags: readonly string[]): Promise<void>;
  clear(): Promise<void>;
}

export function memoryResponseStore(cache: ResponseCache): ResponseStore {
  return {
    get: async (key) => cache.get(key),
    peek: (key) => cache.get(key),
    stale: async (key) => cache.stale(key),
    generation: async () => cache.generation,
    set: async (key, entry, generation) => cache.set(key, entry, generation),
    purge: async (tags) => void cache.purge(tags),
    clear: async () => cache.clear(),
  };
}
