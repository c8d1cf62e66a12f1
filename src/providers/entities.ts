import type { Context } from '../context.js';
import type { ArticleRecord, SectionRecord } from '../data/types.js';
import { badUserInput } from '../errors.js';
import { storeId } from './identity.js';

// The entities other subgraphs of a supergraph refer to by key (`_entities`, with FEDERATION=true):
// each found exactly as the public API would find it.

/**
 * An Article entity another subgraph refers to by `id` (`_entities`): what
 * `article(id:)` shows the public, through the same batched loader, so a
 * draft, a scheduled or a deleted article is null, whoever asks.
 */
export async function findArticleEntity(context: Context, { id }: { id: unknown }): Promise<ArticleRecord | null> {
  if (typeof id !== 'string') throw badUserInput('an Article representation needs its "id" as a string', 'representations');
  // The key is the id the API serves (a global id); a numeric id served before global ids is found too.
  const key = storeId(id, 'Article');
  return key === null ? null : entityCopy(await context.loaders.articleById.load(key));
}

/** A Section entity referred to by `id`: sections are all public. */
export async function findSectionEntity(context: Context, { id }: { id: unknown }): Promise<SectionRecord | null> {
  if (typeof id !== 'string') throw badUserInput('a Section representation needs its "id" as a string', 'representations');
  const key = storeId(id, 'Section');
  return key === null ? null : entityCopy((await context.loaders.sections()).byId.get(key) ?? null);
}

/**
 * @apollo/subgraph marks each entity it returns with a `__typename`
 * property defined on the object itself. Records are shared (the loaders'
 * within a request, the section cache's frozen ones across requests), so
 * each entity is a copy of its own.
 */
function entityCopy<T extends object>(record: T | null): T | null {
  return record && { ...record };
}
