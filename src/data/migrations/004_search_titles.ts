import { type Kysely, sql } from 'kysely';
import { isPostgres } from './dialect.js';

// PostgreSQL: the titles' lexemes (weight A in each article's tsvector) indexed on their own, so
// a search can find the articles holding a term in their title, which outrank all others
// (postgresSearchIndex.leadingMatches), without reading every matching tsvector. SQLite's FTS5
// index already keeps the title as a column of its own: nothing to do there.
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`CREATE INDEX article_search_title ON article_search USING gin (ts_filter(document, '{a}'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`DROP INDEX article_search_title`.execute(db);
}
