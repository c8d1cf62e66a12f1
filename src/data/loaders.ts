import DataLoader from 'dataloader';
import { createKeywordLoader } from './keywords.js';
import type { ArticleFilterQuery, ContentStore } from './store.js';
import type { ArticleRecord, CreditRecord, SectionRecord, TagRecord, TeaserKind, TeaserRecord } from './types.js';

/** The section tree, loaded whole once per request. */
export interface SectionTree {
  all: SectionRecord[];
  byId: Map<string, SectionRecord>;
  bySlug: Map<string, SectionRecord>;
  children: Map<string | null, SectionRecord[]>;
}

export type Loaders = ReturnType<typeof createLoaders>;

const MAX_BATCH = 500;

/**
 * DataLoaders for one request: every article, credit list or tag list a
 * query touches is fetched in one batched statement per kind, however many
 * articles the response holds. Created per request so nothing cached leaks
 * between viewers.
 */
export function createLoaders(store: ContentStore) {
  let sections: Promise<SectionTree> | undefined;
  const articleCount = new DataLoader<ArticleFilterQuery, number, string>(
    (filters) => Promise.all(filters.map((filter) => store.countArticles({ filter }))),
    { batch: false, cacheKeyFn: (filter) => JSON.stringify(filter) },
  );
  const teasers = (kind: TeaserKind) =>
    new DataLoader<string, TeaserRecord[]>((sectionIds) => store.findTeasers({ sectionIds, kind }), {
      maxBatchSize: MAX_BATCH,
    });
  return {
    articleById: new DataLoader<string, ArticleRecord | null>((ids) => store.findArticlesByIds({ ids }), {
      maxBatchSize: MAX_BATCH,
    }),
    articleBySlug: new DataLoader<string, ArticleRecord | null>((slugs) => store.findArticlesBySlugs({ slugs }), {
      maxBatchSize: MAX_BATCH,
    }),
    creditsByArticleId: new DataLoader<string, CreditRecord[]>((articleIds) => store.findCredits({ articleIds }), {
      maxBatchSize: MAX_BATCH,
    }),
    tagsByArticleId: new DataLoader<string, TagRecord[]>((articleIds) => store.findTags({ articleIds }), {
      maxBatchSize: MAX_BATCH,
    }),
    /**
     * A tag by its slug, found through an article that carries it: a tag only
     * hidden articles carry is not public (its name could tell an unpublished
     * story), so without `includeHidden` that article must be one the public sees.
     */
    tagBySlug: new DataLoader<{ slug: string; includeHidden?: boolean }, TagRecord | null, string>(
      async (keys) => {
        const carriers = await Promise.all(
          keys.map(({ slug, includeHidden }) => store.listArticleSummaries({ filter: { tagSlug: slug, includeHidden }, limit: 1 })),
        );
        const articleIds = carriers.flatMap((found) => (found[0] ? [found[0].id] : []));
        const tagLists = articleIds.length > 0 ? await store.findTags({ articleIds }) : [];
        const carried = tagLists.flat();
        return keys.map(({ slug }) => carried.find((tag) => tag.slug === slug) ?? null);
      },
      { maxBatchSize: MAX_BATCH, cacheKeyFn: ({ slug, includeHidden }) => `${includeHidden ? 'all' : 'public'}:${slug}` },
    ),
    hotTeasersBySectionId: teasers('HOT'),
    latestTeasersBySectionId: teasers('LATEST'),
    /** Counts by filter, so the same count asked for twice in a request costs one statement. */
    articleCount,
    keywords: createKeywordLoader(store, () => articleCount.load({})),
    sections: (): Promise<SectionTree> => (sections ??= store.listSections().then(buildTree)),
  };
}

function buildTree(all: SectionRecord[]): SectionTree {
  const children = new Map<string | null, SectionRecord[]>();
  for (const section of all) {
    const siblings = children.get(section.parentId) ?? [];
    siblings.push(section);
    children.set(section.parentId, siblings);
  }
  return {
    all,
    byId: new Map(all.map((s) => [s.id, s])),
    bySlug: new Map(all.map((s) => [s.slug, s])),
    children,
  };
}

/** The section and every section under it. */
export function descendantIds(tree: SectionTree, sectionId: string): string[] {
  const ids: string[] = [];
  const visit = (id: string) => {
    if (ids.includes(id)) return; // a cycle in stored data must not hang a request
    ids.push(id);
    for (const child of tree.children.get(id) ?? []) visit(child.id);
  };
  visit(sectionId);
  return ids;
}

/** Root first, the section itself last. */
export function pathOf(tree: SectionTree, section: SectionRecord): SectionRecord[] {
  const path: SectionRecord[] = [];
  for (let s: SectionRecord | undefined = section; s; s = s.parentId ? tree.byId.get(s.parentId) : undefined) {
    if (path.includes(s)) break; // a cycle in stored data must not hang a request
    path.unshift(s);
  }
  return path;
}

/** Tree order: each section followed by the sections under it. */
export function treeOrder(tree: SectionTree): SectionRecord[] {
  const ordered: SectionRecord[] = [];
  const visit = (parentId: string | null) => {
    for (const s of tree.children.get(parentId) ?? []) {
      ordered.push(s);
      visit(s.id);
    }
  };
  visit(null);
  return ordered;
}
