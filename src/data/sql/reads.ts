import { sql } from 'kysely';
import type { ArticleFilterQuery, ArticleListQuery } from '../store.js';
import type {
  ArticleRecord,
  ArticleRevisionRecord,
  ArticleSnapshot,
  ArticleSummary,
  CreditRecord,
  CreditRole,
  SectionRecord,
  TagRecord,
  TeaserKind,
  TeaserRecord,
} from '../types.js';
import { hiddenIds } from '../visibility.js';
import { filterCondition, keysetCondition } from './filters.js';
import type { SqlHandle } from './handle.js';
import { type ArticleRow, groupBy, numericIds, SUMMARY_COLUMNS, toArticle, toSection, toSummary } from './rows.js';

// The store's reads: articles by key and in lists, counts, sections, and
// what hangs off articles and sections (credits, tags, teasers, revisions).

export async function findArticlesByIds(
  h: SqlHandle,
  { ids, includeHidden = false }: { ids: readonly string[]; includeHidden?: boolean },
): Promise<(ArticleRecord | null)[]> {
  const numeric = ids.map(Number).filter(Number.isSafeInteger);
  if (numeric.length === 0) return ids.map(() => null);
  const rows = await articlesWhere(h, 'id', numeric, includeHidden);
  const byId = new Map(rows.map((r) => [String(r.id), toArticle(r)]));
  return ids.map((id) => byId.get(id) ?? null);
}

export async function findArticlesBySlugs(
  h: SqlHandle,
  { slugs, includeHidden = false }: { slugs: readonly string[]; includeHidden?: boolean },
): Promise<(ArticleRecord | null)[]> {
  if (slugs.length === 0) return [];
  const rows = await articlesWhere(h, 'slug', slugs, includeHidden);
  const bySlug = new Map(rows.map((r) => [r.slug, toArticle(r)]));
  return slugs.map((slug) => bySlug.get(slug) ?? null);
}

/** Whole rows of the articles whose `column` is in `keys` (and that the public may see now, unless `includeHidden`). */
function articlesWhere(
  h: SqlHandle,
  column: 'id' | 'slug',
  keys: readonly (number | string)[],
  includeHidden: boolean,
): Promise<ArticleRow[]> {
  const values = includeHidden ? keys : [...keys, Date.now()];
  return h.shapes.rows(`articles by ${column} ${includeHidden ? 'all' : 'visible'} ${keys.length}`, values, (v) =>
    h.db
      .selectFrom('articles')
      .selectAll()
      .where(column, 'in', v.slice(0, keys.length) as never[])
      .where(filterCondition({ includeHidden }, v[keys.length])),
  );
}

export async function listArticles(h: SqlHandle, query: ArticleListQuery): Promise<ArticleRecord[]> {
  const rows = await articleList(h, query).selectAll().execute();
  return rows.map(toArticle);
}

export async function listArticleSummaries(h: SqlHandle, query: ArticleListQuery): Promise<ArticleSummary[]> {
  const rows = await articleList(h, query).select(SUMMARY_COLUMNS).execute();
  return rows.map(toSummary);
}

function articleList(h: SqlHandle, { filter, order = 'desc', after, until, limit }: ArticleListQuery) {
  let query = h.db.selectFrom('articles').where(filterCondition(filter));
  if (after) query = query.where(keysetCondition(after, order, true));
  if (until) query = query.where(keysetCondition(until, order, false));
  return query.orderBy('published_at', order).orderBy('id', order).limit(limit);
}

/**
 * Counted as all matching articles less the hidden ones among them: the
 * visibility test needs each row's status, which no index the count can
 * use holds (checking it row by row took 230 ms at 100,000 articles),
 * while hidden articles are few and found through their own index.
 */
export async function countArticles(h: SqlHandle, { filter }: { filter?: ArticleFilterQuery }): Promise<number> {
  const all = h.db
    .selectFrom('articles')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where(filterCondition({ ...filter, includeHidden: true }));
  if (filter?.includeHidden) return Number((await all.executeTakeFirstOrThrow()).count);
  // Driven from the hidden ids, so the planner walks the few of them, not the table.
  const hidden = h.db
    .selectFrom(sql<{ id: number }>`(${hiddenIds(Date.now())})`.as('hidden'))
    .innerJoin('articles', 'articles.id', 'hidden.id')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where(filterCondition({ ...filter, includeHidden: true }));
  const [total, hiddenCount] = [await all.executeTakeFirstOrThrow(), await hidden.executeTakeFirstOrThrow()];
  return Number(total.count) - Number(hiddenCount.count);
}

/**
 * Candidates are each of the article's tags' newest `TAG_CANDIDATES`
 * articles, one index range per tag; counting overlaps across every article
 * of a popular tag took 70–140 ms at 100,000 articles.
 */
