import { sql, type Transaction } from 'kysely';
import { slugify } from '../../text/slug.js';
import type { ParsedPage } from '../page.js';
import { type PreparedPage, preparePage } from '../prepare-page.js';
import type { SavePageResult } from '../store.js';
import type { Database } from '../tables.js';
import type { ArticleSnapshot, TeaserKind } from '../types.js';
import type { SqlHandle } from './handle.js';
import { contentColumns, derivedColumns, newWriteCache, snapshotOf, uniqueSlug, type WriteCache, writeDetails } from './writing.js';

// Page import: a parsed page becomes its sections (created when missing), an
// article created or updated in place by slug, and the page's teaser lists.

export async function savePage(h: SqlHandle, page: ParsedPage): Promise<SavePageResult> {
  const [result] = await savePages(h, [preparePage(page)]);
  return result!;
}

export function savePages(h: SqlHandle, pages: readonly PreparedPage[]): Promise<SavePageResult[]> {
  return h.db.transaction().execute(async (trx) => {
    const cache = newWriteCache();
    const results: SavePageResult[] = [];
    for (const page of pages) results.push(await writePage(h, trx, page, cache));
    await h.search.addTermCounts(trx, cache.termDeltas);
    return results;
  });
}

async function writePage(h: SqlHandle, trx: Transaction<Database>, prepared: PreparedPage, cache: WriteCache): Promise<SavePageResult> {
  const { page } = prepared;
  const now = Date.now();
  const sectionId = await ensureSectionPath(trx, page.sectionPath, now, cache);
  const content = {
    slug: page.slug,
    title: page.title,
    sourceName: page.sourceName,
    sourceUrl: null,
    publishedAt: page.publishedAt,
    sectionId: String(sectionId),
    body: page.body,
    credits: page.credits,
    tags: page.tags,
  };
  const existing = await trx.selectFrom('articles').selectAll().where('slug', '=', page.slug).executeTakeFirst();

  if (!existing) {
    const inserted = await trx
      .insertInto('articles')
      .values({ ...contentColumns(content), ...derivedColumns(prepared), status: 'PUBLISHED', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    await writeDetails(h, trx, inserted.id, content, prepared, null, cache);
    await replaceTeasersOf(trx, page, sectionId);
    return { articleId: String(inserted.id), slug: page.slug, status: 'created' };
  }

  const before = await snapshotOf(trx, existing);
  const same = contentKey(before) === contentKey(content);
  if (!same) {
    // A re-imported page that changed is an edit like any other: the old state is kept as a revision.
    await trx
      .insertInto('article_revisions')
      .values({ article_id: existing.id, version: existing.version, snapshot: JSON.stringify(before), created_at: now, created_by: null })
      .execute();
    await trx
      .updateTable('articles')
      .set((eb) => ({
        ...contentColumns(content),
        ...derivedColumns(prepared),
        updated_at: now,
        updated_by: null,
        version: eb('version', '+', 1),
      }))
      .where('id', '=', existing.id)
      .execute();
    await writeDetails(h, trx, existing.id, content, prepared, before, cache);
  }
  await replaceTeasersOf(trx, page, sectionId);
  return { articleId: String(existing.id), slug: page.slug, status: same ? 'unchanged' : 'updated' };
}

/** What a page says about an article, as one comparable string (editorial state left out). */
function contentKey(c: Omit<ArticleSnapshot, 'status' | 'deletedAt'>): string {
  return JSON.stringify([c.slug, c.title, c.sourceName, c.sourceUrl, c.publishedAt, c.sectionId, c.body, c.credits, c.tags]);
}

async function replaceTeasersOf(trx: Transaction<Database>, page: ParsedPage, sectionId: number): Promise<void> {
  for (const kind of ['HOT', 'LATEST'] as const) {
    const teasers = page.teasers.filter((t) => t.kind === kind);
    if (teasers.length)
      await replaceTeasers(
        trx,
        sectionId,
        kind,
        teasers.map((t) => t.text),
        page.publishedAt,
      );
  }
}

/** Finds or creates each section of a breadcrumb under the one before it; returns the last one's id. */
async function ensureSectionPath(trx: Transaction<Database>, path: readonly string[], now: number, cache: WriteCache): Promise<number> {
  const key = path.join('\u0000');
  const known = cache.sections.get(key);
  if (known !== undefined) return known;
  let parentId: number | null = null;
  for (const name of path) {
    const parent: number | null = parentId;
    const found = await trx
      .selectFrom('sections')
      .select('id')
      .where('name', '=', name)
      .where((eb) => (parent === null ? eb('parent_id', 'is', null) : eb('parent_id', '=', parent)))
      .executeTakeFirst();
    if (found) {
      parentId = found.id;
      continue;
    }
    const { position } = await trx
      .selectFrom('sections')
      .select((eb) => eb.fn.coalesce(eb.fn.max('position'), sql<number>`-1`).as('position'))
      .where((eb) => (parent === null ? eb('parent_id', 'is', null) : eb('parent_id', '=', parent)))
      .executeTakeFirstOrThrow();
    const slug = await uniqueSlug(slugify(name), async (s) =>
      Boolean(await trx.selectFrom('sections').select('id').where('slug', '=', s).executeTakeFirst()),
    );
    const inserted = await trx
      .insertInto('sections')
      .values({ slug, name, parent_id: parent, position: Number(position) + 1, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    parentId = inserted.id;
  }
  if (parentId === null) throw new Error('a section path needs at least one section');
  cache.sections.set(key, parentId);
  return parentId;
}

/**
 * An imported page's teaser module is a snapshot of the portal's list when
 * the page was scraped. The newest snapshot wins, so re-importing an older
 * page never brings back an older list.
 */
async function replaceTeasers(
  trx: Transaction<Database>,
  sectionId: number,
  kind: TeaserKind,
  texts: readonly string[],
  curatedAt: number,
): Promise<void> {
  const current = await trx
    .selectFrom('teasers')
    .select((eb) => eb.fn.max('curated_at').as('curated_at'))
    .where('section_id', '=', sectionId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  if (current?.curated_at != null && Number(current.curated_at) > curatedAt) return;
  await trx.deleteFrom('teasers').where('section_id', '=', sectionId).where('kind', '=', kind).execute();
  await trx
    .insertInto('teasers')
    .values(
      texts.map((summary, position) => ({
        section_id: sectionId,
        kind,
        position,
        title: null,
        summary,
        url: null,
        published_at: null,
        article_id: null,
        curated_at: curatedAt,
      })),
    )
    .execute();
}
