import type { ArticleRecord } from './types.js';
import { isPublic } from './visibility.js';

/*
 * Cache tags name what an answer was built from, so a change can drop
 * exactly the answers it affects. This module alone spells them; the
 * response cache (src/http-cache/) and the section cache
 * (src/data/decorators/section-cache.ts) store them, the tagging store
 * notes them, and the invalidating store purges them.
 *   article:ID            an article the answer shows (its fields, credits, tags)
 *   article-id:ID         a lookup by id that found nothing public
 *   article-slug:SLUG     a lookup by slug that found nothing public
 *   list:all              a list, count or search over the whole archive (or by tag, credit or date)
 *   list:section:ID       a list limited to sections, one tag per section it covers
 *   search                a full-text search (any article's text may change its hits)
 *   sections              the section tree (names, paths, parents)
 *   teasers:ID            a section's curated 热点 / 最近更新 list
 */

export const articleTag = (id: string): string => `article:${id}`;
export const articleIdTag = (id: string): string => `article-id:${id}`;
export const articleSlugTag = (slug: string): string => `article-slug:${slug}`;
export const ALL_LISTS_TAG = 'list:all';
export const sectionListTag = (sectionId: string): string => `list:section:${sectionId}`;
export const SEARCH_TAG = 'search';
export const SECTIONS_TAG = 'sections';
export const teasersTag = (sectionId: string): string => `teasers:${sectionId}`;

/** The tags of a list limited to `sectionIds`, or of one over the whole archive when none are given. */
export function listTags(sectionIds: readonly string[] | undefined): string[] {
  return sectionIds?.length ? sectionIds.map(sectionListTag) : [ALL_LISTS_TAG];
}

/**
 * The tags an article change makes stale. Any change drops the answers
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
  const tags = [articleTag(after.id), articleIdTag(after.id), articleSlugTag(before.slug), articleSlugTag(after.slug)];
  const publicBefore = isPublic(before, now);
  const publicAfter = isPublic(after, now);
  if (!publicBefore && !publicAfter) return tags;
  tags.push(SEARCH_TAG);
  const listed =
    publicBefore !== publicAfter ||
    before.publishedAt !== after.publishedAt ||
    before.sectionId !== after.sectionId ||
    changed.tagsOrCredits;
  if (listed) tags.push(ALL_LISTS_TAG, sectionListTag(before.sectionId), sectionListTag(after.sectionId));
  return tags;
}

/** The tags a scheduled article's publication makes stale when its time comes (no write marks it). */
export function publicationTags(article: Pick<ArticleRecord, 'id' | 'slug' | 'sectionId'>): string[] {
  return [
    articleTag(article.id),
    articleIdTag(article.id),
    articleSlugTag(article.slug),
    SEARCH_TAG,
    ALL_LISTS_TAG,
    sectionListTag(article.sectionId),
  ];
}
