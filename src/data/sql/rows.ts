import type { Selectable } from 'kysely';
import type { ArticlesTable, SectionsTable } from '../tables.js';
import type { ArticleRecord, ArticleStatus, ArticleSummary, ContentBlock, SectionRecord } from '../types.js';

// Stored rows as the records the store hands out, and the small helpers the
// reads share to batch them.

export type ArticleRow = Selectable<ArticlesTable>;

export function toSection(row: Selectable<SectionsTable>): SectionRecord {
  return {
    id: String(row.id),
    slug: row.slug,
    name: row.name,
    parentId: row.parent_id === null ? null : String(row.parent_id),
    position: row.position,
  };
}

/**
 * An article row as a record. The body is parsed from its JSON when first
 * read: lists and teasers (a section page, the 热点 fallback of newest
 * articles) read whole rows but show no body, and parsing bodies they never
 * show was a measurable part of an uncached article page.
 */
export function toArticle(row: ArticleRow): ArticleRecord {
  let body: ContentBlock[] | undefined;
  return {
    ...toSummary(row),
    get body() {
      return (body ??= JSON.parse(row.body) as ContentBlock[]);
    },
  };
}

/** Every column of `articles` but the body. */
export const SUMMARY_COLUMNS = [
  'id',
  'slug',
  'title',
  'source_name',
  'source_url',
  'published_at',
  'section_id',
  'excerpt',
  'word_count',
  'reading_minutes',
  'version',
  'status',
  'deleted_at',
  'created_at',
  'updated_at',
  'created_by',
  'updated_by',
] as const satisfies readonly Exclude<keyof ArticleRow, 'body'>[];

export function toSummary(row: Omit<ArticleRow, 'body'>): ArticleSummary {
  return {
    id: String(row.id),
    slug: row.slug,
    title: row.title,
    sourceName: row.source_name,
    sourceUrl: row.source_url,
    publishedAt: Number(row.published_at),
    sectionId: String(row.section_id),
    excerpt: row.excerpt,
    wordCount: row.word_count,
    readingMinutes: row.reading_minutes,
    version: row.version,
    status: row.status as ArticleStatus,
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  };
}

export function numericIds(ids: readonly string[]): number[] {
  return ids.map(Number).filter(Number.isSafeInteger);
}

export function groupBy<Row, Item>(
  keys: readonly string[],
  rows: readonly Row[],
  keyOf: (row: Row) => string,
  toItem: (row: Row) => Item,
): Item[][] {
  const groups = new Map<string, Item[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(toItem(row));
  return keys.map((k) => groups.get(k) ?? []);
}
