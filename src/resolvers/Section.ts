import type { SectionResolvers } from '../__generated__/resolvers-types.js';
import { pathOf } from '../data/loaders.js';
import { findSectionEntity } from '../providers/entities.js';
import { sectionGlobalId } from '../providers/identity.js';
import { pageArticles } from '../providers/lists.js';
import { isArgumentGiven } from './arguments.js';

export const Section: SectionResolvers = {
  id: (section) => sectionGlobalId(section),
  __resolveReference: (reference, context) => findSectionEntity(context, reference),
  parent: async (section, _, { loaders }) =>
    section.parentId === null ? null : ((await loaders.sections()).byId.get(section.parentId) ?? null),
  children: async (section, _, { loaders }) => (await loaders.sections()).children.get(section.id) ?? [],
  path: async (section, _, { loaders }) => pathOf(await loaders.sections(), section),
  articles: (section, args, context, info) =>
    pageArticles(context, args, { firstGiven: isArgumentGiven(info, 'first'), withinSectionId: section.id }),
};
