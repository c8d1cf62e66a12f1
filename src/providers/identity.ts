import type { Context } from '../context.js';
import type { ArticleRecord, ArticleRevisionRecord, SectionRecord, TagRecord } from '../data/types.js';
import { badUserInput } from '../errors.js';
import { allowPreview } from './access.js';

// Global object identification at the API's edge. The data module, its
// loaders and the response cache's tags keep working on the store's own ids;
// the API serves every object with an identity under a global id
// (`gid://newsgraph/<Type>/<key>`, Shopify's form: readable in logs, unique
// across types) and turns the ids clients send back into store ids here.
// Clients that kept the numeric ids served before are still understood
// where an article or a section is looked up or changed.

export type NodeType = 'Article' | 'Section' | 'Tag' | 'ArticleRevision';
export type NodeRecord = ArticleRecord | SectionRecord | TagRecord | ArticleRevisionRecord;

const PREFIX = 'gid://newsgraph/';
/** The key of each type: store ids for articles and sections, the slug for tags (unique, never changed), article id and version for revisions. */
const KEY: Record<NodeType, RegExp> = {
  Article: /^(\d+)$/,
  Section: /^(\d+)$/,
  Tag: /^([a-z0-9]+(?:-[a-z0-9]+)*)$/,
  ArticleRevision: /^(\d+)\/(\d+)$/,
};
const LEGACY_ID = /^\d+$/;

export const MAX_NODES = 100;

export function articleGlobalId(article: Pick<ArticleRecord, 'id'>): string {
  return `${PREFIX}Article/${article.id}`;
}

export function sectionGlobalId(section: Pick<SectionRecord, 'id'>): string {
  return `${PREFIX}Section/${section.id}`;
}

export function tagGlobalId(tag: Pick<TagRecord, 'slug'>): string {
  return `${PREFIX}Tag/${tag.slug}`;
}

export function revisionGlobalId(revision: Pick<ArticleRevisionRecord, 'articleId' | 'version'>): string {
  return `${PREFIX}ArticleRevision/${revision.articleId}/${revision.version}`;
}

/** The type and key parts a global id names; null for anything that is not one of ours. */
export function parseGlobalId(id: string): { type: NodeType; key: string[] } | null {
  if (!id.startsWith(PREFIX)) return null;
  const rest = id.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  const type = rest.slice(0, slash);
  if (!Object.hasOwn(KEY, type)) return null;
  const match = KEY[type as NodeType].exec(rest.slice(slash + 1));
  return match ? { type: type as NodeType, key: match.slice(1) } : null;
}

/**
 * The store id of the article or section a client names: its global id, or
 * the numeric id the API served before global ids. Null when the id names
 * nothing of that type (another type's global id, or anything else).
 */
export function storeId(id: string, type: 'Article' | 'Section'): string | null {
  if (LEGACY_ID.test(id)) return id;
  const parsed = parseGlobalId(id);
  return parsed?.type === type ? parsed.key[0]! : null;
}

/** `storeId` for an argument that must name one: BAD_USER_INPUT naming `argument` otherwise, as the store's refusal of an unknown id reads. */
export function requireStoreId(id: string, type: 'Article' | 'Section', argument: string): string {
  const found = storeId(id, type);
  if (found === null) throw badUserInput(`no ${type.toLowerCase()} has id ${id}`, argument);
  return found;
}

/** `Query.node`: see `findNodes`. */
export async function findNode(context: Context, { id, preview }: { id: string; preview?: boolean | null }): Promise<NodeRecord | null> {
  return (await findNodes(context, { ids: [id], preview }))[0] ?? null;
}

/**
 * `Query.nodes`: each id's object under the rules of its type's own look-up:
 * articles the viewer may see (hidden ones only in an editor's preview),
 * sections, tags some visible article carries, and revisions for editors
 * only. Articles and tags go through the request's loaders: all articles in
 * one batch, and the tags in one batch once an article carrying each is found.
 */
export async function findNodes(
  context: Context,
  { ids, preview }: { ids: readonly string[]; preview?: boolean | null },
): Promise<(NodeRecord | null)[]> {
  if (ids.length > MAX_NODES) throw badUserInput(`at most ${MAX_NODES} ids, got ${ids.length}`, 'ids');
  const includeHidden = allowPreview(context, preview);
  const parsed = ids.map(parseGlobalId);
  const articleIds = parsed.flatMap((p) => (p?.type === 'Article' || p?.type === 'ArticleRevision' ? [p.key[0]!] : []));
  const articles = new Map<string, ArticleRecord | null>();
  if (articleIds.length > 0) {
    const found = includeHidden
      ? await context.store.findArticlesByIds({ ids: articleIds, includeHidden: true })
      : await context.loaders.articleById.loadMany(articleIds);
    articleIds.forEach((articleId, i) => {
      const article = found[i];
      // A store failure is the request's error (STORE_UNAVAILABLE …), never a missing object.
      if (article instanceof Error) throw article;
      articles.set(articleId, article ?? null);
    });
  }
  return Promise.all(
    parsed.map(async (node): Promise<NodeRecord | null> => {
      if (!node) return null;
      const [key, version] = node.key as [string, string | undefined];
      switch (node.type) {
        case 'Article':
          return articles.get(key) ?? null;
        case 'Section':
          return (await context.loaders.sections()).byId.get(key) ?? null;
        case 'Tag':
          return context.loaders.tagBySlug.load({ slug: key, includeHidden });
        case 'ArticleRevision':
          return revisionOf(context, articles.get(key) ?? null, Number(version));
      }
    }),
  );
}

/** An article's revision, for editors only (as `Article.revisions`), the response then private; null for anyone else. */
async function revisionOf(context: Context, article: ArticleRecord | null, version: number): Promise<ArticleRevisionRecord | null> {
  if (!context.viewer || !article) return null;
  context.private = true;
  return (await context.store.listRevisions({ articleId: article.id })).find((r) => r.version === version) ?? null;
}

/** The GraphQL type of a record `node` found. */
export function nodeTypeOf(record: NodeRecord): NodeType {
  if ('snapshot' in record) return 'ArticleRevision';
  if ('parentId' in record) return 'Section';
  if ('title' in record) return 'Article';
  return 'Tag';
}
