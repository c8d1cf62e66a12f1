import { randomBytes } from 'node:crypto';
import type {
  MutationCreateArticleArgs,
  MutationDeleteArticleArgs,
  MutationPublishArticleArgs,
  MutationRestoreArticleArgs,
  MutationRestoreRevisionArgs,
  MutationUnpublishArticleArgs,
  MutationUpdateArticleArgs,
} from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import { VersionConflictError } from '../../data/errors.js';
import type { ArticleRecord, ArticleSnapshot } from '../../data/types.js';
import { isPublic } from '../../data/visibility.js';
import { badUserInput, notFound, rethrowStoreRefusal, versionConflict } from '../../errors.js';
import { requireRole } from '../access.js';
import { storeId } from '../identity.js';
import { articleChange } from './validation.js';

// The article mutations: editors only; each one a versioned change of the
// stored state, the store's refusals read as the client's errors.

export async function createArticle(context: Context, { input }: MutationCreateArticleArgs): Promise<ArticleRecord> {
  const viewer = requireRole(context);
  const change = articleChange(input);
  const content = {
    slug: change.slug ?? newSlug(),
    title: change.title!,
    sourceName: change.sourceName ?? null,
    sourceUrl: change.sourceUrl ?? null,
    publishedAt: change.publishedAt ?? Date.now(),
    sectionId: change.sectionId!,
    body: change.body!,
    credits: change.credits ?? [],
    tags: change.tags ?? [],
  };
  return context.store.createArticle({ content, by: viewer.name }).catch(rethrowStoreRefusal());
}

/** A slug for an article created without one: its creation date and random hex, stable from then on. */
function newSlug(): string {
  const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `${day}-${randomBytes(6).toString('hex')}`;
}

export function updateArticle(context: Context, { id, expectedVersion, input }: MutationUpdateArticleArgs): Promise<ArticleRecord> {
  return changeArticle(context, { id, expectedVersion }, () => articleChange(input));
}

/** Without `at`, publishing makes the article public now; one already public keeps its time. */
export function publishArticle(context: Context, { id, expectedVersion, at }: MutationPublishArticleArgs): Promise<ArticleRecord> {
  return changeArticle(context, { id, expectedVersion }, (current) => ({
    status: 'PUBLISHED' as const,
    publishedAt: at ? at.getTime() : isPublic(current) ? current.publishedAt : Date.now(),
  }));
}

export function unpublishArticle(context: Context, { id, expectedVersion }: MutationUnpublishArticleArgs): Promise<ArticleRecord> {
  return changeArticle(context, { id, expectedVersion }, () => ({ status: 'DRAFT' as const }));
}

export function deleteArticle(context: Context, { id, expectedVersion }: MutationDeleteArticleArgs): Promise<ArticleRecord> {
  return changeArticle(context, { id, expectedVersion }, (current) => {
    if (current.deletedAt !== null) throw badUserInput('the article is already deleted', 'id');
    return { deletedAt: Date.now() };
  });
}

export function restoreArticle(context: Context, { id, expectedVersion }: MutationRestoreArticleArgs): Promise<ArticleRecord> {
  return changeArticle(context, { id, expectedVersion }, (current) => {
    if (current.deletedAt === null) throw badUserInput('the article is not deleted', 'id');
    return { deletedAt: null };
  });
}

/** The article's content as it was at `revision`, made its newest version. */
export function restoreRevision(context: Context, { id, revision, expectedVersion }: MutationRestoreRevisionArgs): Promise<ArticleRecord> {
  return changeArticle(context, { id, expectedVersion }, (current) => revisionSnapshot(context, current.id, revision));
}

/** Every article mutation but create: one versioned change of the stored state. */
async function changeArticle(
  context: Context,
  { id, expectedVersion }: { id: string; expectedVersion: number },
  change: (current: ArticleRecord) => Partial<ArticleSnapshot> | Promise<Partial<ArticleSnapshot>>,
): Promise<ArticleRecord> {
  const viewer = requireRole(context);
  const articleId = storeId(id, 'Article');
  const [current] = articleId === null ? [] : await context.store.findArticlesByIds({ ids: [articleId], includeHidden: true });
  if (!current) throw notFound(`no article has id ${id}`, 'id');
  // The store checks the version again inside the write; this early check only saves building the change.
  if (current.version !== expectedVersion) throw versionConflict(new VersionConflictError(current.id, expectedVersion, current.version));
  const wanted = await change(current);
  return context.store.changeArticle({ id: current.id, expectedVersion, change: wanted, by: viewer.name }).catch(rethrowStoreRefusal());
}

async function revisionSnapshot(context: Context, articleId: string, version: number): Promise<ArticleSnapshot> {
  const revision = (await context.store.listRevisions({ articleId })).find((r) => r.version === version);
  if (!revision) throw notFound(`article ${articleId} has no revision ${version}`, 'revision');
  return revision.snapshot;
}
