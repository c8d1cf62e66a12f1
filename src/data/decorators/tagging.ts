import { overriding, type ArticleFilterQuery, type ContentStore } from '../store.js';
import { isPublic, type ArticleRecord } from '../types.js';

/*
 * Cache tags name what a response was built from, so a change can drop
 * exactly the responses it affects:
 *   article:ID            an article the response shows (its fields, credits, tags)
 *   article-id:ID         a lookup by id that found nothing public
 *   article-slug:SLUG     a lookup by slug that found nothing public
 *   list:all              a list, count or search over the whole archive (or by tag, credit or date)
 *   list:section:ID       a list limited to sections, one tag per section it covers
 *   search                a full-text search (any article's text may change its hits)
 *   sections              the section tree (names, paths, parents)
 *   teasers:ID            a section's curated 热点 / 最近更新 list
 */

/**
 * The store as one request sees it, noting in `tags` everything the request
 * read. Writes pass through untouched.
 */
export function taggingStore(store: ContentStore, tags: Set<string>): ContentStore {
  const articles = (records: readonly (Pick<ArticleRecord, 'id'> | null)[]) => {
    for (const record of records) if (record) tags.add(`article:${record.id}`);
  };
  const list = (filter: ArticleFilterQuery | undefined) => {
    if (filter?.sectionIds?.length) for (const id of filter.sectionIds) tags.add(`list:section:${id}`);
    else tags.add('list:all');
  };
  const reads: Partial<ContentStore> = {
    async findArticlesByIds(args) {
      const found = await store.findArticlesByIds(args);
      found.forEach((record, i) => tags.add(record ? `article:${record.id}` : `article-id:${args.ids[i]}`));
      return found;
    },
    async findArticlesBySlugs(args) {
      const found = await store.findArticlesBySlugs(args);
      found.forEach((record, i) => tags.add(record ? `article:${record.id}` : `article-slug:${args.slugs[i]}`));
      return found;
    },
    async listArticles(query) {
      list(query.filter);
      const found = await store.listArticles(query);
      articles(found);
      return found;
    },
    async listArticleSummaries(query) {
      list(query.filter);
      const found = await store.listArticleSummaries(query);
      articles(found);
      return found;
    },
    async countArticles(args) {
      list(args.filter);
      return store.countArticles(args);
    },
    async listArticlesSharingTags(args) {
      tags.add('list:all');
      const found = await store.listArticlesSharingTags(args);
      articles(found);
      return found;
    },
    async searchArticles(query) {
      tags.add('search');
      list(query.filter);
      const found = await store.searchArticles(query);
      articles(found.map((match) => match.article));
      return found;
    },
    async countSearchMatches(args) {
      tags.add('search');
      list(args.filter);
      return store.countSearchMatches(args);
    },
    async listSections() {
      tags.add('sections');
      return store.listSections();
    },
    async findCredits(args) {
      for (const id of args.articleIds) tags.add(`article:${id}`);
      return store.findCredits(args);
    },
    async findTags(args) {
      for (const id of args.articleIds) tags.add(`article:${id}`);
      return store.findTags(args);
    },
    async findTeasers(args) {
      for (const id of args.sectionIds) tags.add(`teasers:${id}`);
      return store.findTeasers(args);
    },
  };
  return overriding(store, reads);
}

/**
 * The tags an article change makes stale. Any change drops the responses
 * showing the article and the lookups of its id and slugs. If the public
 * could see it before or after, searches go too (its text may now match or
 * stop matching). If it entered or left the public archive, moved in time or
 * section, or changed tags or credits, the lists it is or was in go as well.
 */
export function articleChangeTags(
  before: ArticleRecord,
  after: ArticleRecord,
  changed: { tagsOrCredits: boolean },
  now = Date.now(),
): string[] {
  const tags = [`article:${after.id}`, `article-id:${after.id}`, `article-slug:${before.slug}`, `article-slug:${after.slug}`];
  const publicBefore = isPublic(before, now);
  const publicAfter = isPublic(after, now);
  if (!publicBefore && !publicAfter) return tags;
  tags.push('search');
  const listed =
    publicBefore !== publicAfter ||
    before.publishedAt !== after.publishedAt ||
    before.sectionId !== after.sectionId ||
    changed.tagsOrCredits;
  if (listed) tags.push('list:all', `list:section:${before.sectionId}`, `list:section:${after.sectionId}`);
  return tags;
}
