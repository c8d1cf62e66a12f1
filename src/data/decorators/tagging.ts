import type { ArticleFilterQuery, ArticleListQuery, ContentStore, SearchMatch, SearchQuery } from '../store.js';
import { ALL_LISTS_TAG, articleIdTag, articleSlugTag, articleTag, listTags, SEARCH_TAG, SECTIONS_TAG, teasersTag } from '../tags.js';
import type { ArticleRecord, ArticleSummary, CreditRecord, SectionRecord, TagRecord, TeaserKind, TeaserRecord } from '../types.js';
import { ForwardingStore } from './forwarding.js';

/** Where a request's tags go: the response cache's hints for the answer being built (a Set will do). */
export interface TagSink {
  add(tag: string): unknown;
}

/**
 * The store as one request sees it, noting in `tags` (see ../tags.ts)
 * everything the request read, so its answer can be dropped when any of it
 * changes. Writes pass through untouched.
 */
export class TaggingStore extends ForwardingStore {
  constructor(
    inner: ContentStore,
    private readonly tags: TagSink,
  ) {
    super(inner);
  }

  override async findArticlesByIds(args: { ids: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    const found = await this.inner.findArticlesByIds(args);
    for (const [i, record] of found.entries()) this.tags.add(record ? articleTag(record.id) : articleIdTag(args.ids[i]!));
    return found;
  }

  override async findArticlesBySlugs(args: { slugs: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    const found = await this.inner.findArticlesBySlugs(args);
    for (const [i, record] of found.entries()) this.tags.add(record ? articleTag(record.id) : articleSlugTag(args.slugs[i]!));
    return found;
  }

  override async listArticles(query: ArticleListQuery): Promise<ArticleRecord[]> {
    this.list(query.filter);
    const found = await this.inner.listArticles(query);
    this.articles(found);
    return found;
  }

  override async listArticleSummaries(query: ArticleListQuery): Promise<ArticleSummary[]> {
    this.list(query.filter);
    const found = await this.inner.listArticleSummaries(query);
    this.articles(found);
    return found;
  }

  override async countArticles(args: { filter?: ArticleFilterQuery }): Promise<number> {
    this.list(args.filter);
    return this.inner.countArticles(args);
  }

  override async listArticlesSharingTags(args: { articleId: string; limit: number }): Promise<ArticleRecord[]> {
    this.tags.add(ALL_LISTS_TAG);
    const found = await this.inner.listArticlesSharingTags(args);
    this.articles(found);
    return found;
  }

  override async searchArticles(query: SearchQuery): Promise<SearchMatch[]> {
    this.tags.add(SEARCH_TAG);
    this.list(query.filter);
    const found = await this.inner.searchArticles(query);
    this.articles(found.map((match) => match.article));
    return found;
  }

  override async countSearchMatches(args: Pick<SearchQuery, 'terms' | 'mode' | 'filter'>): Promise<number> {
    this.tags.add(SEARCH_TAG);
    this.list(args.filter);
    return this.inner.countSearchMatches(args);
  }

  override async listSections(): Promise<SectionRecord[]> {
    this.tags.add(SECTIONS_TAG);
    return this.inner.listSections();
  }

  override async findCredits(args: { articleIds: readonly string[] }): Promise<CreditRecord[][]> {
    for (const id of args.articleIds) this.tags.add(articleTag(id));
    return this.inner.findCredits(args);
  }

  override async findTags(args: { articleIds: readonly string[] }): Promise<TagRecord[][]> {
    for (const id of args.articleIds) this.tags.add(articleTag(id));
    return this.inner.findTags(args);
  }

  override async findTeasers(args: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]> {
    for (const id of args.sectionIds) this.tags.add(teasersTag(id));
    return this.inner.findTeasers(args);
  }

  private articles(records: readonly Pick<ArticleRecord, 'id'>[]): void {
    for (const record of records) this.tags.add(articleTag(record.id));
  }

  private list(filter: ArticleFilterQuery | undefined): void {
    for (const tag of listTags(filter?.sectionIds)) this.tags.add(tag);
  }
}
