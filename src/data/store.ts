import type { ParsedPage } from '../ingest/parse-page.js';
import type { ArticleRecord, CreditRecord, SectionRecord, TagRecord, TeaserKind, TeaserRecord } from './types.js';

/** A position in the newest-first article order: the sort key and the id that breaks ties. */
export interface ArticleKey {
  publishedAt: number;
  id: string;
}

export interface ArticleListQuery {
  /** Only articles in these sections; all sections when absent. */
  sectionIds?: readonly string[];
  /** Only articles strictly after this position. */
  after?: ArticleKey | null;
  limit: number;
}

export interface SavePageResult {
  articleId: string;
  slug: string;
  status: 'created' | 'updated' | 'unchanged';
}

/**
 * The data module: everything newsgraph reads or writes goes through this
 * interface, so resolvers never see SQL and a second store (PostgreSQL)
 * implements the same contract. Batch lookups return one entry per key, in
 * key order, which is what DataLoader needs.
 */
export interface ContentStore {
  /** Creates or upgrades the tables; safe to run on every start. */
  migrate(): Promise<void>;
  /** Whether the store holds no article yet (a fresh store is seeded from data/). */
  isEmpty(): Promise<boolean>;
  close(): Promise<void>;

  findArticlesByIds(args: { ids: readonly string[] }): Promise<(ArticleRecord | null)[]>;
  findArticlesBySlugs(args: { slugs: readonly string[] }): Promise<(ArticleRecord | null)[]>;
  /** Articles newest first (by publication time, then id). */
  listArticles(query: ArticleListQuery): Promise<ArticleRecord[]>;
  countArticles(args: { sectionIds?: readonly string[] }): Promise<number>;
  /** The newest articles other than `excludeId`, from `sectionIds` first when given, then from the whole site. */
  listLatestArticles(args: { excludeId: string; sectionIds?: readonly string[]; limit: number }): Promise<ArticleRecord[]>;
  /** Other articles ordered by how many tags they share with `articleId`, then newest first. */
  listArticlesSharingTags(args: { articleId: string; limit: number }): Promise<ArticleRecord[]>;

  /** Every section; there are few enough to load whole and walk as a tree in memory. */
  listSections(): Promise<SectionRecord[]>;
  findCredits(args: { articleIds: readonly string[] }): Promise<CreditRecord[][]>;
  findTags(args: { articleIds: readonly string[] }): Promise<TagRecord[][]>;
  findTeasers(args: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]>;

  /**
   * Writes one parsed page in one transaction: its sections (created when
   * missing), the article (created, or updated in place when the slug
   * exists), its credits and tags, and its teaser lists. All or nothing.
   */
  savePage(page: ParsedPage): Promise<SavePageResult>;
}

/** What the store reports of each statement it runs; used for metrics and by tests that count statements. */
export interface QueryEvent {
  sql: string;
  durationMs: number;
}
