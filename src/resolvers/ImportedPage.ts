import type { ImportedPageResolvers } from '../__generated__/resolvers-types.js';
import { importedArticle } from '../providers/editing/pages.js';

export const ImportedPage: ImportedPageResolvers = {
  article: (page, _, context) => importedArticle(context, page),
};
