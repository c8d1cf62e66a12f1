import type { ArticleKeywordsArgs, QueryArticleArgs } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import { DEFAULT_KEYWORDS, MAX_KEYWORDS } from '../data/keywords.js';
import type { ArticleRecord, ArticleRevisionRecord } from '../data/types.js';
import { badUserInput } from '../errors.js';
import { allowPreview, requireRole } from './access.js';
import { checkCount } from './lists.js';

// One article as the read side serves it: found by id or slug, its keywords,
// and (for editors) its history.

/** `Query.article`: by exactly one of id and slug; a preview (editors only) finds hidden articles too. */
export async function findArticle(context: Context, { id, slug, preview }: QueryArticleArgs): Promise<ArticleRecord | null> {
  if ((id == null) === (slug == null)) throw badUserInput('give exactly one of "id" and "slug"', id == null ? 'id' : 'slug');
  if (allowPreview(context, preview)) {
    const found =
      id != null
        ? await context.store.findArticlesByIds({ ids: [id], includeHidden: true })
        : await context.store.findArticlesBySlugs({ slugs: [slug!], includeHidden: true });
    return found[0] ?? null;
  }
  return id != null ? context.loaders.articleById.load(id) : context.loaders.articleBySlug.load(slug!);
}

/** The article's strongest keywords, strongest first. */
export async function articleKeywords(context: Context, article: ArticleRecord, { first }: ArticleKeywordsArgs): Promise<string[]> {
  return (await context.loaders.keywords.load(article)).display.slice(
    0,
    checkCount(first, { fallback: DEFAULT_KEYWORDS, max: MAX_KEYWORDS }),
  );
}

/** Every saved version of the article: editors only. */
export function articleRevisions(context: Context, article: ArticleRecord): Promise<ArticleRevisionRecord[]> {
  requireRole(context);
  return context.store.listRevisions({ articleId: article.id });
}
