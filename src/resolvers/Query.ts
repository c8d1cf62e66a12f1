import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { treeOrder } from '../data/loaders.js';
import { badUserInput } from '../errors.js';
import { pageArticles } from '../pagination.js';
import { searchArticles } from '../search.js';
import { isArgumentGiven } from './arguments.js';

export const Query: QueryResolvers = {
  article: async (_, { id, slug }, { loaders }) => {
    if ((id == null) === (slug == null)) throw badUserInput('give exactly one of "id" and "slug"', id == null ? 'id' : 'slug');
    return id != null ? loaders.articleById.load(id) : loaders.articleBySlug.load(slug!);
  },
  articles: (_, args, context, info) => pageArticles(context, args, { firstGiven: isArgumentGiven(info, 'first') }),
  search: (_, args, context) => searchArticles(context, args),
  section: async (_, { slug }, { loaders }) => (await loaders.sections()).bySlug.get(slug) ?? null,
  sections: async (_, __, { loaders }) => treeOrder(await loaders.sections()),
};
