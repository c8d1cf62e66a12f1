import type { ArticleRelatedArgs } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import { descendantIds, pathOf } from '../data/loaders.js';
import type { ArticleRecord, ArticleSummary, RelatedItemRecord, RelatedKind, TeaserKind, TeaserRecord } from '../data/types.js';
import { mentions } from '../text/keywords.js';
import { bodyText } from '../text/measure.js';
import { checkCount } from './lists.js';

export const MAX_RELATED = 50;
/** The schema's default for `first`; an explicit null means the same. */
export const DEFAULT_RELATED = 6;

/** How many of the article's keywords look for similar articles, and how many candidates each signal brings. */
const SIMILARITY_KEYWORDS = 10;
const CANDIDATES = 50;
/** Shared keywords weigh more than shared tags: every article has keywords, few have careful tags. */
const KEYWORD_SHARE = 0.7;
/** A keyword held by more than this share of the archive (and more than the floor) is too common to relate articles. */
const COMMON_TERM_SHARE = 0.1;
const COMMON_TERM_FLOOR = 10;
const TAG_SHARE = 0.3;

/** The teaser modules shown beside an article (see `Article.related` in the schema). */
export async function relatedItems(
  context: Context,
  article: ArticleRecord,
  { kind, first: requested }: ArticleRelatedArgs,
): Promise<RelatedItemRecord[]> {
  const first = checkCount(requested, { fallback: DEFAULT_RELATED, max: MAX_RELATED });
  if (first === 0) return [];
  switch (kind) {
    case 'HOT': {
      const curated = (await curatedTeasers(context, article, 'HOT')).slice(0, first).map(fromTeaser);
      const shown = curated.flatMap((item) => (item.articleId ? [item.articleId] : []));
      const fill = await newestInSection(context, article, first - curated.length, shown, false);
      return [...curated, ...fill.map((a) => fromArticle(context, a, 'HOT'))];
    }
    case 'LATEST': {
      const latest = await newestInSection(context, article, first, [], true);
      const items = latest.map((a) => fromArticle(context, a, 'LATEST'));
      // A scraped page's own 最近更新 list fills what the store cannot.
      if (items.length < first) items.push(...(await curatedTeasers(context, article, 'LATEST')).map(fromTeaser));
      return items.slice(0, first);
    }
    case 'RELATED':
      return similarArticles(context, article, first);
  }
}

/** The newest other articles of the article's section and the sections under it, then (with `siteWide`) of the whole site. */
async function newestInSection(
  context: Context,
  article: ArticleRecord,
  limit: number,
  exclude: readonly string[],
  siteWide: boolean,
): Promise<ArticleSummary[]> {
  if (limit <= 0) return [];
  const { store, loaders } = context;
  const excludeIds = [article.id, ...exclude];
  const sectionIds = descendantIds(await loaders.sections(), article.sectionId);
  const found = await store.listArticleSummaries({ filter: { sectionIds, excludeIds }, limit });
  if (siteWide && found.length < limit) {
    const more = await store.listArticleSummaries({
      filter: { excludeIds: [...excludeIds, ...found.map((a) => a.id)] },
      limit: limit - found.length,
    });
    found.push(...more);
  }
  return found;
}

/**
 * More like this. Candidates come from the article's strongest keywords
 * searched as an any-term query and from the articles sharing its tags. Each
 * is scored by what it shares: the TF-IDF weight of the article's keywords it
 * mentions, as a share of all of them, and the share of the article's tags it
 * carries. The reason lists exactly what was counted.
 */
async function similarArticles(context: Context, article: ArticleRecord, first: number): Promise<RelatedItemRecord[]> {
  const { store, loaders } = context;
  const keywords = await loaders.keywords.load(article);
  // Terms most of the archive holds say nothing about similarity and would make the search match nearly everything.
  const top = keywords.terms
    .map((term, k) => ({ ...term, display: keywords.display[k]! }))
    .filter((t) => t.articles <= Math.max(COMMON_TERM_FLOOR, keywords.documents * COMMON_TERM_SHARE))
    .slice(0, SIMILARITY_KEYWORDS);
  const [byKeywords, byTags, ownTags] = await Promise.all([
    top.length
      ? store.searchArticles({ terms: top.map((t) => t.term), mode: 'any', filter: { excludeIds: [article.id] }, limit: CANDIDATES })
      : [],
    store.listArticlesSharingTags({ articleId: article.id, limit: CANDIDATES }),
    loaders.tagsByArticleId.load(article.id),
  ]);

  const candidates = new Map<string, { other: ArticleRecord; relevance: number }>();
  for (const { article: other, score } of byKeywords) candidates.set(other.id, { other, relevance: score });
  for (const other of byTags) if (!candidates.has(other.id)) candidates.set(other.id, { other, relevance: 0 });
  const ids = [...candidates.keys()];
  const candidateTags = await loaders.tagsByArticleId.loadMany(ids);
  const totalWeight = top.reduce((sum, t) => sum + t.weight, 0);
  const ownTagIds = new Set(ownTags.map((t) => t.id));

  const scored = ids.map((id, i) => {
    const { other, relevance } = candidates.get(id)!;
    const text = `${other.title}\n${bodyText(other.body)}`;
    const shared = top.filter((t) => mentions(text, t.term));
    const tags = candidateTags[i];
    const sharedTags = !tags || tags instanceof Error ? [] : tags.filter((t) => ownTagIds.has(t.id));
    const score =
      (totalWeight > 0 ? KEYWORD_SHARE * (shared.reduce((sum, s) => sum + s.weight, 0) / totalWeight) : 0) +
      (ownTagIds.size > 0 ? TAG_SHARE * (sharedTags.length / ownTagIds.size) : 0);
    return { other, score, relevance, reason: { keywords: shared.map((s) => s.display), tags: sharedTags, score } };
  });
  scored.sort((a, b) => b.score - a.score || b.relevance - a.relevance || b.other.publishedAt - a.other.publishedAt);

  return scored
    .filter((s) => s.score > 0)
    .slice(0, first)
    .map(({ other, reason }) => ({ ...fromArticle(context, other, 'RELATED'), reason }));
}

/** The curated list of the article's section, or of the nearest ancestor that has one. */
async function curatedTeasers(context: Context, article: ArticleRecord, kind: TeaserKind): Promise<TeaserRecord[]> {
  const tree = await context.loaders.sections();
  const section = tree.byId.get(article.sectionId);
  if (!section) return [];
  const loader = kind === 'HOT' ? context.loaders.hotTeasersBySectionId : context.loaders.latestTeasersBySectionId;
  const lists = await loader.loadMany(
    pathOf(tree, section)
      .map((s) => s.id)
      .reverse(),
  );
  for (const list of lists) {
    if (list instanceof Error) throw list;
    if (list.length > 0) return list;
  }
  return [];
}

function fromTeaser(teaser: TeaserRecord): RelatedItemRecord {
  const { kind, title, summary, url, publishedAt, articleId } = teaser;
  return { kind, title, summary, url, publishedAt, articleId, reason: null };
}

function fromArticle(context: Context, article: ArticleRecord | ArticleSummary, kind: RelatedKind): RelatedItemRecord {
  // A whole record answers a later RelatedItem.article without another read; a summary lacks the body.
  if ('body' in article) context.loaders.articleById.prime(article.id, article);
  return {
    kind,
    title: article.title,
    summary: article.excerpt,
    url: null,
    publishedAt: article.publishedAt,
    articleId: article.id,
    reason: null,
  };
}
