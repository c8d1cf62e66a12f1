import type { ArticleResolvers } from '../__generated__/resolvers-types.js';
import { DEFAULT_KEYWORDS, MAX_KEYWORDS } from '../data/keywords.js';
import { checkCount } from '../pagination.js';
import { relatedItems } from '../related.js';

export const Article: ArticleResolvers = {
  source: (article) => (article.sourceName === null ? null : { name: article.sourceName, url: article.sourceUrl }),
  section: async (article, _, { loaders }) => {
    const section = (await loaders.sections()).byId.get(article.sectionId);
    if (!section) throw new Error(`article ${article.id} points at missing section ${article.sectionId}`);
    return section;
  },
  credits: (article, _, { loaders }) => loaders.creditsByArticleId.load(article.id),
  tags: (article, _, { loaders }) => loaders.tagsByArticleId.load(article.id),
  keywords: async (article, { first }, { loaders }) =>
    (await loaders.keywords.load(article)).display.slice(0, checkCount(first, { fallback: DEFAULT_KEYWORDS, max: MAX_KEYWORDS })),
  related: (article, { kind, first }, context) => relatedItems(context, article, kind, first),
};
