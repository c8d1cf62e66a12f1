import { LRUCache } from 'lru-cache';

/** One stored public response: the exact bytes Apollo sent, and what they were built from. */
export interface CachedResponse {
  body: Buffer;
  contentType: string;
  /** What the response holds (see tagging-store.ts); purging any of them drops it. */
  tags: readonly string[];
  /** The operation name the request gave, for metrics (the key holds it too, so every hit has the same). */
  operationName?: string | null;
  /** The policy's max-age, sent to clients and CDNs with every answer. */
  maxAgeSeconds: number;
  /** When this cache stops answering with it (epoch ms); purges usually come first. */
  expiresAt: number;
}

export interface ResponseCacheStats {
  entries: number;
  bytes: number;
}

/**
 * Whole public GraphQL responses, bounded by bytes (least recently used go
 * first) and by time, and dropped the moment the content they hold changes: every response is stored with tags (the articles it
 * shows, the lists and sections it read) and `purge` drops every response
 * holding any given tag.
 *
 * A request that began before a purge may have read the old content; its
 * response is not stored (`generation` tells), so nothing stale gets in
 * after the purge that should have removed it.
 */
export class ResponseCache {
  private readonly entries: LRUCache<string, CachedResponse>;
  private readonly byTag = new Map<string, Set<string>>();
  /** Goes up with every purge. */
  generation = 0;

  constructor({ maxBytes }: { maxBytes: number }) {
    this.entries = new LRUCache<string, CachedResponse>({
      maxSize: maxBytes,
      sizeCalculation: (entry, key) => entry.body.length + key.length * 2 + 64 * (entry.tags.length + 4),
      ttlAutopurge: false,
      dispose: (entry, key) => this.unindex(key, entry.tags),
    });
  }

  /** A fresh response for the key, or undefined. */
  get(key: string, now = Date.now()): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores a response built by a request that began at `generation`, unless a purge has happened since. */
  set(key: string, entry: CachedResponse, generation: number): boolean {
    if (generation !== this.generation || entry.expiresAt <= Date.now()) return false;
    // Replacing an entry disposes the old one first, which unindexes its tags.
    this.entries.set(key, entry);
    if (!this.entries.has(key)) return false; // larger than the whole cache
    for (const tag of entry.tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  /** Drops every response holding any of the tags; returns how many. */
  purge(tags: Iterable<string>): number {
    this.generation++;
    let dropped = 0;
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      for (const key of [...keys]) if (this.entries.delete(key)) dropped++;
    }
    return dropped;
  }

  /** Drops everything (a bulk import, a section moved). */
  clear(): void {
    this.generation++;
    this.entries.clear();
  }

  stats(): ResponseCacheStats {
    return { entries: this.entries.size, bytes: this.entries.calculatedSize };
  }

  private unindex(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byTag.delete(tag);
    }
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
    generation: async () => cache.generation,
    set: async (key, entry, generation) => cache.set(key, entry, generation),
    purge: async (tags) => void cache.purge(tags),
    clear: async () => cache.clear(),
  };
}
