import { type Kysely, type SqlBool, sql } from 'kysely';
import type { SearchMatch, SearchQuery } from '../store.js';
import type { Database } from '../tables.js';
import { hiddenIds } from '../visibility.js';
import { filterCondition, narrowsBeyondExclusions } from './filters.js';
import type { SqlHandle } from './handle.js';
import { findArticlesByIds } from './reads.js';
import { toArticle } from './rows.js';

// Full-text search and its counts over the engine's search index (data/search-index.ts).

export async function searchArticles(h: SqlHandle, query: SearchQuery): Promise<SearchMatch[]> {
  // A full page from the leading tier is exact: every match outside the tier ranks below every
  // match in it, and within it the order (score, then recency) is the full ranking's.
  const leading = h.search.leadingMatches?.(query.terms, query.mode);
  if (leading) {
    const page = await searchJoined(h, query, leading);
    if (page.length === query.limit) return page;
  }
  return (narrowsBeyondExclusions(query.filter) ? null : await searchIndexFirst(h, query)) ?? searchJoined(h, query);
}

/**
 * Ranks in the index alone and reads only the winners' rows. Exact: the
 * index returns `TIE_MARGIN` more rows than the page needs so ties on the
 * page's last score can be ordered by recency, and when the ties run past
 * even that, it gives up (null) and the joined query decides.
 */
async function searchIndexFirst(h: SqlHandle, { terms, mode, filter, after, limit }: SearchQuery): Promise<SearchMatch[] | null> {
  const window = limit + TIE_MARGIN;
  const top = await h.db
    .selectFrom(h.search.topMatches(terms, mode, { excludeIds: filter?.excludeIds, maxScore: after?.score, limit: window }).as('m'))
    .select(['m.article_id', 'm.score'])
    .execute();
  // Hidden articles are in the index too; reading the rows drops them (and a page left short falls back below).
  const articles = await findArticlesByIds(h, { ids: top.map((t) => String(t.article_id)), includeHidden: filter?.includeHidden });
  const matches: SearchMatch[] = [];
  top.forEach((t, i) => {
    const article = articles[i];
    if (!article) return;
    const score = Number(t.score);
    // Rows tied with the cursor's score that come before it in recency order were on earlier pages.
    if (after && score === after.score && compareKeys(article, after) >= 0) return;
    matches.push({ article, score });
  });
  matches.sort((a, b) => b.score - a.score || compareKeys(b.article, a.article));
  const page = matches.slice(0, limit);
  if (top.length === window) {
    const lowest = Number(top.at(-1)!.score);
    if (page.length < limit || page.at(-1)!.score === lowest) return null;
  }
  return page;
}

async function searchJoined(
  h: SqlHandle,
  { terms, mode, filter, after, limit }: SearchQuery,
  matches = h.search.matches(terms, mode),
): Promise<SearchMatch[]> {
  let query = h.db
    .selectFrom(matches.as('m'))
    .innerJoin('articles', 'articles.id', 'm.article_id')
    .selectAll('articles')
    .select('m.score')
    .where(filterCondition(filter));
  if (after) {
    query = query.where(
      sql<SqlBool>`(m.score < ${after.score} OR (m.score = ${after.score} AND (articles.published_at, articles.id) < (${after.publishedAt}, ${Number(after.id)})))`,
    );
  }
  const rows = await query
    .orderBy('m.score', 'desc')
    .orderBy('articles.published_at', 'desc')
    .orderBy('articles.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ article: toArticle(row), score: Number(row.score) }));
}

export async function countSearchMatches(
  h: SqlHandle,
  { terms, mode, filter }: Pick<SearchQuery, 'terms' | 'mode' | 'filter'>,
): Promise<number> {
  return counting(h, async (db) => {
    const query = db.selectFrom(h.search.matchingIds(terms, mode).as('m'));
    if (narrowsBeyondExclusions(filter) || filter?.excludeIds?.length) {
      const row = await query
        .innerJoin('articles', 'articles.id', 'm.article_id')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where(filterCondition(filter))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    }
    // Without a filter the index counts alone, less the few hidden articles that match.
    const all = await query.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
    if (filter?.includeHidden) return Number(all.count);
    const hidden = await db
      .selectFrom(h.search.matchingIds(terms, mode).as('m'))
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where(sql<SqlBool>`m.article_id IN (${hiddenIds(Date.now())})`)
      .executeTakeFirstOrThrow();
    return Number(all.count) - Number(hidden.count);
  });
}

/** Runs `work` after the search index's `beforeCounting` statements, in one transaction with them when there are any. */
async function counting<T>(h: SqlHandle, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const before = h.search.beforeCounting;
  if (!before) return work(h.db);
  return h.db.transaction().execute(async (trx) => {
    await before.execute(trx);
    return work(trx);
  });
}

export async function termDocumentFrequencies(h: SqlHandle, { terms }: { terms: readonly string[] }): Promise<Map<string, number>> {
  const frequencies = new Map<string, number>();
  for (let i = 0; i < terms.length; i += 500) {
    const rows = await h.db
      .selectFrom('search_terms')
      .select(['term', 'articles'])
      .where('term', 'in', terms.slice(i, i + 500))
      .execute();
    for (const row of rows) frequencies.set(row.term, Number(row.articles));
  }
  return frequencies;
}

/** Extra index rows fetched so that ties at a page's end can be put in recency order. */
const TIE_MARGIN = 20;

/** Order of two positions by recency: positive when `a` is newer (later, or same time and higher id). */
function compareKeys(a: { publishedAt: number; id: string }, b: { publishedAt: number; id: string }): number {
  return a.publishedAt - b.publishedAt || Number(a.id) - Number(b.id);
}
