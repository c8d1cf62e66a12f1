import { type RawBuilder, sql, type Transaction } from 'kysely';
import { isCjkTerm } from '../text/segment.js';
import type { SearchDocument } from './search-document.js';
import type { Database } from './tables.js';

/** The engine-specific half of search: how terms are indexed, matched and counted. */
export interface SearchIndex {
  /** A subquery of (article_id, score) for the articles matching `terms`; higher score is more relevant. */
  matches(terms: readonly string[], mode: 'all' | 'any'): RawBuilder<{ article_id: number; score: number }>;
  /**
   * The `limit` best matches by score alone, from the index alone: no join,
   * so a term that most articles hold costs one pass over its postings.
   * `excludeIds` and a score ceiling (for continuing after a cursor) are the
   * only conditions it takes.
   */
  topMatches(
    terms: readonly string[],
    mode: 'all' | 'any',
    options: { excludeIds?: readonly string[]; maxScore?: number; limit: number },
  ): RawBuilder<{ article_id: number; score: number }>;
  /** A subquery of the ids of the articles matching `terms`, without scoring them. */
  matchingIds(terms: readonly string[], mode: 'all' | 'any'): RawBuilder<{ article_id: number }>;
  /**
   * Where the engine can find them cheaply and prove it: a subquery of the
   * matches (with their full scores) that outrank every other match, so a
   * page drawn whole from them is the same page the full ranking gives.
   * null when no such tier is known for these terms.
   */
  leadingMatches?(terms: readonly string[], mode: 'all' | 'any'): RawBuilder<{ article_id: number; score: number }> | null;
  /** Statements that must run, in the same transaction, before a statement that counts matches. */
  beforeCounting?: RawBuilder<unknown>;
  /** Indexes an article, replacing what was indexed for it before. */
  write(trx: Transaction<Database>, articleId: number, doc: SearchDocument, isNew: boolean): Promise<void>;
  /** Adds `deltas` (term → change in the number of articles holding it) to the term statistics, in one statement. */
  addTermCounts(trx: Transaction<Database>, deltas: ReadonlyMap<string, number>): Promise<void>;
}

/** BM25 column weights: a term in the title counts ten times one in the body. */
const TITLE_WEIGHT = 10;
const BODY_WEIGHT = 1;
const SCORE = sql`-bm25(article_search, ${sql.lit(TITLE_WEIGHT)}, ${sql.lit(BODY_WEIGHT)})`;

/**
 * SQLite FTS5. Every term becomes a quoted FTS5 string, so nothing a user
 * types (", *, AND, -, NEAR) is read as query syntax. A single CJK character
 * is also matched as a prefix (图 finds 图片, 图像), because the segmenter
 * files most characters inside longer words.
 */
export const sqliteSearchIndex: SearchIndex = {
  matches(terms, mode) {
    return sql<{ article_id: number; score: number }>`(
      SELECT rowid AS article_id, ${SCORE} AS score
      FROM article_search WHERE article_search MATCH ${ftsExpression(terms, mode)})`;
  },
  topMatches(terms, mode, { excludeIds, maxScore, limit }) {
    const conditions = [sql`article_search MATCH ${ftsExpression(terms, mode)}`];
    if (excludeIds?.length) conditions.push(sql`rowid NOT IN (${sql.join(excludeIds.map(Number))})`);
    if (maxScore !== undefined) conditions.push(sql`${SCORE} <= ${maxScore}`);
    return sql<{ article_id: number; score: number }>`(
      SELECT rowid AS article_id, ${SCORE} AS score FROM article_search
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY score DESC LIMIT ${limit})`;
  },
  matchingIds(terms, mode) {
    return sql<{ article_id: number }>`(
      SELECT rowid AS article_id FROM article_search WHERE article_search MATCH ${ftsExpression(terms, mode)})`;
  },
  async write(trx, articleId, doc, isNew) {
    if (!isNew) await sql`DELETE FROM article_search WHERE rowid = ${articleId}`.execute(trx);
    await sql`INSERT INTO article_search (rowid, title, body) VALUES (${articleId}, ${doc.title}, ${doc.body})`.execute(trx);
  },
  async addTermCounts(trx, deltas) {
    if (deltas.size === 0) return;
    // A bulk load changes tens of thousands of counts per batch: one statement over a JSON object, not one each.
    await sql`INSERT INTO search_terms (term, articles)
      SELECT key, value FROM json_each(${JSON.stringify(Object.fromEntries(deltas))}) WHERE true
      ON CONFLICT (term) DO UPDATE SET articles = articles + excluded.articles`.execute(trx);
    if ([...deltas.values()].some((d) => d < 0)) await trx.deleteFrom('search_terms').where('articles', '<=', 0).execute();
  },
};

export function ftsExpression(terms: readonly string[], mode: 'all' | 'any'): string {
  if (terms.length === 0) throw new Error('a search needs at least one term');
  const phrases = terms.map((term) => {
    const quoted = `"${term.replaceAll('"', '""')}"`;
    return [...term].length === 1 && isCjkTerm(term) ? `${quoted}*` : quoted;
  });
  return phrases.join(mode === 'all' ? ' ' : ' OR ');
}

/** The most positions PostgreSQL keeps for one lexeme. */
const MAX_POSITIONS = 256;

/**
 * A `tsvector` literal built from our own segmented terms, with positions
 * (so a term said often counts more) and weights (title A, body D). Built
 * here rather than by `to_tsvector`, whose parser may drop CJK characters
 * depending on the database's locale; the text is already segmented.
 */
