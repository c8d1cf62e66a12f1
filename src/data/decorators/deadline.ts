import { DeadlineExceeded } from '../errors.js';
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
 * The store as one request sees it, bounded by the request's deadline.
 * Every call made after the deadline fails at once with DeadlineExceeded,
 * so a request that has run too long stops reaching the store; and a read
 * still waiting at the deadline (for a pool connection, a lock, a server
 * that went away) is given up then, so the request is answered within its
 * deadline whatever the store does. A SQLite statement already running
 * finishes (it cannot be stopped from outside, and each is short).
 *
 * Writes are never abandoned at the deadline: a write given up on might
 * still commit, and a save that was written must not be reported as failed.
 * They are bounded by the database's own statement timeout instead.
 *
 * Every method is written out rather than inherited from ForwardingStore:
 * a method added to ContentStore must be placed here as a read or a write.
 * The API layer says what the client is told (src/apollo.ts).
 */
export class DeadlineStore implements ContentStore {
  constructor(
    private readonly inner: ContentStore,
    /** When the request's time is up (epoch ms). */
    private readonly deadline: number,
    /** The request's whole allowance, for the error's message. */
    private readonly timeoutMs: number,
  ) {}

  migrate(): Promise<void> {
    return this.read(() => this.inner.migrate());
  }
  checkReady(): Promise<StoreReadiness> {
    return this.read(() => this.inner.checkReady());
  }
  isEmpty(): Promise<boolean> {
    return this.read(() => this.inner.isEmpty());
  }
  withStartupLock<T>(work: () => Promise<T>): Promise<T> {
    return this.read(() => this.inner.withStartupLock(work));
  }
  close(): Promise<void> {
    return this.read(() => this.inner.close());
  }

  findArticlesByIds(args: { ids: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    return this.read(() => this.inner.findArticlesByIds(args));
  }
  findArticlesBySlugs(args: { slugs: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    return this.read(() => this.inner.findArticlesBySlugs(args));
  }
  listArticles(query: ArticleListQuery): Promise<ArticleRecord[]> {
    return this.read(() => this.inner.listArticles(query));
  }
  listArticleSummaries(query: ArticleListQuery): Promise<ArticleSummary[]> {
    return this.read(() => this.inner.listArticleSummaries(query));
  }
  countArticles(args: { filter?: ArticleFilterQuery }): Promise<number> {
    return this.read(() => this.inner.countArticles(args));
  }
  listArticlesSharingTags(args: { articleId: string; limit: number }): Promise<ArticleRecord[]> {
    return this.read(() => this.inner.listArticlesSharingTags(args));
  }

  searchArticles(query: SearchQuery): Promise<SearchMatch[]> {
    return this.read(() => this.inner.searchArticles(query));
  }
  countSearchMatches(args: Pick<SearchQuery, 'terms' | 'mode' | 'filter'>): Promise<number> {
    return this.read(() => this.inner.countSearchMatches(args));
  }
  termDocumentFrequencies(args: { terms: readonly string[] }): Promise<Map<string, number>> {
    return this.read(() => this.inner.termDocumentFrequencies(args));
  }

  listSections(): Promise<SectionRecord[]> {
    return this.read(() => this.inner.listSections());
  }
  findCredits(args: { articleIds: readonly string[] }): Promise<CreditRecord[][]> {
    return this.read(() => this.inner.findCredits(args));
  }
  findTags(args: { articleIds: readonly string[] }): Promise<TagRecord[][]> {
    return this.read(() => this.inner.findTags(args));
  }
  findTeasers(args: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]> {
    return this.read(() => this.inner.findTeasers(args));
  }
  listRevisions(args: { articleId: string }): Promise<ArticleRevisionRecord[]> {
    return this.read(() => this.inner.listRevisions(args));
  }

  savePage(page: ParsedPage): Promise<SavePageResult> {
    return this.write(() => this.inner.savePage(page));
  }
  createArticle(args: { content: Omit<ArticleSnapshot, 'status' | 'deletedAt'>; by: string }): Promise<ArticleRecord> {
    return this.write(() => this.inner.createArticle(args));
  }
  changeArticle(args: { id: string; expectedVersion: number; change: Partial<ArticleSnapshot>; by: string }): Promise<ArticleRecord> {
    return this.write(() => this.inner.changeArticle(args));
  }
  createSection(args: { name: string; slug: string; parentId: string }): Promise<SectionRecord> {
    return this.write(() => this.inner.createSection(args));
  }
  updateSection(args: { id: string; name?: string; slug?: string }): Promise<SectionRecord> {
    return this.write(() => this.inner.updateSection(args));
  }
  moveSection(args: { id: string; parentId: string }): Promise<SectionRecord> {
    return this.write(() => this.inner.moveSection(args));
  }
  setTeasers(args: {
    sectionId: string;
    kind: TeaserKind;
    items: readonly Pick<TeaserRecord, 'title' | 'summary' | 'url' | 'articleId'>[];
  }): Promise<TeaserRecord[]> {
    return this.write(() => this.inner.setTeasers(args));
  }
  savePages(pages: readonly PreparedPage[]): Promise<SavePageResult[]> {
    return this.write(() => this.inner.savePages(pages));
  }
  importContent(records: AsyncIterable<ContentTransfer>): Promise<void> {
    return this.write(() => this.inner.importContent(records));
  }

  /** Only its start is bounded: the records are read as the caller asks for them. */
  exportContent(): AsyncIterable<ContentTransfer> {
    this.timeLeft();
    return this.inner.exportContent();
  }

  recordPendingPurge(args: { tags: readonly string[] | 'all' }): Promise<void> {
    return this.read(() => this.inner.recordPendingPurge(args));
  }
  listPendingPurges(): Promise<PendingPurge[]> {
    return this.read(() => this.inner.listPendingPurges());
  }
  forgetPendingPurges(args: { ids: readonly number[] }): Promise<void> {
    return this.read(() => this.inner.forgetPendingPurges(args));
  }

  /** The ms left before the deadline; throws (at once, not as a rejection) when it has passed. */
  private timeLeft(): number {
    const left = this.deadline - Date.now();
    if (left < 0) throw new DeadlineExceeded(this.timeoutMs);
    return left;
  }

  private read<T>(call: () => Promise<T>): Promise<T> {
    const left = this.timeLeft();
    const result = call();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceeded(this.timeoutMs)), left);
    });
    // The read goes on in the background after the deadline; its outcome is nobody's now.
    result.catch(() => {});
    return Promise.race([result, expired]).finally(() => clearTimeout(timer));
  }

  private write<T>(call: () => Promise<T>): Promise<T> {
    this.timeLeft();
    return call();
  }
}
