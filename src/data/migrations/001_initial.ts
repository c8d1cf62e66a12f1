import type { Kysely } from 'kysely';
import { generatedId } from './dialect.js';

// Migrations take an untyped Kysely: they describe the schema as it was at
// their time, not as the current table types say.
export async function up(db: Kysely<unknown>): Promise<void> {
  const [idType, id] = generatedId(db);
  await db.schema
    .createTable('sections')
    .addColumn('id', idType, id)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'integer', (c) => c.references('sections.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sections_parent').on('sections').columns(['parent_id', 'position']).execute();

  await db.schema
    .createTable('articles')
    .addColumn('id', idType, id)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('source_name', 'text')
    .addColumn('source_url', 'text')
    .addColumn('published_at', 'bigint', (c) => c.notNull())
    .addColumn('section_id', 'integer', (c) => c.notNull().references('sections.id'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('excerpt', 'text', (c) => c.notNull())
    .addColumn('word_count', 'integer', (c) => c.notNull())
    .addColumn('reading_minutes', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // Keyset pagination walks (published_at, id) newest first, site-wide or per section.
  await db.schema.createIndex('articles_published').on('articles').columns(['published_at', 'id']).execute();
  await db.schema.createIndex('articles_section_published').on('articles').columns(['section_id', 'published_at', 'id']).execute();

  await db.schema
    .createTable('credits')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('credits_pk', ['article_id', 'position'])
    .execute();
  await db.schema.createIndex('credits_name').on('credits').column('name').execute();

  await db.schema
    .createTable('tags')
    .addColumn('id', idType, id)
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .execute();

  await db.schema
    .createTable('article_tags')
    .addColumn('article_id', 'integer', (c) => c.notNull().references('articles.id').onDelete('cascade'))
    .addColumn('tag_id', 'integer', (c) => c.notNull().references('tags.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    // The article's publication time, repeated here so a tag's newest articles are one index range.
    .addColumn('published_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('article_tags_pk', ['article_id', 'tag_id'])
    .execute();
  await db.schema.createIndex('article_tags_tag').on('article_tags').columns(['tag_id', 'published_at', 'article_id']).execute();

  await db.schema
    .createTable('teasers')
    .addColumn('section_id', 'integer', (c) => c.notNull().references('sections.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('summary', 'text')
    .addColumn('url', 'text')
    .addColumn('published_at', 'bigint')
    .addColumn('article_id', 'integer', (c) => c.references('articles.id').onDelete('set null'))
    .addColumn('curated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('teasers_pk', ['section_id', 'kind', 'position'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['teasers', 'article_tags', 'tags', 'credits', 'articles', 'sections']) {
    await db.schema.dropTable(table).execute();
  }
}
