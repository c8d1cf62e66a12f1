import type { ArticleFilter, PageInfo, QueryArticlesArgs, SectionArticlesArgs } from '../__generated__/resolvers-types.js';
import type { Context } from '../context.js';
import { descendantIds } from '../data/loaders.js';
import type { ArticleFilterQuery, ArticleKey, SortOrder } from '../data/store.js';
import type { ArticleRecord } from '../data/types.js';
import { badUserInput } from '../errors.js';
import { allowPreview } from './access.js';

// Article lists: filters, counts, keyset cursors and the one PageInfo every
// connection (article lists and search alike) is built with.

export const MAX_PAGE_SIZE = 100;
/** The schema's default for `first`; an explicit null means the same. */
export const DEFAULT_PAGE_SIZE = 20;

export interface ArticleEdgeModel {
  cursor: string;
  node: ArticleRecord;
}

/** A page of a connection as resolvers build it; the total is counted only when a client asks for it. */
export interface ArticlePage {
  edges: ArticleEdgeModel[];
  nodes: ArticleRecord[];
  pageInfo: PageInfo;
  totalCount: () => Promise<number>;
}

/**
 * A connection's PageInfo: whether items lie beyond the page on either side,
 * and the cursors of its first and last edges.
 */
export function pageInfoOf(
  edges: readonly { cursor: string }[],
  { hasNextPage, hasPreviousPage }: { hasNextPage: boolean; hasPreviousPage: boolean },
): PageInfo {
  return { hasNextPage, hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null };
}

const CURSOR = /^a1:(\d{1,15}):(\d{1,15})$/;

/**
 * Cursors are keyset positions (publication time and id), never offsets, so
 * an article published while a reader pages does not shift the pages after
 * it. They are opaque to clients: the encoding may change.
 */
export function encodeCursor(key: ArticleKey): string {
  return Buffer.from(`a1:${key.publishedAt}:${key.id}`).toString('base64url');
}

export function decodeCursor(cursor: string, argument: string): ArticleKey {
  const match = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match) throw badUserInput(`"${argument}" is not a cursor this API issued`, argument);
  return { publishedAt: Number(match[1]), id: match[2]! };
}

/**
 * A count argument such as `first`, with null read as "not given" (GraphQL
 * lets a client pass null explicitly even where the schema has a default).
 */
export function checkCount(
  value: number | null | undefined,
  { argument = 'first', fallback = DEFAULT_PAGE_SIZE, max = MAX_PAGE_SIZE } = {},
): number {
  const count = value ?? fallback;
  if (count < 0 || count > max) {
    throw badUserInput(`"${argument}" must be between 0 and ${max}, got ${count}`, argument, { limit: max });
  }
  return count;
}

/**
 * The store filter for a GraphQL filter, optionally inside a section's
 * subtree (`Section.articles`). An unknown section slug matches nothing.
 */
export async function resolveFilter(
  context: Context,
  input: ArticleFilter | null | undefined,
  { withinSectionId, includeHidden = false }: { withinSectionId?: string; includeHidden?: boolean } = {},
): Promise<ArticleFilterQuery> {
  const filter: ArticleFilterQuery = includeHidden ? { includeHidden } : {};
  if (input?.section != null || withinSectionId !== undefined) {
    const tree = await context.loaders.sections();
    let ids: string[] | undefined = withinSectionId !== undefined ? descendantIds(tree, withinSectionId) : undefined;
    if (input?.section != null) {
      const section = tree.bySlug.get(input.section);
      const named = section ? descendantIds(tree, section.id) : [];
      ids = ids ? named.filter((id) => ids!.includes(id)) : named;
    }
    filter.sectionIds = ids;
  }
  if (input?.tag != null) filter.tagSlug = input.tag;
  if (input?.credit != null) filter.creditName = input.credit;
  if (input?.publishedAt?.from != null) filter.publishedFrom = input.publishedAt.from.getTime();
  if (input?.publishedAt?.to != null) filter.publishedTo = input.publishedAt.to.getTime();
  return filter;
}

/**
 * One page of articles (`Query.articles`, `Section.articles` within that
 * section's subtree); `preview` is for editors only. `firstGiven` says whether
 * the client wrote `first` itself: its schema default must not turn a `last`
 * request into a mixed one.
 */
export async function pageArticles(
  context: Context,
  args: QueryArticlesArgs | SectionArticlesArgs,
  { firstGiven, withinSectionId }: { firstGiven: boolean; withinSectionId?: string },
): Promise<ArticlePage> {
  const includeHidden = allowPreview(context, args.preview);
  const backwards = args.last != null;
  if (backwards && firstGiven && args.first != null) {
    throw badUserInput('give "first" or "last", not both', 'last');
  }
  const count = backwards ? checkCount(args.last, { argument: 'last' }) : checkCount(args.first);
  const after = args.after != null ? decodeCursor(args.after, 'after') : null;
  const before = args.before != null ? decodeCursor(args.before, 'before') : null;
  const filter = await resolveFilter(context, args.filter, { withinSectionId, includeHidden });
  const order: SortOrder = args.orderBy === 'PUBLISHED_AT_ASC' ? 'asc' : 'desc';

  const { store, loaders } = context;
  // Paging backwards scans from `before` in the opposite order, then turns the page around.
  const rows =
    count === 0
      ? []
      : await store.listArticles({
          filter,
          order: backwards ? (order === 'desc' ? 'asc' : 'desc') : order,
          after: backwards ? before : after,
          until: backwards ? after : before,
          limit: count + 1,
        });
  const more = rows.length > count;
  const nodes = rows.slice(0, count);
  if (backwards) nodes.reverse();
  // The id loader serves the public graph; a preview's hidden articles must not land in it.
  if (!includeHidden) for (const node of nodes) loaders.articleById.prime(node.id, node);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    nodes,
    // Relay lets the far side be approximate: a cursor given on that side means items lie beyond it.
    pageInfo: pageInfoOf(edges, { hasNextPage: backwards ? before !== null : more, hasPreviousPage: backwards ? more : after !== null }),
    totalCount: () => loaders.articleCount.load(filter),
  };
}
