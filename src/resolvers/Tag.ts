import type { TagResolvers } from '../__generated__/resolvers-types.js';
import { tagGlobalId } from '../providers/identity.js';

export const Tag: TagResolvers = {
  id: (tag) => tagGlobalId(tag),
};
