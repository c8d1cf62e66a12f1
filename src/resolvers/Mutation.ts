import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import {
  createArticle,
  deleteArticle,
  publishArticle,
  restoreArticle,
  restoreRevision,
  unpublishArticle,
  updateArticle,
} from '../providers/editing/articles.js';
import { importPages } from '../providers/editing/pages.js';
import { createSection, moveSection, updateSection } from '../providers/editing/sections.js';
import { setHotItems } from '../providers/editing/teasers.js';

export const Mutation: MutationResolvers = {
  createArticle: async (_, args, context) => ({ article: await createArticle(context, args) }),
  updateArticle: async (_, args, context) => ({ article: await updateArticle(context, args) }),
  publishArticle: async (_, args, context) => ({ article: await publishArticle(context, args) }),
  unpublishArticle: async (_, args, context) => ({ article: await unpublishArticle(context, args) }),
  deleteArticle: async (_, args, context) => ({ article: await deleteArticle(context, args) }),
  restoreArticle: async (_, args, context) => ({ article: await restoreArticle(context, args) }),
  restoreRevision: async (_, args, context) => ({ article: await restoreRevision(context, args) }),
  createSection: async (_, args, context) => ({ section: await createSection(context, args) }),
  updateSection: async (_, args, context) => ({ section: await updateSection(context, args) }),
  moveSection: async (_, args, context) => ({ section: await moveSection(context, args) }),
  setHotItems: async (_, args, context) => ({ items: await setHotItems(context, args) }),
  importPages: async (_, args, context) => ({ pages: await importPages(context, args) }),
};
