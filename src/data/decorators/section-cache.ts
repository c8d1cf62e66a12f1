import type { ArticleListQuery, ContentStore } from '../store.js';
import { TaggedCache, type TaggedEntry } from '../tagged-cache.js';
import { articleTag, listTags, SECTIONS_TAG, teasersTag } from '../tags.js';
import type { ArticleSummary, SectionRecord, TeaserKind, TeaserRecord } from '../types.js';
import { ForwardingStore } from './forwarding.js';

/**
 * How many of a section's newest articles are kept: enough for any 热点 or
 * 最近更新 fill (at most 50 items, less those already shown) without a read.
 */
export const NEWEST_KEPT = 64;

interface Entry extends TaggedEntry {
  value: readonly SectionRecord[] | readonly TeaserRecord[] | readonly ArticleSummary[];
}

export interface SectionCacheStats {
  entries: number;
  /** Records held (sections, teasers and article summaries), as counted against the cache's size. */
  records: number;
}

/**
 * What every page of a section reads, kept in this process between requests:
 * the section tree, each section's curated teaser lists, and its newest
 * articles (which fill the 热点 and 最近更新 modules). An article page that
 * misses the response cache would otherwise read all three again, although
 * they change far less often than articles are read.
 *
 * Entries carry the same tags as cached answers (see ../tags.ts) and are
 * dropped by the same purges, before a write returns; a read that began
 * before a purge stores nothing. Like responses they are kept at most
 * `ttlMs`, which bounds how long a write by another process goes unseen.
 * Records are frozen: a request that changed one would change it for all.
 */
export class SectionCache {
  private readonly entries: TaggedCache<Entry>;
  /** Reads under way, so a burst of misses for one section costs one statement; a purge forgets them. */
  private readonly reading = new Map<string, Promise<Entry['value']>>();

  constructor(private readonly options: { maxRecords: number; ttlMs: number }) {
    this.entries = new TaggedCache<Entry>({ maxSize: options.maxRecords, sizeOf: (entry) => Math.max(1, entry.value.length) });
  }

  /** The value for `key`: kept, being read, or read now by `read` and kept under `tagsOf(value)`. */
  async read<T extends Entry['value']>(key: string, read: () => Promise<T>, tagsOf: (value: T) => readonly string[]): Promise<T> {
    const kept = this.entries.get(key);
    if (kept) return kept.value as T;
    const under = this.reading.get(key);
    if (under) return under as Promise<T>;
    const generation = this.entries.generation;
    const reading = read().then((value) => {
      for (const record of value) Object.freeze(record);
      Object.freeze(value);
      this.entries.set(key, { value, tags: tagsOf(value), expiresAt: Date.now() + this.options.ttlMs }, generation);
      return value;
    });
    this.reading.set(key, reading);
    const forget = () => {
      if (this.reading.get(key) === reading) this.reading.delete(key);
    };
    reading.then(forget, forget);
    return reading;
  }

  purge(tags: readonly string[]): void {
    this.entries.purge(tags);
    this.reading.clear();
  }

  clear(): void {
    this.entries.clear();
    this.reading.clear();
  }

  stats(): SectionCacheStats {
    const { entries, size } = this.entries.stats();
    return { entries, records: size };
  }
}

/**
 * The store with the section tree, curated teasers and each section's newest
 * articles read through `cache`. Every other read, anything an editor's
 * preview asks for, and every write pass through untouched. Purging `cache`
 * is the writer's job (invalidation.ts), as it is for cached answers.
 */
export class SectionCachingStore extends ForwardingStore {
  constructor(
    inner: ContentStore,
    private readonly cache: SectionCache,
  ) {
    super(inner);
  }

  override async listSections(): Promise<SectionRecord[]> {
    const sections = await this.cache.read(
      'sections',
      () => this.inner.listSections(),
      () => [SECTIONS_TAG],
    );
    return [...sections];
  }

  override async findTeasers({ sectionIds, kind }: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]> {
    return Promise.all(
      sectionIds.map(async (id) => {
        const teasers = await this.cache.read(
          `teasers ${kind} ${id}`,
          async () => (await this.inner.findTeasers({ sectionIds: [id], kind }))[0] ?? [],
          () => [teasersTag(id)],
        );
        return [...teasers];
      }),
    );
  }

  override async listArticleSummaries(query: ArticleListQuery): Promise<ArticleSummary[]> {
    const newest = newestOf(query);
    if (!newest) return this.inner.listArticleSummaries(query);
    const sectionIds = newest.sectionIds;
    const kept = await this.cache.read(
      newest.key,
      () => this.inner.listArticleSummaries({ filter: sectionIds ? { sectionIds } : {}, limit: NEWEST_KEPT }),
      (articles) => [...listTags(sectionIds), ...articles.map((article) => articleTag(article.id))],
    );
    const excluded = new Set(query.filter?.excludeIds);
    return kept.filter((article) => !excluded.has(article.id)).slice(0, query.limit);
  }
}

/**
 * When a list asks for the newest public articles of some sections (or of the
 * whole site), less a few it names, and nothing else: the key its kept list
 * has. The kept list answers it exactly as long as it holds `limit` articles
 * beyond those excluded, or is the whole of what there is.
 */
function newestOf({ filter = {}, order = 'desc', after, until, limit }: ArticleListQuery): { key: string; sectionIds?: string[] } | null {
  const { sectionIds, excludeIds = [], includeHidden, ...rest } = filter;
  if (includeHidden || order !== 'desc' || after || until || Object.values(rest).some((v) => v !== undefined)) return null;
  if (limit + excludeIds.length > NEWEST_KEPT) return null;
  if (!sectionIds) return { key: 'newest' };
  if (sectionIds.length === 0) return null;
  const sorted = [...new Set(sectionIds)].sort();
  return { key: `newest ${sorted.join(' ')}`, sectionIds: sorted };
}
