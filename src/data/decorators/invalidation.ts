import { overriding, type ContentStore } from '../store.js';
import type { ArticleRecord } from '../types.js';
import { articleChangeTags } from './tagging.js';

/** Where purges go: this process's response cache, or the one in Redis that every instance shares. */
export interface Purger {
  purge(tags: readonly string[]): Promise<void>;
  /** Everything: for bulk imports and section moves, which touch too much to name. */
  purgeAll(): Promise<void>;
}

/** setTimeout's longest delay; a later publication re-arms the timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface InvalidatingStore extends ContentStore {
  /** Arms the purges for articles already scheduled (at start: timers do not outlive the process). */
  scheduleUpcoming(): Promise<void>;
  cancelScheduled(): void;
}

/**
 * The store with every write followed by the purge of what it made stale,
 * before the write's promise resolves: when a mutation returns, no cached
 * response shows the old state. An article scheduled for later is purged
 * again when its time comes, since its publication involves no write.
 */
export function invalidatingStore(store: ContentStore, purger: Purger, onError: (error: unknown) => void = () => {}): InvalidatingStore {
  const scheduled = new Map<string, NodeJS.Timeout>();
  const schedule = (article: ArticleRecord) => {
    clearTimeout(scheduled.get(article.id));
    scheduled.delete(article.id);
    const wait = article.publishedAt - Date.now();
    if (article.status !== 'PUBLISHED' || article.deletedAt !== null || wait <= 0) return;
    const timer = setTimeout(() => {
      scheduled.delete(article.id);
      if (wait > MAX_TIMER_MS) return schedule(article);
      void purger.purge([
        `article:${article.id}`,
        `article-id:${article.id}`,
        `article-slug:${article.slug}`,
        'search',
        'list:all',
        `list:section:${article.sectionId}`,
      ]).catch((error: unknown) => onError(error));
    }, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    scheduled.set(article.id, timer);
  };

  const writes: Partial<ContentStore> = {
    async changeArticle(args) {
      const [before] = await store.findArticlesByIds({ ids: [args.id], includeHidden: true });
      const after = await store.changeArticle(args);
      if (before) await purger.purge(articleChangeTags(before, after, { tagsOrCredits: 'tags' in args.change || 'credits' in args.change }));
      else await purger.purgeAll();
      schedule(after);
      return after;
    },
    async createSection(args) {
      const section = await store.createSection(args);
      await purger.purge(['sections']);
      return section;
    },
    async updateSection(args) {
      const section = await store.updateSection(args);
      await purger.purge(['sections']);
      return section;
    },
    // Lists of a section cover its subtree; a move changes which lists cover what.
    async moveSection(args) {
      const section = await store.moveSection(args);
      await purger.purgeAll();
      return section;
    },
    async setTeasers(args) {
      const teasers = await store.setTeasers(args);
      await purger.purge([`teasers:${args.sectionId}`]);
      return teasers;
    },
    async savePage(page) {
      const result = await store.savePage(page);
      if (result.status !== 'unchanged') await purger.purgeAll();
      return result;
    },
    async importContent(records) {
      await store.importContent(records);
      await purger.purgeAll();
    },
    async savePages(pages) {
      const results = await store.savePages(pages);
      if (results.some((result) => result.status !== 'unchanged')) await purger.purgeAll();
      return results;
    },
  };
  const extra: Pick<InvalidatingStore, 'scheduleUpcoming' | 'cancelScheduled'> = {
    async scheduleUpcoming() {
      let after = null;
      // Scheduled articles are few; walking them in pages keeps any one statement small.
      for (;;) {
        const page = await store.listArticles({ filter: { includeHidden: true, publishedFrom: Date.now() }, order: 'asc', after, limit: 500 });
        for (const article of page) schedule(article);
        if (page.length < 500) return;
        const last = page[page.length - 1]!;
        after = { publishedAt: last.publishedAt, id: last.id };
      }
    },
    cancelScheduled() {
      for (const timer of scheduled.values()) clearTimeout(timer);
      scheduled.clear();
    },
  };
  return overriding(store, { ...writes, ...extra });
}
