import { type Kysely, SqliteAdapter, sql } from 'kysely';
import { isPostgres } from './dialect.js';
import { type Block, searchDocument } from './frozen/search-document-002.js';

// Full-text search over pre-segmented text (see src/text/segment.ts). The FTS5
// table is contentless: the text lives in `articles`, the index holds only
// terms, and `contentless_delete` lets a re-imported article replace its row.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) return upPostgres(db);
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
    throw new Error('migration 002_search: newsgraph builds its search index on SQLite or PostgreSQL only');
  }
  await sql`CREATE VIRTUAL TABLE article_search USING fts5(
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
  )`.execute(db);
  // How many articles hold each term that can be a keyword: the archive statistics behind keywords.
  // FTS5's own vocabulary table knows the same, but reads a term's whole posting list to count it.
  await db.schema
    .createTable('search_terms')
    .addColumn('term', 'text', (c) => c.primaryKey())
    .addColumn('articles', 'integer', (c) => c.notNull())
    .execute();

  // Articles stored before the index existed are indexed now.
  const rows = await sql<{ id: number; title: string; body: string }>`SELECT id, title, body FROM articles`.execute(db);
  const counts = new Map<string, number>();
  for (const row of rows.rows) {
    const doc = searchDocument(row.title, JSON.parse(row.body) as Block[]);
    await sql`INSERT INTO article_search (rowid, title, body) VALUES (${row.id}, ${doc.title}, ${doc.body})`.execute(db);
    for (const term of doc.terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  }
  for (const [term, articles] of counts) {
    await sql`INSERT INTO search_terms (term, articles) VALUES (${term}, ${articles})`.execute(db);
  }
}

// PostgreSQL: one tsvector per article, built from the same segmented terms (data/search-index.ts),
// under a GIN index. Nothing to backfill: this migration runs on an empty PostgreSQL store.
async function upPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE TABLE article_search (
    article_id integer PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    document tsvector NOT NULL
  )`.execute(db);
  await sql`CREATE INDEX article_search_document ON article_search USING gin (document)`.execute(db);
  await db.schema
    .createTable('search_terms')
    .addColumn('term', 'text', (c) => c.primaryKey())
    .addColumn('articles', 'integer', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('search_terms').execute();
  await sql`DROP TABLE article_search`.execute(db);
}