export function tsvectorLiteral(doc: Pick<SearchDocument, 'title' | 'body'>): string {
  const positions = new Map<string, string[]>();
  let position = 0;
  const add = (text: string, weight: 'A' | 'D') => {
    for (const term of text.split(' ')) {
      if (term === '') continue;
      position = Math.min(position + 1, 16383);
      const list = positions.get(term) ?? [];
      if (list.length < MAX_POSITIONS) list.push(`${position}${weight}`);
      positions.set(term, list);
    }
  };
  add(doc.title, 'A');
  add(doc.body, 'D');
  return [...positions].map(([term, list]) => `${quoteLexeme(term)}:${list.join(',')}`).join(' ');
}

/** A `tsquery` literal: every term a quoted lexeme, so nothing a user types is read as query syntax. */
export function tsqueryLiteral(terms: readonly string[], mode: 'all' | 'any'): string {
  if (terms.length === 0) throw new Error('a search needs at least one term');
  return terms
    .map((term) => ([...term].length === 1 && isCjkTerm(term) ? `${quoteLexeme(term)}:*` : quoteLexeme(term)))
    .join(mode === 'all' ? ' & ' : ' | ');
}

function quoteLexeme(term: string): string {
  return `'${term.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** Title matches weigh ten times body matches: ts_rank's weights are {D, C, B, A}. */
const PG_SCORE = sql`ts_rank('{0.1, 0.1, 0.1, 1.0}', article_search.document, q.query)::float8`;

/** PostgreSQL: a `tsvector` per article in `article_search`, a GIN index, ts_rank for relevance. */
export const postgresSearchIndex: SearchIndex = {
  matches(terms, mode) {
    return sql<{ article_id: number; score: number }>`(
      SELECT article_search.article_id, ${PG_SCORE} AS score
      FROM article_search, (SELECT ${tsqueryLiteral(terms, mode)}::tsquery AS query) q
      WHERE article_search.document @@ q.query)`;
  },
  topMatches(terms, mode, { excludeIds, maxScore, limit }) {
    const conditions = [sql`article_search.document @@ q.query`];
    if (excludeIds?.length) conditions.push(sql`article_search.article_id NOT IN (${sql.join(excludeIds.map(Number))})`);
    if (maxScore !== undefined) conditions.push(sql`${PG_SCORE} <= ${maxScore}`);
    return sql<{ article_id: number; score: number }>`(
      SELECT article_search.article_id, ${PG_SCORE} AS score
      FROM article_search, (SELECT ${tsqueryLiteral(terms, mode)}::tsquery AS query) q
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY score DESC LIMIT ${limit})`;
  },
  matchingIds(terms, mode) {
    return sql<{ article_id: number }>`(
      SELECT article_id FROM article_search WHERE document @@ ${tsqueryLiteral(terms, mode)}::tsquery)`;
  },
  leadingMatches(terms, mode) {
    // ts_rank with title weight 1.0, body weight 0.1 and no normalization (calc_rank_or) scores
    // each query term the article holds from that lexeme's positions, at most 256 of them, first
    // the title's: at least 1/1.645 = 0.608 with a title position, at most 0.0998 without; then
    // averages over the query's terms. So an article holding no term in its title scores at most
    // 0.0998, and the matches scoring above 0.1 are exactly the articles with a term in the title
    // that score above 0.1: for up to six terms that is all of those (0.608 / 6 > 0.1); for a
    // related-articles query of ten keywords, one title term gives at least 0.061, and the rest
    // must come from other terms. That holds for plain terms only: a prefix (a single CJK
    // character) can match many lexemes; and when several terms must all match, ts_rank scores
    // proximity instead (calc_rank_and).
    if ((mode === 'all' && terms.length > 1) || terms.some((t) => [...t].length === 1 && isCjkTerm(t))) return null;
    // The titles' lexemes are indexed on their own (migration 004), so the tier comes from an
    // index: about 2% of the articles for a word that 83% hold, instead of ranking all of those.
    return sql<{ article_id: number; score: number }>`(
      SELECT article_search.article_id, ${PG_SCORE} AS score
      FROM article_search, (SELECT ${tsqueryLiteral(terms, 'any')}::tsquery AS query) q
      WHERE ts_filter(article_search.document, '{a}') @@ q.query AND ${PG_SCORE} > 0.1)`;
  },
  // PostgreSQL plans a match that most articles hold as a sequential scan, costing nothing for
  // reading each article's tsvector (about 7 KB, out of line): counting 83k matches took 570 ms
  // that way and 28 ms from the GIN index's bitmap, which needs no tsvector. Counting never
  // needs one, so counts are planned without sequential scans.
  beforeCounting: sql`SET LOCAL enable_seqscan = off`,
  async write(trx, articleId, doc) {
    await sql`INSERT INTO article_search (article_id, document) VALUES (${articleId}, ${tsvectorLiteral(doc)}::tsvector)
      ON CONFLICT (article_id) DO UPDATE SET document = excluded.document`.execute(trx);
  },
  async addTermCounts(trx, deltas) {
    if (deltas.size === 0) return;
    await sql`INSERT INTO search_terms (term, articles)
      SELECT key, value::int FROM jsonb_each_text(${JSON.stringify(Object.fromEntries(deltas))}::jsonb)
      ON CONFLICT (term) DO UPDATE SET articles = search_terms.articles + excluded.articles`.execute(trx);
    if ([...deltas.values()].some((d) => d < 0)) await trx.deleteFrom('search_terms').where('articles', '<=', 0).execute();
  },
};
