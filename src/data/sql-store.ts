import { type Kysely, PostgresAdapter } from 'kysely';
import type { ParsedPage } from './page.js';
import type { PreparedPage } from './prepare-page.js';
import type { SearchIndex } from './search-index.js';
import * as articleWrites from './sql/article-writes.js';
import type { SqlHandle } from './sql/handle.js';
import * as lifecycle from './sql/lifecycle.js';
import * as pageWrites from './sql/page-writes.js';
import * as pendingPurges from './sql/pending-purges.js';
import * as reads from './sql/reads.js';
import * as search from './sql/search.js';
import * as sectionWrites from './sql/section-writes.js';
import * as transfer from './sql/transfer.js';
import { StatementShapes } from './statement-shapes.js';
import type {
  ArticleFilterQuery,
  ArticleListQuery,
  ContentStore,
  PendingPurge,
  SavePageResult,
  SearchMatch,
  SearchQuery,
  StoreReadiness,
} from './store.js';
import type { Database } from './tables.js';
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

/**
 * The store over Kysely. Everything in sql/ is plain Kysely that compiles for
 * SQLite and PostgreSQL alike; what differs per engine (opening connections,
 * pragmas) lives in the function that builds the Kysely instance (open-store.ts).
 * This class only holds the handle and hands each call to the module of its
 * subject: lifecycle, reads, search, page import, editorial writes, transfer.
 */
export class SqlStore implements ContentStore {
  private readonly h: SqlHandle;
  private readonly opening: lifecycle.Opening;

  constructor(
    db: Kysely<Database>,
    searchIndex: SearchIndex,
    /** The PostgreSQL schema the store lives in, when not the default: Kysely looks for its migration tables by schema. */
    schema?: string,
    /** SQLite only: why the store is open read-only now (its file cannot be written), or null when it takes writes. */
    readOnlyNow: () => string | null = () => null,
  ) {
    this.h = { db, search: searchIndex, shapes: new StatementShapes(db), postgres: db.getExecutor().adapter instanceof PostgresAdapter };
    this.opening = { ...(schema === undefined ? {} : { schema }), readOnlyNow };
  }

  migrate(): Promise<void> {
    return lifecycle.migrate(this.h, this.opening);
  }

  checkReady(): Promise<StoreReadiness> {
    return lifecycle.checkReady(this.h, this.opening);
  }

  isEmpty(): Promise<boolean> {
    return lifecycle.isEmpty(this.h);
  }

  withStartupLock<T>(work: () => Promise<T>): Promise<T> {
    return lifecycle.withStartupLock(this.h, work);
  }

  async close(): Promise<void> {
    await this.h.db.destroy();
  }

  findArticlesByIds(args: { ids: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    return reads.findArticlesByIds(this.h, args);
  }

  findArticlesBySlugs(args: { slugs: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    return reads.findArticlesBySlugs(this.h, args);
  }

  listArticles(query: ArticleListQuery): Promise<ArticleRecord[]> {
    return reads.listArticles(this.h, query);
  }

  listArticleSummaries(query: ArticleListQuery): Promise<ArticleSummary[]> {
    return reads.listArticleSummaries(this.h, query);
  }

  countArticles(args: { filter?: ArticleFilterQuery }): Promise<number> {
    return reads.countArticles(this.h, args);
  }

  listArticlesSharingTags(args: { articleId: string; limit: number }): Promise<ArticleRecord[]> {
    return reads.listArticlesSharingTags(this.h, args);
  }

  listSections(): Promise<SectionRecord[]> {
    return reads.listSections(this.h);
  }

  findCredits(args: { articleIds: readonly string[] }): Promise<CreditRecord[][]> {
    return reads.findCredits(this.h, args);
  }

  findTags(args: { articleIds: readonly string[] }): Promise<TagRecord[][]> {
    return reads.findTags(this.h, args);
  }

  findTeasers(args: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]> {
    return reads.findTeasers(this.h, args);
  }

  listRevisions(args: { articleId: string }): Promise<ArticleRevisionRecord[]> {
    return reads.listRevisions(this.h, args);
  }

  searchArticles(query: SearchQuery): Promise<SearchMatch[]> {
    return search.searchArticles(this.h, query);
  }

  countSearchMatches(args: Pick<SearchQuery, 'terms' | 'mode' | 'filter'>): Promise<number> {
    return search.countSearchMatches(this.h, args);
  }

  termDocumentFrequencies(args: { terms: readonly string[] }): Promise<Map<string, number>> {
    return search.termDocumentFrequencies(this.h, args);
  }

  savePage(page: ParsedPage): Promise<SavePageResult> {
    return pageWrites.savePage(this.h, page);
  }

  savePages(pages: readonly PreparedPage[]): Promise<SavePageResult[]> {
    return pageWrites.savePages(this.h, pages);
  }

  createArticle(args: { content: Omit<ArticleSnapshot, 'status' | 'deletedAt'>; by: string }): Promise<ArticleRecord> {
    return articleWrites.createArticle(this.h, args);
  }

  changeArticle(args: { id: string; expectedVersion: number; change: Partial<ArticleSnapshot>; by: string }): Promise<ArticleRecord> {
    return articleWrites.changeArticle(this.h, args);
  }

  createSection(args: { name: string; slug: string; parentId: string }): Promise<SectionRecord> {
    return sectionWrites.createSection(this.h, args);
  }

  updateSection(args: { id: string; name?: string; slug?: string }): Promise<SectionRecord> {
    return sectionWrites.updateSection(this.h, args);
  }

  moveSection(args: { id: string; parentId: string }): Promise<SectionRecord> {
    return sectionWrites.moveSection(this.h, args);
  }

  setTeasers(args: {
    sectionId: string;
    kind: TeaserKind;
    items: readonly Pick<TeaserRecord, 'title' | 'summary' | 'url' | 'articleId'>[];
  }): Promise<TeaserRecord[]> {
    return sectionWrites.setTeasers(this.h, args);
  }

  exportContent(): AsyncGenerator<ContentTransfer> {
    return transfer.exportContent(this.h);
  }

  importContent(records: AsyncIterable<ContentTransfer>): Promise<void> {
    return transfer.importContent(this.h, records);
  }

  recordPendingPurge(args: { tags: readonly string[] | 'all' }): Promise<void> {
    return pendingPurges.recordPendingPurge(this.h, args);
  }

  listPendingPurges(): Promise<PendingPurge[]> {
    return pendingPurges.listPendingPurges(this.h);
  }

  forgetPendingPurges(args: { ids: readonly number[] }): Promise<void> {
    return pendingPurges.forgetPendingPurges(this.h, args);
  }
}
