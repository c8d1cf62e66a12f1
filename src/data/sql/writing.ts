import type { Transaction } from 'kysely';
import { slugify } from '../../text/slug.js';
import type { DerivedFields } from '../prepare-page.js';
import { searchDocument } from '../search-document.js';
import type { Database } from '../tables.js';
import type { ArticleSnapshot, CreditRecord, CreditRole } from '../types.js';
import type { SqlHandle } from './handle.js';
import { type ArticleRow, toArticle } from './rows.js';

// What the writes share: an article's columns, what hangs off its row, its
// snapshot for revisions, and the per-transaction cache of ids and term counts.

/**
 * What hangs off an article's row: its search index entry and term
 * statistics (when the text changed, `derived` is given), credits and tags.
 */
export async function writeDetails(
  h: SqlHandle,
  trx: Transaction<Database>,
  articleId: number,
  content: Pick<ArticleSnapshot, 'publishedAt' | 'credits' | 'tags'>,
  derived: DerivedFields | null,
  before: Pick<ArticleSnapshot, 'title' | 'body'> | null,
  cache: WriteCache,
): Promise<void> {
  if (derived) {
    await h.search.write(trx, articleId, derived.search, before === null);
    const count = (terms: readonly string[], delta: number) => {
      for (const term of terms) cache.termDeltas.set(term, (cache.termDeltas.get(term) ?? 0) + delta);
    };
    if (before) count(searchDocument(before.title, before.body).terms, -1);
    count(derived.search.terms, 1);
  }
  await trx.deleteFrom('credits').where('article_id', '=', articleId).execute();
  if (content.credits.length) {
    await trx
      .insertInto('credits')
      .values(content.credits.map((c, position) => ({ article_id: articleId, position, role: c.role, label: c.label, name: c.name })))
      .execute();
  }
  await trx.deleteFrom('article_tags').where('article_id', '=', articleId).execute();
  for (const [position, name] of content.tags.entries()) {
    const tagId = await ensureTag(trx, name, cache);
    await trx
      .insertInto('article_tags')
      .values({ article_id: articleId, tag_id: tagId, position, published_at: content.publishedAt })
      .execute();
  }
}

async function creditsOf(trx: Transaction<Database>, articleId: number): Promise<CreditRecord[]> {
  const rows = await trx
    .selectFrom('credits')
    .select(['role', 'label', 'name'])
    .where('article_id', '=', articleId)
    .orderBy('position')
    .execute();
  return rows.map((r) => ({ role: r.role as CreditRole, label: r.label, name: r.name }));
}

async function tagNamesOf(trx: Transaction<Database>, articleId: number): Promise<string[]> {
  const rows = await trx
    .selectFrom('article_tags')
    .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
    .select('tags.name')
    .where('article_tags.article_id', '=', articleId)
    .orderBy('article_tags.position')
    .execute();
  return rows.map((r) => r.name);
}

/**
 * What the writes of one transaction share: section and tag ids already
 * looked up (a bulk load names the same few again and again) and the changes
 * to the term statistics, written once at the end.
 */
export interface WriteCache {
  sections: Map<string, number>;
  tags: Map<string, number>;
  /** Changes to the term statistics, written once per transaction. */
  termDeltas: Map<string, number>;
}

export function newWriteCache(): WriteCache {
  return { sections: new Map(), tags: new Map(), termDeltas: new Map() };
}

type ContentColumns = Pick<ArticleRow, 'slug' | 'title' | 'source_name' | 'source_url' | 'published_at' | 'section_id'>;

export function contentColumns(content: Omit<ArticleSnapshot, 'body' | 'credits' | 'tags' | 'status' | 'deletedAt'>): ContentColumns {
  return {
    slug: content.slug,
    title: content.title,
    source_name: content.sourceName,
    source_url: content.sourceUrl,
    published_at: content.publishedAt,
    section_id: Number(content.sectionId),
  };
}

export function derivedColumns(derived: DerivedFields) {
  return {
    body: derived.bodyJson,
    excerpt: derived.excerpt,
    word_count: derived.wordCount,
    reading_minutes: derived.readingMinutes,
  };
}

/** The editable state of a stored article, as a revision keeps it. */
export async function snapshotOf(trx: Transaction<Database>, row: ArticleRow): Promise<ArticleSnapshot> {
  const { slug, title, sourceName, sourceUrl, publishedAt, sectionId, body, status, deletedAt } = toArticle(row);
  return {
    slug,
    title,
    sourceName,
    sourceUrl,
    publishedAt,
    sectionId,
    body,
    credits: await creditsOf(trx, row.id),
    tags: await tagNamesOf(trx, row.id),
    status,
    deletedAt,
  };
}

async function ensureTag(trx: Transaction<Database>, name: string, cache: WriteCache): Promise<number> {
  const known = cache.tags.get(name);
  if (known !== undefined) return known;
  const found = await trx.selectFrom('tags').select('id').where('name', '=', name).executeTakeFirst();
  if (found) {
    cache.tags.set(name, found.id);
    return found.id;
  }
  const slug = await uniqueSlug(slugify(name), async (s) =>
    Boolean(await trx.selectFrom('tags').select('id').where('slug', '=', s).executeTakeFirst()),
  );
  const inserted = await trx.insertInto('tags').values({ slug, name }).returning('id').executeTakeFirstOrThrow();
  cache.tags.set(name, inserted.id);
  return inserted.id;
}

export async function uniqueSlug(base: string, taken: (slug: string) => Promise<boolean>): Promise<string> {
  let slug = base;
  for (let n = 2; await taken(slug); n++) slug = `${base}-${n}`;
  return slug;
}
