import type { SearchHitResolvers } from '../__generated__/resolvers-types.js';
import { snippetOf } from '../providers/search.js';

export const SearchHit: SearchHitResolvers = {
  snippet: (hit) => snippetOf(hit),
};
