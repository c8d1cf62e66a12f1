import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { ArticleFilterQuery, ArticleKey, SortOrder } from '../store.js';
import { visibleCondition } from '../visibility.js';

// Conditions on the `articles` table written as plain SQL fragments that both
// SQLite and PostgreSQL understand, so list and search queries share them.

const TRUE = sql<SqlBool>`1 = 1`;

/** Whether a filter narrows anything down beyond visibility and excluding a few articles by id. */
export function narrowsBeyondExclusions(filter: ArticleFilterQuery | undefined): boolean {
  return Object.entries(filter ?? {}).some(([key, value]) => key !== 'excludeIds' && key !== 'includeHidden' && value !== undefined);
}

/** Every condition of `filter`, and unless it says `includeHidden`, visibility to the public at `now`. */
export function filterCondition(filter: ArticleFilterQuery | undefined, now: unknown = Date.now()): RawBuilder<SqlBool> {
  const parts: RawBuilder<unknown>[] = [];
  if (!filter?.includeHidden) parts.push(visibleCondition(now));
  if (!filter) return sql<SqlBool>`${parts[0]!}`;
  if (filter.sectionIds) parts.push(sql`articles.section_id IN (${inList(filter.sectionIds)})`);
  if (filter.tagSlug !== undefined) {
    parts.push(sql`articles.id IN (
      SELECT article_tags.article_id FROM article_tags
      JOIN tags ON tags.id = article_tags.tag_id
      WHERE tags.slug = ${filter.tagSlug})`);
  }
  if (filter.creditName !== undefined) {
    parts.push(sql`articles.id IN (SELECT credits.article_id FROM credits WHERE credits.name = ${filter.creditName})`);
  }
  if (filter.publishedFrom !== undefined) parts.push(sql`articles.published_at >= ${filter.publishedFrom}`);
  if (filter.publishedTo !== undefined) parts.push(sql`articles.published_at < ${filter.publishedTo}`);
  if (filter.excludeIds?.length) parts.push(sql`articles.id NOT IN (${inList(filter.excludeIds)})`);
  return parts.length ? sql<SqlBool>`(${sql.join(parts, sql` AND `)})` : TRUE;
}

/** `IN ()` is a syntax error; an id that cannot exist keeps an empty list valid and matching nothing. */
function inList(ids: readonly string[]): RawBuilder<unknown> {
  const numeric = ids.map(Number).filter(Number.isSafeInteger);
  return sql.join(numeric.length ? numeric : [-1]);
}

/** Rows strictly beyond `key` when scanning in `order` (`beyond`), or strictly before it (`!beyond`). */
export function keysetCondition(key: ArticleKey, order: SortOrder, beyond: boolean): RawBuilder<SqlBool> {
  const descending = order === 'desc';
  const op = descending === beyond ? sql.raw('<') : sql.raw('>');
  // A row-value comparison lets the (published_at, id) index seek straight to the cursor.
  return sql<SqlBool>`(articles.published_at, articles.id) ${op} (${key.publishedAt}, ${Number(key.id)})`;
}
