import { LRUCache } from 'lru-cache';

/** What every entry of a `TaggedCache` carries. */
export interface TaggedEntry {
  /** What the entry was built from (see ./tags.ts); purging any of them drops it. */
  tags: readonly string[];
  /** When the cache stops answering with it (epoch ms); purges usually come first. */
  expiresAt: number;
}

/**
 * Entries bounded by size (least recently used go first) and by time, and
 * dropped the moment the content they were built from changes: each entry is
 * stored with tags (the articles, lists and sections it read) and `purge`
 * drops every entry holding any given tag.
 *
 * Work that began before a purge may have read the old content; what it
 * built is not stored (`generation` tells), so nothing stale gets in after
 * the purge that should have removed it.
 */
export class TaggedCache<T extends TaggedEntry> {
  private readonly entries: LRUCache<string, T>;
  private readonly byTag = new Map<string, Set<string>>();
  /** Goes up with every purge. */
  generation = 0;

  /** How long past `expiresAt` an entry is kept for `stale` (ms). */
  private readonly staleMs: number;

  constructor({ maxSize, sizeOf, staleMs = 0 }: { maxSize: number; sizeOf: (entry: T, key: string) => number; staleMs?: number }) {
    this.staleMs = staleMs;
    this.entries = new LRUCache<string, T>({
      maxSize,
      sizeCalculation: sizeOf,
      ttlAutopurge: false,
      dispose: (entry, key) => this.unindex(key, entry.tags),
    });
  }

  /** A fresh entry for the key, or undefined. */
  get(key: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      if (now >= entry.expiresAt + this.staleMs) this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * The entry for the key even if it is no longer fresh, up to `staleMs`
   * past its time: for answering when the content cannot be read now. A
   * purged entry is gone, never stale: only what nothing changed is kept.
   */
  stale(key: string, now = Date.now()): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.expiresAt + this.staleMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores an entry built by work that began at `generation`, unless a purge has happened since. */
  set(key: string, entry: T, generation: number): boolean {
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

  /** Drops every entry holding any of the tags; returns how many. */
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

  /** How many entries it holds, and their total size as `sizeOf` counts it. */
  stats(): { entries: number; size: number } {
    return { entries: this.entries.size, size: this.entries.calculatedSize };
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
