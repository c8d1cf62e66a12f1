import { type Selectable, sql, type Transaction } from 'kysely';
import { SectionCycleError, SectionNotFoundError, SlugTakenError } from '../errors.js';
import type { Database, SectionsTable } from '../tables.js';
import type { SectionRecord, TeaserKind, TeaserRecord } from '../types.js';
import type { SqlHandle } from './handle.js';
import { toSection } from './rows.js';

// Editors' writes to the section tree and to sections' curated teaser lists.

export function createSection(
  h: SqlHandle,
  { name, slug, parentId }: { name: string; slug: string; parentId: string },
): Promise<SectionRecord> {
  return h.db.transaction().execute(async (trx) => {
    const parent = await sectionRow(trx, parentId);
    if (await trx.selectFrom('sections').select('id').where('slug', '=', slug).executeTakeFirst()) {
      throw new SlugTakenError(slug, 'section');
    }
    const { position } = await trx
      .selectFrom('sections')
      .select((eb) => eb.fn.coalesce(eb.fn.max('position'), sql<number>`-1`).as('position'))
      .where('parent_id', '=', parent.id)
      .executeTakeFirstOrThrow();
    const inserted = await trx
      .insertInto('sections')
      .values({ slug, name, parent_id: parent.id, position: Number(position) + 1, created_at: Date.now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return toSection(await sectionRow(trx, String(inserted.id)));
  });
}

export function updateSection(h: SqlHandle, { id, name, slug }: { id: string; name?: string; slug?: string }): Promise<SectionRecord> {
  return h.db.transaction().execute(async (trx) => {
    const section = await sectionRow(trx, id);
    if (slug !== undefined && slug !== section.slug) {
      if (await trx.selectFrom('sections').select('id').where('slug', '=', slug).executeTakeFirst()) {
        throw new SlugTakenError(slug, 'section');
      }
    }
    await trx
      .updateTable('sections')
      .set({ name: name ?? section.name, slug: slug ?? section.slug })
      .where('id', '=', section.id)
      .execute();
    return toSection(await sectionRow(trx, id));
  });
}

export function moveSection(h: SqlHandle, { id, parentId }: { id: string; parentId: string }): Promise<SectionRecord> {
  return h.db.transaction().execute(async (trx) => {
    const section = await sectionRow(trx, id);
    const parent = await sectionRow(trx, parentId);
    // Walk up from the new parent: meeting the section itself would make a cycle.
    for (let at: number | null = parent.id; at !== null; ) {
      if (at === section.id) throw new SectionCycleError(id, parentId);
      const up: { parent_id: number | null } | undefined = await trx
        .selectFrom('sections')
        .select('parent_id')
        .where('id', '=', at)
        .executeTakeFirst();
      at = up?.parent_id ?? null;
    }
    const { position } = await trx
      .selectFrom('sections')
      .select((eb) => eb.fn.coalesce(eb.fn.max('position'), sql<number>`-1`).as('position'))
      .where('parent_id', '=', parent.id)
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('sections')
      .set({ parent_id: parent.id, position: Number(position) + 1 })
      .where('id', '=', section.id)
      .execute();
    return toSection(await sectionRow(trx, id));
  });
}

export function setTeasers(
  h: SqlHandle,
  {
    sectionId,
    kind,
    items,
  }: {
    sectionId: string;
    kind: TeaserKind;
    items: readonly Pick<TeaserRecord, 'title' | 'summary' | 'url' | 'articleId'>[];
  },
): Promise<TeaserRecord[]> {
  return h.db.transaction().execute(async (trx) => {
    const section = await sectionRow(trx, sectionId);
    const now = Date.now();
    await trx.deleteFrom('teasers').where('section_id', '=', section.id).where('kind', '=', kind).execute();
    if (items.length) {
      await trx
        .insertInto('teasers')
        .values(
          items.map((item, position) => ({
            section_id: section.id,
            kind,
            position,
            title: item.title,
            summary: item.summary,
            url: item.url,
            published_at: null,
            article_id: item.articleId === null ? null : Number(item.articleId),
            curated_at: now,
          })),
        )
        .execute();
    }
    return items.map((item, position) => ({ ...item, sectionId, kind, position, publishedAt: null }));
  });
}

async function sectionRow(trx: Transaction<Database>, sectionId: string): Promise<Selectable<SectionsTable>> {
  const id = Number(sectionId);
  const row = Number.isSafeInteger(id) ? await trx.selectFrom('sections').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
  if (!row) throw new SectionNotFoundError(sectionId);
  return row;
}
