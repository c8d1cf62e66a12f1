import type { ParsedPage } from '../page.js';
import type { PreparedPage } from '../prepare-page.js';
import type {
  ArticleFilterQuery,
  ArticleListQuery,
  ContentStore,
  PendingPurge,
  SavePageResult,
  SearchMatch,
  SearchQuery,
  StoreReadiness,
} from '../store.js';
import type { ContentTransfer } from '../transfer.js';
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
} from '../types.js';

/**
 * A store that hands every call to `inner`, method by method, so a
 * decorator that extends it overrides only what it changes and the rest
 * is visibly the inner store's. Adding a method to ContentStore means
 * adding it here (the compiler says so), and deciding in each decorator
 * that overrides every method (DeadlineStore) what it does there.
 */
export class ForwardingStore implements ContentStore {
  constructor(protected readonly inner: ContentStore) {}

  migrate(): Promise<void> {
    return this.inner.migrate();
  }
  checkReady(): Promise<StoreReadiness> {
    return this.inner.checkReady();
  }
  isEmpty(): Promise<boolean> {
    return this.inner.isEmpty();
  }
  withStartupLock<T>(work: () => Promise<T>): Promise<T> {
    return this.inner.withStartupLock(work);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  findArticlesByIds(args: { ids: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    return this.inner.findArticlesByIds(args);
  }
  findArticlesBySlugs(args: { slugs: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    return this.inner.findArticlesBySlugs(args);
  }
  listArticles(query: ArticleListQuery): Promise<ArticleRecord[]> {
    return this.inner.listArticles(query);
  }
  listArticleSummaries(query: ArticleListQuery): Promise<ArticleSummary[]> {
    return this.inner.listArticleSummaries(query);
  }
  countArticles(args: { filter?: ArticleFilterQuery }): Promise<number> {
    return this.inner.countArticles(args);
  }
  listArticlesSharingTags(args: { articleId: string; limit: number }): Promise<ArticleRecord[]> {
    return this.inner.listArticlesSharingTags(args);
  }

  searchArticles(query: SearchQuery): Promise<SearchMatch[]> {
    return this.inner.searchArticles(query);
  }
  countSearchMatches(args: Pick<SearchQuery, 'terms' | 'mode' | 'filter'>): Promise<number> {
    return this.inner.countSearchMatches(args);
  }
  termDocumentFrequencies(args: { terms: readonly string[] }): Promise<Map<string, number>> {
    return this.inner.termDocumentFrequencies(args);
  }

  listSections(): Promise<SectionRecord[]> {
    return this.inner.listSections();
  }
  findCredits(args: { articleIds: readonly string[] }): Promise<CreditRecord[][]> {
    return this.inner.findCredits(args);
  }
  findTags(args: { articleIds: readonly string[] }): Promise<TagRecord[][]> {
    return this.inner.findTags(args);
  }
  findTeasers(args: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]> {
    return this.inner.findTeasers(args);
  }

  savePage(page: ParsedPage): Promise<SavePageResult> {
    return this.inner.savePage(page);
  }
  createArticle(args: { content: Omit<ArticleSnapshot, 'status' | 'deletedAt'>; by: string }): Promise<ArticleRecord> {
    return this.inner.createArticle(args);
  }
  changeArticle(args: { id: string; expectedVersion: number; change: Partial<ArticleSnapshot>; by: string }): Promise<ArticleRecord> {
    return this.inner.changeArticle(args);
  }
  listRevisions(args: { articleId: string }): Promise<ArticleRevisionRecord[]> {
    return this.inner.listRevisions(args);
  }

  createSection(args: { name: string; slug: string; parentId: string }): Promise<SectionRecord> {
    return this.inner.createSection(args);
  }
  updateSection(args: { id: string; name?: string; slug?: string }): Promise<SectionRecord> {
    return this.inner.updateSection(args);
  }
  moveSection(args: { id: string; parentId: string }): Promise<SectionRecord> {
    return this.inner.moveSection(args);
  }
  setTeasers(args: {
    sectionId: string;
    kind: TeaserKind;
    items: readonly Pick<TeaserRecord, 'title' | 'summary' | 'url' | 'articleId'>[];
  }): Promise<TeaserRecord[]> {
    return this.inner.setTeasers(args);
  }

  savePages(pages: readonly PreparedPage[]): Promise<SavePageResult[]> {
    return this.inner.savePages(pages);
  }

  exportContent(): AsyncIterable<ContentTransfer> {
    return this.inner.exportContent();
  }
  importContent(records: AsyncIterable<ContentTransfer>): Promise<void> {
    return this.inner.importContent(records);
  }

  recordPendingPurge(args: { tags: readonly string[] | 'all' }): Promise<void> {
    return this.inner.recordPendingPurge(args);
  }
  listPendingPurges(): Promise<PendingPurge[]> {
    return this.inner.listPendingPurges();
  }
  forgetPendingPurges(args: { ids: readonly number[] }): Promise<void> {
    return this.inner.forgetPendingPurges(args);
  }
}
