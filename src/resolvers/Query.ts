import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { treeOrder } from '../data/loaders.js';
import { findArticle } from '../providers/articles.js';
import { findNode, findNodes } from '../providers/identity.js';
import { pageArticles } from '../providers/lists.js';
import { searchArticles } from '../providers/search.js';
import { isArgumentGiven } from './arguments.js';

export const Query: QueryResolvers = {
  article: (_, args, context) => findArticle(context, args),
  articles: (_, args, context, info) => pageArticles(context, args, { firstGiven: isArgumentGiven(info, 'first') }),
  node: (_, args, context) => findNode(context, args),
  nodes: (_, args, context) => findNodes(context, args),
  search: (_, args, context) => searchArticles(context, args),
  section: async (_, { slug }, { loaders }) => (await loaders.sections()).bySlug.get(slug) ?? null,
  sections: async (_, __, { loaders }) => treeOrder(await loaders.sections()),
};
