import { sql } from 'kysely';
import { StoreNotEmptyError } from '../errors.js';
import { deriveFields } from '../prepare-page.js';
import type { ContentTransfer } from '../transfer.js';
import type { ArticleSnapshot, ArticleStatus, ContentBlock, CreditRecord, TeaserKind } from '../types.js';
import type { SqlHandle } from './handle.js';
import { contentColumns, derivedColumns, newWriteCache } from './writing.js';

// The whole content out of and into a store: export and import of the records data/transfer.ts describes.

/** The whole content, as data/transfer.ts describes; read a page of 500 articles at a time. */
export async function* exportContent(h: SqlHandle): AsyncGenerator<ContentTransfer> {
  const sections = await h.db.selectFrom('sections').selectAll().orderBy('position').orderBy('id').execute();
  // Parents first, so the records can be written back in the order they are read.
  const children = new Map<number | null, typeof sections>();
  for (const section of sections) children.set(section.parent_id, [...(children.get(section.parent_id) ?? []), section]);
  const queue = [...(children.get(null) ?? [])];
  while (queue.length) {
    const s = queue.shift()!;
    yield {
      type: 'section',
      id: String(s.id),
      parentId: s.parent_id === null ? null : String(s.parent_id),
      slug: s.slug,
      name: s.name,
      position: Number(s.position),
      createdAt: Number(s.created_at),
    };
    queue.push(...(children.get(s.id) ?? []));
  }
  for (const t of await h.db.selectFrom('tags').selectAll().orderBy('id').execute()) {
    yield { type: 'tag', id: String(t.id), slug: t.slug, name: t.name };
  }
  for (let after = 0; ; ) {
    const rows = await h.db.selectFrom('articles').selectAll().where('id', '>', after).orderBy('id').limit(500).execute();
    if (rows.length === 0) break;
    const ids = rows.map((r) => r.id);
    const group = <T extends { article_id: number }>(items: T[]) => {
      const by = new Map<number, T[]>();
      for (const item of items) by.set(item.article_id, [...(by.get(item.article_id) ?? []), item]);
      return by;
    };
    const credits = group(
      await h.db.selectFrom('credits').selectAll().where('article_id', 'in', ids).orderBy('article_id').orderBy('position').execute(),
    );
    const tags = group(
      await h.db.selectFrom('article_tags').selectAll().where('article_id', 'in', ids).orderBy('article_id').orderBy('position').execute(),
    );
    const revisions = group(
      await h.db
        .selectFrom('article_revisions')
        .selectAll()
        .where('article_id', 'in', ids)
        .orderBy('article_id')
        .orderBy('version')
        .execute(),
    );
    for (const r of rows) {
      yield {
        type: 'article',
        id: String(r.id),
        slug: r.slug,
        title: r.title,
        sourceName: r.source_name,
        sourceUrl: r.source_url,
        publishedAt: Number(r.published_at),
        sectionId: String(r.section_id),
        body: JSON.parse(r.body) as ContentBlock[],
        status: r.status as ArticleStatus,
        deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
        version: Number(r.version),
        createdAt: Number(r.created_at),
        updatedAt: Number(r.updated_at),
        createdBy: r.created_by,
        updatedBy: r.updated_by,
        credits: (credits.get(r.id) ?? []).map((c) => ({ role: c.role as CreditRecord['role'], label: c.label, name: c.name })),
        tagIds: (tags.get(r.id) ?? []).map((t) => String(t.tag_id)),
        revisions: (revisions.get(r.id) ?? []).map((v) => ({
          version: Number(v.version),
          snapshot: JSON.parse(v.snapshot) as ArticleSnapshot,
          replacedAt: Number(v.created_at),
          replacedBy: v.created_by,
        })),
      };
    }
    after = rows[rows.length - 1]!.id;
  }
  const teasers = await h.db.selectFrom('teasers').selectAll().orderBy('section_id').orderBy('kind').orderBy('position').execute();
  const lists = new Map<string, typeof teasers>();
  for (const t of teasers) lists.set(`${t.section_id}:${t.kind}`, [...(lists.get(`${t.section_id}:${t.kind}`) ?? []), t]);
  for (const items of lists.values()) {
    const first = items[0]!;
    yield {
      type: 'teasers',
      sectionId: String(first.section_id),
      kind: first.kind as TeaserKind,
      curatedAt: Number(first.curated_at),
      items: items.map((t) => ({
        title: t.title,
        summary: t.summary,
        url: t.url,
        publishedAt: t.published_at === null ? null : Number(t.published_at),
        articleId: t.article_id === null ? null : String(t.article_id),
      })),
    };
  }
}

