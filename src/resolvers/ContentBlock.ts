import type { ContentBlockResolvers } from '../__generated__/resolvers-types.js';

export const ContentBlock: ContentBlockResolvers = {
  __resolveType: (block) => (block.type === 'image' ? 'Image' : 'Paragraph'),
};
