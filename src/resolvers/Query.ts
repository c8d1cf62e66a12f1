import type { QueryResolvers } from '../__generated__/resolvers-types.js';
import { treeOrder } from '../data/loaders.js';
import { allowPreview } from '../providers/editing/articles.js';
import { badUserInput } from '../errors.js';
import { pageArticles } from '../providers/lists.js';
import { searchArticles } from '../providers/search.js';
import { isArgumentGiven } from './arguments.js';

export const Query: QueryResolvers = {
  article: async (_, { id, slug, preview }, context) => {
    if ((id == null) === (slug == null)) throw badUserInput('give exactly one of "id" and "slug"', id == null ? 'id' : 'slug');
    if (allowPreview(context, preview)) {
      const found = id != null
        ? await context.store.findArticlesByIds({ ids: [id], includeHidden: true })
        : await context.store.findArticlesBySlugs({ slugs: [slug!], includeHidden: true });
      return found[0] ?? null;
    }
    return id != null ? context.loaders.articleById.load(id) : context.loaders.articleBySlug.load(slug!);
  },
  articles: (_, args, context, info) =>
    pageArticles(context, args, { firstGiven: isArgumentGiven(info, 'first'), includeHidden: allowPreview(context, args.preview) }),
  search: (_, args, context) => searchArticles(context, { ...args, includeHidden: allowPreview(context, args.preview) }),
  section: async (_, { slug }, { loaders }) => (await loaders.sections()).bySlug.get(slug) ?? null,
  sections: async (_, __, { loaders }) => treeOrder(await loaders.sections()),
};
