import type { Context } from './context.js';
import { descendantIds, pathOf } from './data/loaders.js';
import type { ArticleRecord, RelatedItemRecord, RelatedKind, TeaserKind, TeaserRecord } from './data/types.js';
import { checkCount } from './pagination.js';

export const MAX_RELATED = 50;
/** The schema's default for `first`; an explicit null means the same. */
export const DEFAULT_RELATED = 6;

/** The teaser modules shown beside an article (see `Article.related` in the schema). */
export async function relatedItems(
  context: Context,
  article: ArticleRecord,
  kind: RelatedKind,
  requested: number | null | undefined,
): Promise<RelatedItemRecord[]> {
  const first = checkCount(requested, { fallback: DEFAULT_RELATED, max: MAX_RELATED });
  if (first === 0) return [];
  const { store, loaders } = context;
  switch (kind) {
    case 'HOT':
      return (await curatedTeasers(context, article, 'HOT')).slice(0, first).map(fromTeaser);
    case 'LATEST': {
      const tree = await loaders.sections();
      const articles = await store.listLatestArticles({
        excludeId: article.id,
        sectionIds: descendantIds(tree, article.sectionId),
        limit: first,
      });
      const items = articles.map((a) => fromArticle(context, a, 'LATEST'));
      // A scraped page's own 最近更新 list fills what the store cannot.
      if (items.length < first) items.push(...(await curatedTeasers(context, article, 'LATEST')).map(fromTeaser));
      return items.slice(0, first);
    }
    case 'RELATED': {
      const articles = await store.listArticlesSharingTags({ articleId: article.id, limit: first });
      return articles.map((a) => fromArticle(context, a, 'RELATED'));
    }
  }
}

/** The curated list of the article's section, or of the nearest ancestor that has one. */
async function curatedTeasers(context: Context, article: ArticleRecord, kind: TeaserKind): Promise<TeaserRecord[]> {
  const tree = await context.loaders.sections();
  const section = tree.byId.get(article.sectionId);
  if (!section) return [];
  const loader = kind === 'HOT' ? context.loaders.hotTeasersBySectionId : context.loaders.latestTeasersBySectionId;
  const lists = await loader.loadMany(pathOf(tree, section).map((s) => s.id).reverse());
  for (const list of lists) {
    if (list instanceof Error) throw list;
    if (list.length > 0) return list;
  }
  return [];
}

function fromTeaser(teaser: TeaserRecord): RelatedItemRecord {
  const { kind, title, summary, url, publishedAt, articleId } = teaser;
  return { kind, title, summary, url, publishedAt, articleId };
}

function fromArticle(context: Context, article: ArticleRecord, kind: RelatedKind): RelatedItemRecord {
  context.loaders.articleById.prime(article.id, article);
  return {
    kind,
    title: article.title,
    summary: article.excerpt,
    url: null,
    publishedAt: article.publishedAt,
    articleId: article.id,
  };
}
