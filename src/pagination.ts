import type { Context } from './context.js';
import type { ArticleKey } from './data/store.js';
import type { ArticleRecord } from './data/types.js';
import { badUserInput } from './errors.js';

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
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
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
export function checkCount(value: number | null | undefined, { argument = 'first', fallback = DEFAULT_PAGE_SIZE, max = MAX_PAGE_SIZE } = {}): number {
  const count = value ?? fallback;
  if (count < 0 || count > max) {
    throw badUserInput(`"${argument}" must be between 0 and ${max}, got ${count}`, argument, { limit: max });
  }
  return count;
}

/** One page of articles, newest first, optionally limited to some sections. */
export async function pageArticles(
  context: Context,
  args: { first?: number | null; after?: string | null; sectionIds?: readonly string[] },
): Promise<ArticlePage> {
  const first = checkCount(args.first);
  const after = args.after != null ? decodeCursor(args.after, 'after') : null;
  const { store, loaders } = context;
  const rows = first === 0 ? [] : await store.listArticles({ sectionIds: args.sectionIds, after, limit: first + 1 });
  const nodes = rows.slice(0, first);
  for (const node of nodes) loaders.articleById.prime(node.id, node);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    nodes,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => loaders.articleCount.load(sectionKey(args.sectionIds)),
  };
}

/** The key the per-request count loader caches a count under. */
export function sectionKey(sectionIds: readonly string[] | undefined): string {
  return sectionIds ? [...sectionIds].sort().join(',') : '*';
}
