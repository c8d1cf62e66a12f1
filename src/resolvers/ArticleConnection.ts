import type { ArticleConnectionResolvers } from '../__generated__/resolvers-types.js';

export const ArticleConnection: ArticleConnectionResolvers = {
  // Counted only when asked for: a page that does not show a total pays nothing for it.
  totalCount: (page) => page.totalCount(),
};
