import { sql, SqliteAdapter, type Kysely } from 'kysely';
import { searchDocument } from '../search-document.js';
import type { ContentBlock } from '../types.js';

// Full-text search over pre-segmented text (see src/text/segment.ts). The FTS5
// table is contentless: the text lives in `articles`, the index holds only
// terms, and `contentless_delete` lets a re-imported article replace its row.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) {
    throw new Error('migration 002_search: this version of newsgraph builds its search index on SQLite only');
  }
  await sql`CREATE VIRTUAL TABLE article_search USING fts5(
    title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
  )`.execute(db);
  // One row per indexed term with the number of articles holding it: the corpus statistics behind keywords.
  await sql`CREATE VIRTUAL TABLE article_search_terms USING fts5vocab(article_search, 'row')`.execute(db);

  // Articles stored before the index existed are indexed now.
  const rows = await sql<{ id: number; title: string; body: string }>`SELECT id, title, body FROM articles`.execute(db);
  for (const row of rows.rows) {
    const doc = searchDocument(row.title, JSON.parse(row.body) as ContentBlock[]);
    await sql`INSERT INTO article_search (rowid, title, body) VALUES (${row.id}, ${doc.title}, ${doc.body})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE article_search_terms`.execute(db);
  await sql`DROP TABLE article_search`.execute(db);
}