/**
 * Writes exported content into this store, which must hold no article and
 * no section yet, in one transaction: all of it or, on any failure, none.
 * Ids are kept; excerpts, counts, the search index and term statistics
 * are derived again.
 */
export async function importContent(h: SqlHandle, records: AsyncIterable<ContentTransfer>): Promise<void> {
  await h.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('sections').select('id').limit(1).executeTakeFirst();
    if (existing || (await trx.selectFrom('articles').select('id').limit(1).executeTakeFirst())) {
      throw new StoreNotEmptyError();
    }
    const cache = newWriteCache();
    for await (const record of records) {
      if (record.type === 'section') {
        await trx
          .insertInto('sections')
          .values({
            id: Number(record.id),
            parent_id: record.parentId === null ? null : Number(record.parentId),
            slug: record.slug,
            name: record.name,
            position: record.position,
            created_at: record.createdAt,
          })
          .execute();
      } else if (record.type === 'tag') {
        await trx
          .insertInto('tags')
          .values({ id: Number(record.id), slug: record.slug, name: record.name })
          .execute();
      } else if (record.type === 'article') {
        const id = Number(record.id);
        const derived = deriveFields(record.title, record.body);
        await trx
          .insertInto('articles')
          .values({
            id,
            ...contentColumns(record),
            ...derivedColumns(derived),
            status: record.status,
            deleted_at: record.deletedAt,
            version: record.version,
            created_at: record.createdAt,
            updated_at: record.updatedAt,
            created_by: record.createdBy,
            updated_by: record.updatedBy,
          })
          .execute();
        await h.search.write(trx, id, derived.search, true);
        for (const term of derived.search.terms) cache.termDeltas.set(term, (cache.termDeltas.get(term) ?? 0) + 1);
        if (record.credits.length) {
          await trx
            .insertInto('credits')
            .values(record.credits.map((c, position) => ({ article_id: id, position, role: c.role, label: c.label, name: c.name })))
            .execute();
        }
        if (record.tagIds.length) {
          await trx
            .insertInto('article_tags')
            .values(
              record.tagIds.map((tagId, position) => ({
                article_id: id,
                tag_id: Number(tagId),
                position,
                published_at: record.publishedAt,
              })),
            )
            .execute();
        }
        for (const revision of record.revisions) {
          await trx
            .insertInto('article_revisions')
            .values({
              article_id: id,
              version: revision.version,
              snapshot: JSON.stringify(revision.snapshot),
              created_at: revision.replacedAt,
              created_by: revision.replacedBy,
            })
            .execute();
        }
      } else {
        await trx
          .insertInto('teasers')
          .values(
            record.items.map((item, position) => ({
              section_id: Number(record.sectionId),
              kind: record.kind,
              position,
              title: item.title,
              summary: item.summary,
              url: item.url,
              published_at: item.publishedAt,
              article_id: item.articleId === null ? null : Number(item.articleId),
              curated_at: record.curatedAt,
            })),
          )
          .execute();
      }
    }
    await h.search.addTermCounts(trx, cache.termDeltas);
    // PostgreSQL's serial columns do not notice ids written explicitly: move each sequence past them.
    if (h.postgres) {
      for (const table of ['sections', 'articles', 'tags']) {
        await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM ${sql.table(table)}), false)`.execute(
          trx,
        );
      }
    }
  });
  if (h.postgres) {
    // Fresh statistics for the planner, and the visibility map that lets counts read an index
    // alone, rather than wait for autovacuum: on a freshly loaded 100,000-article store, a page
    // of the article list took 134 ms before ANALYZE and 17 ms after, and counting the articles
    // 30 ms before VACUUM and 9.5 ms after. (VACUUM cannot run inside a transaction.) Only the
    // store's own tables: others may share the database.
    const tables = [
      'sections',
      'tags',
      'articles',
      'article_search',
      'credits',
      'article_tags',
      'article_revisions',
      'teasers',
      'search_terms',
    ];
    await sql`VACUUM (ANALYZE) ${sql.join(tables.map((table) => sql.table(table)))}`.execute(h.db);
  }
}
