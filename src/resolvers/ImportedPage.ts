import type { ImportedPageResolvers } from '../__generated__/resolvers-types.js';

export const ImportedPage: ImportedPageResolvers = {
  article: async (page, _, { store }) => {
    const [article] = await store.findArticlesByIds({ ids: [page.articleId], includeHidden: true });
    if (!article) throw new Error(`imported article ${page.articleId} is missing`);
    return article;
  },
};
