import { type Kysely, type SqlBool, sql } from 'kysely';

// The editorial state of an article (draft, scheduled, deleted), who changed
// it, and every earlier state as a revision.

/**
 * Drafts and deleted articles, frozen as this migration wrote it: the live
 * queries (data/visibility.ts HIDDEN_FOR_GOOD) must match this text for
 * SQLite to use the partial index.
 */
const HIDDEN_FOR_GOOD = `status <> 'PUBLISHED' OR deleted_at IS NOT NULL`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('articles')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('PUBLISHED'))
    .execute();
  await db.schema.alterTable('articles').addColumn('deleted_at', 'bigint').execute();
  await db.schema.alterTable('articles').addColumn('created_by', 'text').execute();
  await db.schema.alterTable('articles').addColumn('updated_by', 'text').execute();
  // Hidden articles are few; this lets the public side list them cheaply to leave them out.
  await db.schema.createIndex('articles_unpublished').on('articles').column('id').where(sql.raw<SqlBool>(HIDDEN_FOR_GOOD)).execute();

  await db.schema
    .createTable('article_revisions')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addPrimaryKeyConstraint('article_revisions_pk', ['article_id', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('article_revisions').execute();
  await db.schema.dropIndex('articles_unpublished').execute();
  for (const column of ['updated_by', 'created_by', 'deleted_at', 'status']) {
    await db.schema.alterTable('articles').dropColumn(column).execute();
  }
}
