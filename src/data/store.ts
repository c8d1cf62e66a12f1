import type { ParsedPage } from './page.js';
import type { PreparedPage } from './prepare-page.js';
import type { ContentTransfer } from './transfer.js';
import type {
  ArticleRecord,
  ArticleRevisionRecord,
  ArticleSnapshot,
  ArticleSummary,
  CreditRecord,
  SectionRecord,
  TagRecord,
  TeaserKind,
  TeaserRecord,
} from './types.js';

/** A position in the newest-first article order: the sort key and the id that breaks ties. */
export interface ArticleKey {
  publishedAt: number;
  id: string;
}

/** Which articles a list or a search covers; every condition given must hold. */
export interface ArticleFilterQuery {
  /** In one of these sections. */
  sectionIds?: readonly string[];
  /** Carrying the tag with this slug. */
  tagSlug?: string;
  /** Crediting someone of exactly this name, in any role. */
  creditName?: string;
  /** Published at or after this time (epoch ms). */
  publishedFrom?: number;
  /** Published before this time (epoch ms). */
  publishedTo?: number;
  /** None of these articles. */
  excludeIds?: readonly string[];
  /**
   * Include drafts, deleted and scheduled articles (an editor's preview).
   * Without it, every list, count and search shows only what the public may see.
   */
  includeHidden?: boolean;
}

export type SortOrder = 'desc' | 'asc';

export interface ArticleListQuery {
  filter?: ArticleFilterQuery;
  /** By publication time, ties by id; newest first by default. */
  order?: SortOrder;
  /** Only articles strictly after this position in `order`. */
  after?: ArticleKey | null;
  /** Only articles strictly before this position in `order`. */
  until?: ArticleKey | null;
  limit: number;
}

/** A position in relevance order: score (higher first), then newest first. */
export interface SearchKey {
  score: number;
  publishedAt: number;
  id: string;
}

export interface SearchQuery {
  /** Normalized terms (src/text/segment.ts); a single CJK character also matches words that start with it. */
  terms: readonly string[];
  /** Whether an article must hold every term or any of them. */
  mode: 'all' | 'any';
  filter?: ArticleFilterQuery;
  after?: SearchKey | null;
  limit: number;
}

export interface SearchMatch {
  article: ArticleRecord;
  /** Relevance: BM25 with title matches weighted 10× body matches; higher is better. */
  score: number;
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
  /**
   * Resolves when the store answers and every migration has run, saying
   * whether it takes writes; rejects with the reason otherwise.
   */
  checkReady(): Promise<StoreReadiness>;
  /** Whether the store holds no article yet (a fresh store is seeded from data/). */
  isEmpty(): Promise<boolean>;
  /**
   * Runs `work` holding the store's start-up lock: instances starting at once
   * on a fresh store seed it one after another, and the later ones find it
   * seeded. Meant for start-up only; other writes need no lock.
   */
  withStartupLock<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;

  /** Articles by id; null for an unknown id and, unless `includeHidden`, for an article the public may not see. */
  findArticlesByIds(args: { ids: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]>;
  findArticlesBySlugs(args: { slugs: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]>;
  /** Articles by publication time (then id), a keyset page at a time. */
  listArticles(query: ArticleListQuery): Promise<ArticleRecord[]>;
  /** The same list without bodies, for teasers and anything else that shows none. */
  listArticleSummaries(query: ArticleListQuery): Promise<ArticleSummary[]>;
  countArticles(args: { filter?: ArticleFilterQuery }): Promise<number>;
  /** Other articles ordered by how many tags they share with `articleId`, then newest first. */
  listArticlesSharingTags(args: { articleId: string; limit: number }): Promise<ArticleRecord[]>;

  /** Full-text search, most relevant first. */
  searchArticles(query: SearchQuery): Promise<SearchMatch[]>;
  countSearchMatches(args: Pick<SearchQuery, 'terms' | 'mode' | 'filter'>): Promise<number>;
  /** For each term, how many articles the search index holds it in (terms never seen are absent). */
  termDocumentFrequencies(args: { terms: readonly string[] }): Promise<Map<string, number>>;

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
  /** Creates a DRAFT article, version 1, in one transaction. Throws SlugTakenError, SectionNotFoundError. */
  createArticle(args: { content: Omit<ArticleSnapshot, 'status' | 'deletedAt'>; by: string }): Promise<ArticleRecord>;
  /**
   * Changes an article in one transaction if it is still at `expectedVersion`:
   * its previous state becomes a revision and its version goes up by one.
   * Throws ArticleNotFoundError, VersionConflictError (nothing written),
   * SlugTakenError, SectionNotFoundError.
   */
  changeArticle(args: { id: string; expectedVersion: number; change: Partial<ArticleSnapshot>; by: string }): Promise<ArticleRecord>;
  /** The article's earlier states, newest first. */
  listRevisions(args: { articleId: string }): Promise<ArticleRevisionRecord[]>;

  /** Creates a section at the end of its parent's children. Throws SlugTakenError, SectionNotFoundError (parent). */
  createSection(args: { name: string; slug: string; parentId: string }): Promise<SectionRecord>;
  /** Renames a section or changes its slug. Throws SectionNotFoundError, SlugTakenError. */
  updateSection(args: { id: string; name?: string; slug?: string }): Promise<SectionRecord>;
  /** Moves a section under another. Throws SectionNotFoundError, SectionCycleError. */
  moveSection(args: { id: string; parentId: string }): Promise<SectionRecord>;
  /** Replaces a section's curated teaser list of one kind. */
  setTeasers(args: {
    sectionId: string;
    kind: TeaserKind;
    items: readonly Pick<TeaserRecord, 'title' | 'summary' | 'url' | 'articleId'>[];
  }): Promise<TeaserRecord[]>;

  /** Writes many prepared pages (`preparePage`) the same way as `savePage`, all in one transaction (bulk loads). */
  savePages(pages: readonly PreparedPage[]): Promise<SavePageResult[]>;

  /** Everything the store holds, as records that `importContent` can write back (see transfer.ts). */
  exportContent(): AsyncIterable<ContentTransfer>;
  /** Writes exported records into an empty store, all or nothing. Throws StoreNotEmptyError. */
  importContent(records: AsyncIterable<ContentTransfer>): Promise<void>;

  /**
   * Keeps purges of the shared response cache that could not be delivered,
   * in the store every instance shares, until one of them delivers them
   * (src/http-cache/shared-purges.ts). `'all'` is a purge of everything.
   */
  recordPendingPurge(args: { tags: readonly string[] | 'all' }): Promise<void>;
  /** The purges recorded and not yet forgotten, oldest first. */
  listPendingPurges(): Promise<PendingPurge[]>;
  /** Forgets purges that have been delivered. */
  forgetPendingPurges(args: { ids: readonly number[] }): Promise<void>;
}

/** A purge of the shared response cache waiting to be delivered. */
export interface PendingPurge {
  id: number;
  tags: string[] | 'all';
}

/**
 * Whether a store that answers takes writes. One that does not (SQLite whose
 * file cannot be written, a PostgreSQL standby) still serves every read; each
 * write fails with a store failure of kind 'read-only' and nothing is written.
 */
export type StoreReadiness = { writable: true } | { writable: false; reason: string };

/** What the store reports of each statement it runs; used for metrics and by tests that count statements. */
export interface QueryEvent {
  sql: string;
  durationMs: number;
}
