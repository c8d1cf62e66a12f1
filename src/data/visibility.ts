import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { ArticleRecord, ArticleStatus } from './types.js';

// Who may see an article: the one rule, as a TypeScript predicate for records
// in hand and as SQL conditions for queries, both spelled from the same
// constants below. The public sees an article that is published, not
// deleted, and whose publication time has come; before that time it is
// scheduled.

/** The status an article needs for the public to see it. */
const PUBLIC_STATUS = 'PUBLISHED' satisfies ArticleStatus;

type Visibility = Pick<ArticleRecord, 'status' | 'deletedAt' | 'publishedAt'>;

/** Published and not deleted: public once its time has come, whenever that is. */
function publicInTime(article: Pick<ArticleRecord, 'status' | 'deletedAt'>): boolean {
  return article.status === PUBLIC_STATUS && article.deletedAt === null;
}

/** Whether the article's publication time has come at `now`. */
export function isDue(article: Pick<ArticleRecord, 'publishedAt'>, now = Date.now()): boolean {
  return article.publishedAt <= now;
}

/** Whether anyone may see the article: published, not deleted, and its time has come. */
export function isPublic(article: Visibility, now = Date.now()): boolean {
  return publicInTime(article) && isDue(article, now);
}

/** Whether the article becomes public later with no write: published, not deleted, its time still to come. */
export function isScheduled(article: Visibility, now = Date.now()): boolean {
  return publicInTime(article) && !isDue(article, now);
}

/** The SQL for "published and not deleted" on the `articles` columns, each name led by `table`. */
function publicInTimeSql(table: '' | 'articles.'): string {
  return `${table}status = '${PUBLIC_STATUS}' AND ${table}deleted_at IS NULL`;
}

/**
 * Drafts and deleted articles: hidden whatever the time. The partial index
 * `articles_unpublished` is built on exactly this text (migration 003 keeps
 * a frozen copy of it), which is what lets SQLite use the index: the text
 * must not change.
 */
const HIDDEN_FOR_GOOD = `status <> '${PUBLIC_STATUS}' OR deleted_at IS NOT NULL`;

/** The public may see an article that is published, not deleted, and whose time has come. */
export function visibleCondition(now: unknown): RawBuilder<SqlBool> {
  return sql<SqlBool>`(${sql.raw(publicInTimeSql('articles.'))} AND articles.published_at <= ${now})`;
}

/**
 * The ids of every article the public may not see now: few, and found through
 * two indexes. The two parts are disjoint, so UNION ALL needs no merge (a
 * plain UNION made SQLite walk the whole table in id order to merge them).
 */
export function hiddenIds(now: number): RawBuilder<{ id: number }> {
  return sql<{ id: number }>`SELECT id FROM articles WHERE ${sql.raw(HIDDEN_FOR_GOOD)}
    UNION ALL SELECT id FROM articles WHERE published_at > ${now} AND ${sql.raw(publicInTimeSql(''))}`;
}