export async function listArticlesSharingTags(
  h: SqlHandle,
  { articleId, limit }: { articleId: string; limit: number },
): Promise<ArticleRecord[]> {
  if (limit <= 0) return [];
  const tags = await h.db.selectFrom('article_tags').select('tag_id').where('article_id', '=', Number(articleId)).execute();
  const shared = new Map<number, { count: number; publishedAt: number }>();
  for (const { tag_id } of tags) {
    const rows = await h.db
      .selectFrom('article_tags')
      .select(['article_id', 'published_at'])
      .where('tag_id', '=', tag_id)
      .where('article_id', '!=', Number(articleId))
      .orderBy('published_at', 'desc')
      .orderBy('article_id', 'desc')
      .limit(TAG_CANDIDATES)
      .execute();
    for (const row of rows) {
      const entry = shared.get(row.article_id) ?? { count: 0, publishedAt: Number(row.published_at) };
      entry.count++;
      shared.set(row.article_id, entry);
    }
  }
  const best = [...shared]
    .sort(([idA, a], [idB, b]) => b.count - a.count || b.publishedAt - a.publishedAt || idB - idA)
    .slice(0, limit)
    .map(([id]) => String(id));
  return (await findArticlesByIds(h, { ids: best })).filter((a): a is ArticleRecord => a !== null);
}

export async function listSections(h: SqlHandle): Promise<SectionRecord[]> {
  const rows = await h.shapes.rows('sections', [], () => h.db.selectFrom('sections').selectAll().orderBy('position').orderBy('id'));
  return rows.map(toSection);
}

export async function findCredits(h: SqlHandle, { articleIds }: { articleIds: readonly string[] }): Promise<CreditRecord[][]> {
  const ids = numericIds(articleIds);
  const rows = ids.length
    ? await h.shapes.rows(`credits ${ids.length}`, ids, (v) =>
        h.db
          .selectFrom('credits')
          .selectAll()
          .where('article_id', 'in', v as number[])
          .orderBy('article_id')
          .orderBy('position'),
      )
    : [];
  return groupBy(
    articleIds,
    rows,
    (r) => String(r.article_id),
    (r) => ({
      role: r.role as CreditRole,
      label: r.label,
      name: r.name,
    }),
  );
}

export async function findTags(h: SqlHandle, { articleIds }: { articleIds: readonly string[] }): Promise<TagRecord[][]> {
  const ids = numericIds(articleIds);
  const rows = ids.length
    ? await h.shapes.rows(`tags ${ids.length}`, ids, (v) =>
        h.db
          .selectFrom('article_tags')
          .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
          .select(['article_tags.article_id', 'tags.id', 'tags.slug', 'tags.name'])
          .where('article_tags.article_id', 'in', v as number[])
          .orderBy('article_tags.article_id')
          .orderBy('article_tags.position'),
      )
    : [];
  return groupBy(
    articleIds,
    rows,
    (r) => String(r.article_id),
    (r) => ({
      id: String(r.id),
      slug: r.slug,
      name: r.name,
    }),
  );
}

export async function findTeasers(
  h: SqlHandle,
  { sectionIds, kind }: { sectionIds: readonly string[]; kind: TeaserKind },
): Promise<TeaserRecord[][]> {
  const ids = numericIds(sectionIds);
  const rows = ids.length
    ? await h.shapes.rows(`teasers ${ids.length}`, [kind, ...ids], (v) =>
        h.db
          .selectFrom('teasers')
          .selectAll()
          .where('section_id', 'in', v.slice(1) as number[])
          .where('kind', '=', v[0] as TeaserKind)
          .orderBy('section_id')
          .orderBy('position'),
      )
    : [];
  return groupBy(
    sectionIds,
    rows,
    (r) => String(r.section_id),
    (r) => ({
      sectionId: String(r.section_id),
      kind,
      position: r.position,
      title: r.title,
      summary: r.summary,
      url: r.url,
      publishedAt: r.published_at === null ? null : Number(r.published_at),
      articleId: r.article_id === null ? null : String(r.article_id),
    }),
  );
}

export async function listRevisions(h: SqlHandle, { articleId }: { articleId: string }): Promise<ArticleRevisionRecord[]> {
  const id = Number(articleId);
  if (!Number.isSafeInteger(id)) return [];
  const rows = await h.db.selectFrom('article_revisions').selectAll().where('article_id', '=', id).orderBy('version', 'desc').execute();
  return rows.map((r) => ({
    articleId: String(r.article_id),
    version: r.version,
    snapshot: JSON.parse(r.snapshot) as ArticleSnapshot,
    replacedAt: Number(r.created_at),
    replacedBy: r.created_by,
  }));
}

/** How many of a tag's newest articles are considered as sharing it. */
const TAG_CANDIDATES = 200;
