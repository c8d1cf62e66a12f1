import type { MutationResolvers } from '../__generated__/resolvers-types.js';
import {
  articleEdits,
  changeArticle,
  createArticle,
  createSection,
  importPages,
  moveSection,
  revisionSnapshot,
  setHotItems,
  updateSection,
} from '../providers/editing/articles.js';

export const Mutation: MutationResolvers = {
  createArticle: async (_, { input }, context) => ({ article: await createArticle(context, input) }),
  updateArticle: async (_, { id, expectedVersion, input }, context) => ({
    article: await changeArticle(context, { id, expectedVersion }, articleEdits.update(input)),
  }),
  publishArticle: async (_, { id, expectedVersion, at }, context) => ({
    article: await changeArticle(context, { id, expectedVersion }, articleEdits.publish(at)),
  }),
  unpublishArticle: async (_, { id, expectedVersion }, context) => ({
    article: await changeArticle(context, { id, expectedVersion }, articleEdits.unpublish()),
  }),
  deleteArticle: async (_, { id, expectedVersion }, context) => ({
    article: await changeArticle(context, { id, expectedVersion }, articleEdits.delete()),
  }),
  restoreArticle: async (_, { id, expectedVersion }, context) => ({
    article: await changeArticle(context, { id, expectedVersion }, articleEdits.restore()),
  }),
  restoreRevision: async (_, { id, revision, expectedVersion }, context) => ({
    article: await changeArticle(context, { id, expectedVersion }, () => revisionSnapshot(context, id, revision)),
  }),
  createSection: async (_, { input }, context) => ({ section: await createSection(context, input) }),
  updateSection: async (_, { id, input }, context) => ({ section: await updateSection(context, id, input) }),
  moveSection: async (_, { id, parent }, context) => ({ section: await moveSection(context, id, parent) }),
  setHotItems: async (_, { section, items }, context) => ({ items: await setHotItems(context, section, items) }),
  importPages: async (_, { pages }, context) => ({ pages: await importPages(context, pages) }),
};
