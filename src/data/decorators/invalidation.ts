import type { ParsedPage } from '../page.js';
import type { PreparedPage } from '../prepare-page.js';
import type { ContentStore, SavePageResult } from '../store.js';
import { articleChangeTags, publicationTags, SECTIONS_TAG, teasersTag } from '../tags.js';
import type { ContentTransfer } from '../transfer.js';
import type { ArticleRecord, ArticleSnapshot, SectionRecord, TeaserKind, TeaserRecord } from '../types.js';
import { isScheduled } from '../visibility.js';
import { ForwardingStore } from './forwarding.js';

/**
 * Where purges go: the section cache and this process's response cache, or
 * the response cache in Redis that every instance shares
 * (src/http-cache/shared-purges.ts).
 */
export interface Purger {
  purge(tags: readonly string[]): Promise<void>;
  /** Everything: for bulk imports and section moves, which touch too much to name. */
  purgeAll(): Promise<void>;
}

/** setTimeout's longest delay; a later publication re-arms the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The store with every write followed by the purge of what it made stale,
 * before the write's promise resolves: when a mutation returns, no cached
 * answer shows the old state. An article scheduled for later is purged
 * again when its time comes, since its publication involves no write.
 * Reads pass through untouched.
 */
export class InvalidatingStore extends ForwardingStore {
  private readonly scheduled = new Map<string, NodeJS.Timeout>();

  constructor(
    inner: ContentStore,
    private readonly purger: Purger,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    super(inner);
  }

  /** Arms the purges for articles already scheduled (at start: timers do not outlive the process). */
  async scheduleUpcoming(): Promise<void> {
    let after = null;
    // Scheduled articles are few; walking them in pages keeps any one statement small.
    for (;;) {
      const page = await this.inner.listArticles({
        filter: { includeHidden: true, publishedFrom: Date.now() },
        order: 'asc',
        after,
        limit: 500,
      });
      for (const article of page) this.schedule(article);
      if (page.length < 500) return;
      const last = page[page.length - 1]!;
      after = { publishedAt: last.publishedAt, id: last.id };
    }
  }

  cancelScheduled(): void {
    for (const timer of this.scheduled.values()) clearTimeout(timer);
    this.scheduled.clear();
  }

  override async changeArticle(args: {
    id: string;
    expectedVersion: number;
    change: Partial<ArticleSnapshot>;
    by: string;
  }): Promise<ArticleRecord> {
    const [before] = await this.inner.findArticlesByIds({ ids: [args.id], includeHidden: true });
    const after = await this.inner.changeArticle(args);
    if (before)
      await this.purger.purge(articleChangeTags(before, after, { tagsOrCredits: 'tags' in args.change || 'credits' in args.change }));
    else await this.purger.purgeAll();
    this.schedule(after);
    return after;
  }

  override async createSection(args: { name: string; slug: string; parentId: string }): Promise<SectionRecord> {
    const section = await this.inner.createSection(args);
    await this.purger.purge([SECTIONS_TAG]);
    return section;
  }

  override async updateSection(args: { id: string; name?: string; slug?: string }): Promise<SectionRecord> {
    const section = await this.inner.updateSection(args);
    await this.purger.purge([SECTIONS_TAG]);
    return section;
  }

  // Lists of a section cover its subtree; a move changes which lists cover what.
  override async moveSection(args: { id: string; parentId: string }): Promise<SectionRecord> {
    const section = await this.inner.moveSection(args);
    await this.purger.purgeAll();
    return section;
  }

  override async setTeasers(args: {
    sectionId: string;
    kind: TeaserKind;
    items: readonly Pick<TeaserRecord, 'title' | 'summary' | 'url' | 'articleId'>[];
  }): Promise<TeaserRecord[]> {
    const teasers = await this.inner.setTeasers(args);
    await this.purger.purge([teasersTag(args.sectionId)]);
    return teasers;
  }

  override async savePage(page: ParsedPage): Promise<SavePageResult> {
    const result = await this.inner.savePage(page);
    if (result.status !== 'unchanged') await this.purger.purgeAll();
    return result;
  }

  override async importContent(records: AsyncIterable<ContentTransfer>): Promise<void> {
    await this.inner.importContent(records);
    await this.purger.purgeAll();
  }

  override async savePages(pages: readonly PreparedPage[]): Promise<SavePageResult[]> {
    const results = await this.inner.savePages(pages);
    if (results.some((result) => result.status !== 'unchanged')) await this.purger.purgeAll();
    return results;
  }

  private schedule(article: ArticleRecord): void {
    clearTimeout(this.scheduled.get(article.id));
    this.scheduled.delete(article.id);
    const now = Date.now();
    const wait = article.publishedAt - now;
    if (!isScheduled(article, now)) return;
    const timer = setTimeout(
      () => {
        this.scheduled.delete(article.id);
        if (wait > MAX_TIMER_MS) return this.schedule(article);
        void this.purger.purge(publicationTags(article)).catch((error: unknown) => this.onError(error));
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    this.scheduled.set(article.id, timer);
  }
}
