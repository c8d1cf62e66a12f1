import type { MutationSetHotItemsArgs } from '../../__generated__/resolvers-types.js';
import type { Context } from '../../context.js';
import type { RelatedItemRecord } from '../../data/types.js';
import { badUserInput, rethrowStoreRefusal } from '../../errors.js';
import { requireRole } from '../access.js';
import { requireStoreId } from '../identity.js';
import { teaserItems } from './validation.js';

// A section's curated teaser lists (热点): editors set them whole.

/** Replaces the section's hot list; every article an item points at must exist. */
export async function setHotItems(context: Context, { section, items }: MutationSetHotItemsArgs): Promise<RelatedItemRecord[]> {
  requireRole(context);
  const sectionId = requireStoreId(section, 'Section', 'section');
  const teasers = teaserItems(items);
  const articleIds = teasers.flatMap((t) => (t.articleId ? [t.articleId] : []));
  const found = await context.store.findArticlesByIds({ ids: articleIds, includeHidden: true });
  const missing = articleIds.findIndex((_, i) => !found[i]);
  if (missing >= 0)
    throw badUserInput(
      `no article has id ${articleIds[missing]}`,
      `items[${teasers.findIndex((t) => t.articleId === articleIds[missing])}].article`,
    );
  const saved = await context.store
    .setTeasers({ sectionId, kind: 'HOT', items: teasers })
    .catch(rethrowStoreRefusal({ section: 'section' }));
  return saved.map(({ kind, title, summary, url, publishedAt, articleId }) => ({
    kind,
    title,
    summary,
    url,
    publishedAt,
    articleId,
    reason: null,
  }));
}
