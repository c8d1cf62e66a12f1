import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { isCjkTerm } from '../text/segment.js';
import type { SearchDocument } from './search-document.js';
import type { Database } from './tables.js';

/** The engine-specific half of search: how terms are indexed, matched and counted. */
export interface SearchIndex {
  /** A subquery of (article_id, score) for the articles matching `terms`; higher score is more relevant. */
  matches(terms: readonly string[], mode: 'all' | 'any'): RawBuilder<{ article_id: number; score: number }>;
  /** A subquery of the ids of the articles matching `terms`, without scoring them. */
  matchingIds(terms: readonly string[], mode: 'all' | 'any'): RawBuilder<{ article_id: number }>;
  /** Indexes an article, replacing what was indexed for it before. */
  write(trx: Transaction<Database>, articleId: number, doc: SearchDocument, isNew: boolean): Promise<void>;
  documentFrequencies(db: Kysely<Database>, terms: readonly string[]): Promise<Map<string, number>>;
}

/** BM25 column weights: a term in the title counts ten times one in the body. */
const TITLE_WEIGHT = 10;
const BODY_WEIGHT = 1;

/**
 * SQLite FTS5. Every term becomes a quoted FTS5 string, so nothing a user
 * types (", *, AND, -, NEAR) is read as query syntax. A single CJK character
 * is also matched as a prefix (图 finds 图片, 图像), because the segmenter
 * files most characters inside longer words.
 */
export const sqliteSearchIndex: SearchIndex = {
  matches(terms, mode) {
    return sql<{ article_id: number; score: number }>`(
      SELECT rowid AS article_id, -bm25(article_search, ${sql.lit(TITLE_WEIGHT)}, ${sql.lit(BODY_WEIGHT)}) AS score
      FROM article_search WHERE article_search MATCH ${ftsExpression(terms, mode)})`;
  },
  matchingIds(terms, mode) {
    return sql<{ article_id: number }>`(
      SELECT rowid AS article_id FROM article_search WHERE article_search MATCH ${ftsExpression(terms, mode)})`;
  },
  async write(trx, articleId, doc, isNew) {
    if (!isNew) await sql`DELETE FROM article_search WHERE rowid = ${articleId}`.execute(trx);
    await sql`INSERT INTO article_search (rowid, title, body) VALUES (${articleId}, ${doc.title}, ${doc.body})`.execute(trx);
  },
  async documentFrequencies(db, terms) {
    if (terms.length === 0) return new Map();
    const { rows } = await sql<{ term: string; doc: number }>`
      SELECT term, doc FROM article_search_terms WHERE term IN (${sql.join([...terms])})`.execute(db);
    return new Map(rows.map((r) => [r.term, Number(r.doc)]));
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
