import type { SearchConnectionResolvers } from '../__generated__/resolvers-types.js';

export const SearchConnection: SearchConnectionResolvers = {
  // Counted only when asked for.
  totalCount: (page) => page.totalCount(),
};
