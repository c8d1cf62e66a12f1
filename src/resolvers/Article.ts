import type { ArticleResolvers } from '../__generated__/resolvers-types.js';
import { isDue } from '../data/visibility.js';
import { articleKeywords, articleRevisions } from '../providers/articles.js';
import { findArticleEntity } from '../providers/entities.js';
import { articleGlobalId } from '../providers/identity.js';
import { relatedItems } from '../providers/related.js';

/** DRAFT, or PUBLISHED, which reads SCHEDULED while its time has not come. */
export function articleStatus(article: { status: 'DRAFT' | 'PUBLISHED'; publishedAt: number }): 'DRAFT' | 'SCHEDULED' | 'PUBLISHED' {
  if (article.status === 'DRAFT') return 'DRAFT';
  return isDue(article) ? 'PUBLISHED' : 'SCHEDULED';
}

export const Article: ArticleResolvers = {
  id: (article) => articleGlobalId(article),
  __resolveReference: (reference, context) => findArticleEntity(context, reference),
  status: (article) => articleStatus(article),
  deleted: (article) => article.deletedAt !== null,
  // Token names are the newsroom's business, not the public's.
  createdBy: (article, _, { viewer }) => (viewer ? article.createdBy : null),
  updatedBy: (article, _, { viewer }) => (viewer ? article.updatedBy : null),
  revisions: (article, _, context) => articleRevisions(context, article),
  source: (article) => (article.sourceName === null ? null : { name: article.sourceName, url: article.sourceUrl }),
  section: async (article, _, { loaders }) => {
    const section = (await loaders.sections()).byId.get(article.sectionId);
    if (!section) throw new Error(`article ${article.id} points at missing section ${article.sectionId}`);
    return section;
  },
  credits: (article, _, { loaders }) => loaders.creditsByArticleId.load(article.id),
  tags: (article, _, { loaders }) => loaders.tagsByArticleId.load(article.id),
  keywords: (article, args, context) => articleKeywords(context, article, args),
  related: (article, args, context) => relatedItems(context, article, args),
};
