import type { Transaction } from 'kysely';
import { ArticleNotFoundError, SectionNotFoundError, SlugTakenError, VersionConflictError } from '../errors.js';
import { deriveFields } from '../prepare-page.js';
import type { Database } from '../tables.js';
import type { ArticleRecord, ArticleSnapshot } from '../types.js';
import type { SqlHandle } from './handle.js';
import { toArticle } from './rows.js';
import { contentColumns, derivedColumns, newWriteCache, snapshotOf, writeDetails } from './writing.js';

// Editors' writes to articles: creating a draft and changing an article at a
// known version, its previous state kept as a revision.

export function createArticle(
  h: SqlHandle,
  { content, by }: { content: Omit<ArticleSnapshot, 'status' | 'deletedAt'>; by: string },
): Promise<ArticleRecord> {
  return h.db.transaction().execute(async (trx) => {
    const now = Date.now();
    await assertSectionExists(trx, content.sectionId);
    await assertSlugFree(trx, content.slug, null);
    const derived = deriveFields(content.title, content.body);
    const inserted = await trx
      .insertInto('articles')
      .values({
        ...contentColumns(content),
        ...derivedColumns(derived),
        status: 'DRAFT',
        created_at: now,
        updated_at: now,
        created_by: by,
        updated_by: by,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const cache = newWriteCache();
    await writeDetails(h, trx, inserted.id, content, derived, null, cache);
    await h.search.addTermCounts(trx, cache.termDeltas);
    return toArticle(await trx.selectFrom('articles').selectAll().where('id', '=', inserted.id).executeTakeFirstOrThrow());
  });
}

export function changeArticle(
  h: SqlHandle,
  {
    id,
    expectedVersion,
    change,
    by,
  }: {
    id: string;
    expectedVersion: number;
    change: Partial<ArticleSnapshot>;
    by: string;
  },
): Promise<ArticleRecord> {
  const articleId = Number(id);
  if (!Number.isSafeInteger(articleId)) return Promise.reject(new ArticleNotFoundError(id));
  return h.db.transaction().execute(async (trx) => {
    const now = Date.now();
    // The version check is the transaction's first statement and a write: it takes the write lock at
    // once, so two editors saving from the same version queue here and the second finds it moved.
    const guard = await trx
      .updateTable('articles')
      .set({ version: expectedVersion + 1, updated_at: now, updated_by: by })
      .where('id', '=', articleId)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (Number(guard.numUpdatedRows) !== 1) {
      const current = await trx.selectFrom('articles').select('version').where('id', '=', articleId).executeTakeFirst();
      if (!current) throw new ArticleNotFoundError(id);
      throw new VersionConflictError(id, expectedVersion, current.version);
    }
    const row = await trx.selectFrom('articles').selectAll().where('id', '=', articleId).executeTakeFirstOrThrow();
    const before = await snapshotOf(trx, row);
    const after: ArticleSnapshot = { ...before, ...change };
    if (after.sectionId !== before.sectionId) await assertSectionExists(trx, after.sectionId);
    if (after.slug !== before.slug) await assertSlugFree(trx, after.slug, articleId);
    await trx
      .insertInto('article_revisions')
      .values({ article_id: articleId, version: expectedVersion, snapshot: JSON.stringify(before), created_at: now, created_by: by })
      .execute();

    const textChanged = after.title !== before.title || JSON.stringify(after.body) !== JSON.stringify(before.body);
    const derived = textChanged ? deriveFields(after.title, after.body) : null;
    await trx
      .updateTable('articles')
      .set({
        ...contentColumns(after),
        ...(derived ? derivedColumns(derived) : {}),
        status: after.status,
        deleted_at: after.deletedAt,
      })
      .where('id', '=', articleId)
      .execute();
    const detailsChanged =
      derived !== null ||
      after.publishedAt !== before.publishedAt ||
      JSON.stringify([after.credits, after.tags]) !== JSON.stringify([before.credits, before.tags]);
    if (detailsChanged) {
      const cache = newWriteCache();
      await writeDetails(h, trx, articleId, after, derived, before, cache);
      await h.search.addTermCounts(trx, cache.termDeltas);
    }
    return toArticle(await trx.selectFrom('articles').selectAll().where('id', '=', articleId).executeTakeFirstOrThrow());
  });
}

async function assertSectionExists(trx: Transaction<Database>, sectionId: string): Promise<void> {
  const id = Number(sectionId);
  const found = Number.isSafeInteger(id) && (await trx.selectFrom('sections').select('id').where('id', '=', id).executeTakeFirst());
  if (!found) throw new SectionNotFoundError(sectionId);
}

async function assertSlugFree(trx: Transaction<Database>, slug: string, ownId: number | null): Promise<void> {
  const other = await trx.selectFrom('articles').select('id').where('slug', '=', slug).executeTakeFirst();
  if (other && other.id !== ownId) throw new SlugTakenError(slug);
}
