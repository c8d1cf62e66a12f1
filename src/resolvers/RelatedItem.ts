import type { RelatedItemResolvers } from '../__generated__/resolvers-types.js';

export const RelatedItem: RelatedItemResolvers = {
  article: (item, _, { loaders }) => (item.articleId === null ? null : loaders.articleById.load(item.articleId)),
};
