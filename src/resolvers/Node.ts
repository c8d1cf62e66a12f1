import type { NodeResolvers } from '../__generated__/resolvers-types.js';
import { nodeTypeOf } from '../providers/identity.js';

export const Node: NodeResolvers = {
  __resolveType: (record) => nodeTypeOf(record),
};
