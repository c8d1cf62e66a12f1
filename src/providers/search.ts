import type { PageInfo, QuerySearchArgs, SearchMatchMode } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import type { SearchKey } from '../data/store.js';
import type { ArticleRecord } from '../data/types.js';
import { badUserInput } from '../errors.js';
import { isStopword } from '../text/keywords.js';
import { bodyText } from '../text/measure.js';
import { queryTerms } from '../text/segment.js';
import { makeSnippet } from '../text/snippet.js';
import { allowPreview } from './access.js';
import { checkCount, pageInfoOf, resolveFilter } from './lists.js';

export const MAX_QUERY_CHARACTERS = 100;

export interface SearchHitModel {
  article: ArticleRecord;
  score: number;
  terms: readonly string[];
}

export interface SearchEdgeModel {
  cursor: string;
  node: SearchHitModel;
}

export interface SearchPage {
  edges: SearchEdgeModel[];
  nodes: SearchHitModel[];
  pageInfo: PageInfo;
  totalCount: () => Promise<number>;
  terms: string[];
  matched: SearchMatchMode;
}

const CURSOR = /^s1:(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?):(\d{1,15}):(\d{1,15})$/;

function encodeSearchCursor(key: SearchKey): string {
  return Buffer.from(`s1:${key.score}:${key.publishedAt}:${key.id}`).toString('base64url');
}

function decodeSearchCursor(cursor: string): SearchKey {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match) throw badUserInput('"after" is not a search cursor this API issued', 'after');
  return { score: Number(match[1]), publishedAt: Number(match[2]), id: match[3]! };
}

/** One page of search results (see `Query.search` in the schema); `preview` (drafts, scheduled and deleted articles too) is for editors only. */
export async function searchArticles(context: Context, args: QuerySearchArgs): Promise<SearchPage> {
  const includeHidden = allowPreview(context, args.preview);
  if ([...args.query].length > MAX_QUERY_CHARACTERS) {
    throw badUserInput(`"query" must be at most ${MAX_QUERY_CHARACTERS} characters`, 'query', { limit: MAX_QUERY_CHARACTERS });
  }
  const words = queryTerms(args.query);
  if (words.length === 0) {
    throw badUserInput('"query" holds no word to search for: give at least one letter or digit', 'query');
  }
  // Function words (的, 了, the) would match nearly everything; they count only when the query has nothing else.
  const meaningful = words.filter((w) => !isStopword(w));
  const terms = meaningful.length > 0 ? meaningful : words;
  const first = checkCount(args.first);
  const after = args.after != null ? decodeSearchCursor(args.after) : null;
  const filter = await resolveFilter(context, args.filter, { includeHidden });
  const { store, loaders } = context;

  // Every term first; a query no article fully matches falls back to any term.
  let mode: 'all' | 'any' = 'all';
  let total: number | undefined;
  if (terms.length > 1) {
    total = await store.countSearchMatches({ terms, mode, filter });
    if (total === 0) {
      mode = 'any';
      total = undefined;
    }
  }
  const matches = first === 0 ? [] : await store.searchArticles({ terms, mode, filter, after, limit: first + 1 });
  const nodes = matches.slice(0, first).map(({ article, score }) => {
    // The id loader serves the public graph; a preview's hidden articles must not land in it.
    if (!includeHidden) loaders.articleById.prime(article.id, article);
    return { article, score, terms };
  });
  const edges = nodes.map((node) => ({
    cursor: encodeSearchCursor({ score: node.score, publishedAt: node.article.publishedAt, id: node.article.id }),
    node,
  }));
  return {
    edges,
    nodes,
    pageInfo: pageInfoOf(edges, { hasNextPage: matches.length > first, hasPreviousPage: after !== null }),
    totalCount: async () => total ?? store.countSearchMatches({ terms, mode, filter }),
    terms,
    matched: mode === 'all' ? 'ALL' : 'ANY',
  };
}

/** The best matching passage of the body, or of the title when only the title matched. */
export function snippetOf(hit: SearchHitModel): string {
  const body = makeSnippet(bodyText(hit.article.body), hit.terms);
  return body.includes('<mark>') ? body : makeSnippet(`${hit.article.title}：${hit.article.excerpt}`, hit.terms);
}
