import { Migrator, sql, type Kysely, type Selectable, type SqlBool, type Transaction } from 'kysely';
import type { ParsedPage } from '../ingest/parse-page.js';
import { slugify } from '../text/slug.js';
import { migrationProvider } from './migrations/index.js';
import { filterCondition, hiddenIds, keysetCondition, narrowsBeyondExclusions } from './sql-filters.js';
import type { SearchIndex } from './search-index.js';
import { preparePage, type PreparedPage } from './prepare-page.js';
import { searchDocument } from './search-document.js';
import type {
  ArticleFilterQuery,
  ArticleListQuery,
  ContentStore,
  SavePageResult,
  SearchMatch,
  SearchQuery,
} from './store.js';
import type { ArticlesTable, Database } from './tables.js';
import type {
  ArticleRecord,
  ArticleStatus,
  ContentBlock,
  CreditRecord,
  CreditRole,
  SectionRecord,
  TagRecord,
  TeaserKind,
  TeaserRecord,
} from './types.js';

type ArticleRow = Selectable<ArticlesTable>;

/**
 * The store over Kysely. Everything here is plain Kysely that compiles for
 * SQLite and PostgreSQL alike; what differs per engine (opening connections,
 * pragmas) lives in the function that builds the Kysely instance.
 */
export class SqlStore implements ContentStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly search: SearchIndex,
  ) {}

  async migrate(): Promise<void> {
    const { error, results } = await new Migrator({ db: this.db, provider: migrationProvider }).migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`migration ${failed} failed`, { cause: error });
    }
  }

  async isEmpty(): Promise<boolean> {
    const row = await this.db.selectFrom('articles').select('id').limit(1).executeTakeFirst();
    return row === undefined;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async findArticlesByIds({ ids, includeHidden = false }: { ids: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    const numeric = ids.map(Number).filter(Number.isSafeInteger);
    if (numeric.length === 0) return ids.map(() => null);
    const rows = await this.db
      .selectFrom('articles')
      .selectAll()
      .where('id', 'in', numeric)
      .where(filterCondition({ includeHidden }))
      .execute();
    const byId = new Map(rows.map((r) => [String(r.id), toArticle(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async findArticlesBySlugs({ slugs, includeHidden = false }: { slugs: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    if (slugs.length === 0) return [];
    const rows = await this.db
      .selectFrom('articles')
      .selectAll()
      .where('slug', 'in', [...slugs])
      .where(filterCondition({ includeHidden }))
      .execute();
    const bySlug = new Map(rows.map((r) => [r.slug, toArticle(r)]));
    return slugs.map((slug) => bySlug.get(slug) ?? null);
  }

  async listArticles({ filter, order = 'desc', after, until, limit }: ArticleListQuery): Promise<ArticleRecord[]> {
    let query = this.db.selectFrom('articles').selectAll().where(filterCondition(filter));
    if (after) query = query.where(keysetCondition(after, order, true));
    if (until) query = query.where(keysetCondition(until, order, false));
    const rows = await query.orderBy('published_at', order).orderBy('id', order).limit(limit).execute();
    return rows.map(toArticle);
  }

  async countArticles({ filter }: { filter?: ArticleFilterQuery }): Promise<number> {
    const row = await this.db
      .selectFrom('articles')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where(filterCondition(filter))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async searchArticles(query: SearchQuery): Promise<SearchMatch[]> {
    return (narrowsBeyondExclusions(query.filter) ? null : await this.searchIndexFirst(query)) ?? this.searchJoined(query);
  }

  /**
   * Ranks in the index alone and reads only the winners' rows. Exact: the
   * index returns `TIE_MARGIN` more rows than the page needs so ties on the
   * page's last score can be ordered by recency, and when the ties run past
   * even that, it gives up (null) and the joined query decides.
   */
  private async searchIndexFirst({ terms, mode, filter, after, limit }: SearchQuery): Promise<SearchMatch[] | null> {
    const window = limit + TIE_MARGIN;
    const top = await this.db
      .selectFrom(this.search.topMatches(terms, mode, { excludeIds: filter?.excludeIds, maxScore: after?.score, limit: window }).as('m'))
      .select(['m.article_id', 'm.score'])
      .execute();
    // Hidden articles are in the index too; reading the rows drops them (and a page left short falls back below).
    const articles = await this.findArticlesByIds({ ids: top.map((t) => String(t.article_id)), includeHidden: filter?.includeHidden });
    const matches: SearchMatch[] = [];
    top.forEach((t, i) => {
      const article = articles[i];
      if (!article) return;
      const score = Number(t.score);
      // Rows tied with the cursor's score that come before it in recency order were on earlier pages.
      if (after && score === after.score && compareKeys(article, after) >= 0) return;
      matches.push({ article, score });
    });
    matches.sort((a, b) => b.score - a.score || compareKeys(b.article, a.article));
    const page = matches.slice(0, limit);
    if (top.length === window) {
      const lowest = Number(top.at(-1)!.score);
      if (page.length < limit || page.at(-1)!.score === lowest) return null;
    }
    return page;
  }

  private async searchJoined({ terms, mode, filter, after, limit }: SearchQuery): Promise<SearchMatch[]> {
    let query = this.db
      .selectFrom(this.search.matches(terms, mode).as('m'))
      .innerJoin('articles', 'articles.id', 'm.article_id')
      .selectAll('articles')
      .select('m.score')
      .where(filterCondition(filter));
    if (after) {
      query = query.where(
        sql<SqlBool>`(m.score < ${after.score} OR (m.score = ${after.score} AND (articles.published_at, articles.id) < (${after.publishedAt}, ${Number(after.id)})))`,
      );
    }
    const rows = await query
      .orderBy('m.score', 'desc')
      .orderBy('articles.published_at', 'desc')
      .orderBy('articles.id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ article: toArticle(row), score: Number(row.score) }));
  }

  async countSearchMatches({ terms, mode, filter }: Pick<SearchQuery, 'terms' | 'mode' | 'filter'>): Promise<number> {
    let query = this.db.selectFrom(this.search.matchingIds(terms, mode).as('m'));
    if (narrowsBeyondExclusions(filter) || filter?.excludeIds?.length) {
      const row = await query
        .innerJoin('articles', 'articles.id', 'm.article_id')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where(filterCondition(filter))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    }
    // Without a filter the index counts alone, less the few hidden articles that match.
    const all = await query.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
    if (filter?.includeHidden) return Number(all.count);
    const hidden = await this.db
      .selectFrom(this.search.matchingIds(terms, mode).as('m'))
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where(sql<SqlBool>`m.article_id IN (${hiddenIds(Date.now())})`)
      .executeTakeFirstOrThrow();
    return Number(all.count) - Number(hidden.count);
  }

  async termDocumentFrequencies({ terms }: { terms: readonly string[] }): Promise<Map<string, number>> {
    const frequencies = new Map<string, number>();
    for (let i = 0; i < terms.length; i += 500) {
      const rows = await this.db
        .selectFrom('search_terms')
        .select(['term', 'articles'])
        .where('term', 'in', terms.slice(i, i + 500))
        .execute();
      for (const row of rows) frequencies.set(row.term, Number(row.articles));
    }
    return frequencies;
  }

  /**
   * Candidates are each of the article's tags' newest `TAG_CANDIDATES`
   * articles, one index range per tag; counting overlaps across every article
   * of a popular tag took 70–140 ms at 100,000 articles.
   */
  async listArticlesSharingTags({ articleId, limit }: { articleId: string; limit: number }): Promise<ArticleRecord[]> {
    if (limit <= 0) return [];
    const tags = await this.db.selectFrom('article_tags').select('tag_id').where('article_id', '=', Number(articleId)).execute();
    const shared = new Map<number, { count: number; publishedAt: number }>();
    for (const { tag_id } of tags) {
      const rows = await this.db
        .selectFrom('article_tags')
        .select(['article_id', 'published_at'])
        .where('tag_id', '=', tag_id)
        .where('article_id', '!=', Number(articleId))
        .orderBy('published_at', 'desc')
        .orderBy('article_id', 'desc')
        .limit(TAG_CANDIDATES)
        .execute();
      for (const row of rows) {
        const entry = shared.get(row.article_id) ?? { count: 0, publishedAt: Number(row.published_at) };
        entry.count++;
        shared.set(row.article_id, entry);
      }
    }
    const best = [...shared]
      .sort(([idA, a], [idB, b]) => b.count - a.count || b.publishedAt - a.publishedAt || idB - idA)
      .slice(0, limit)
      .map(([id]) => String(id));
    return (await this.findArticlesByIds({ ids: best })).filter((a): a is ArticleRecord => a !== null);
  }

  async listSections(): Promise<SectionRecord[]> {
    const rows = await this.db.selectFrom('sections').selectAll().orderBy('position').orderBy('id').execute();
    return rows.map((r) => ({
      id: String(r.id),
      slug: r.slug,
      name: r.name,
      parentId: r.parent_id === null ? null : String(r.parent_id),
      position: r.position,
    }));
  }

  async findCredits({ articleIds }: { articleIds: readonly string[] }): Promise<CreditRecord[][]> {
    const rows = articleIds.length
      ? await this.db
          .selectFrom('credits')
          .selectAll()
          .where('article_id', 'in', numericIds(articleIds))
          .orderBy('article_id')
          .orderBy('position')
          .execute()
      : [];
    return groupBy(articleIds, rows, (r) => String(r.article_id), (r) => ({
      role: r.role as CreditRole,
      label: r.label,
      name: r.name,
    }));
  }

  async findTags({ articleIds }: { articleIds: readonly string[] }): Promise<TagRecord[][]> {
    const rows = articleIds.length
      ? await this.db
          .selectFrom('article_tags')
          .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
          .select(['article_tags.article_id', 'tags.id', 'tags.slug', 'tags.name'])
          .where('article_tags.article_id', 'in', numericIds(articleIds))
          .orderBy('article_tags.article_id')
          .orderBy('article_tags.position')
          .execute()
      : [];
    return groupBy(articleIds, rows, (r) => String(r.article_id), (r) => ({
      id: String(r.id),
      slug: r.slug,
      name: r.name,
    }));
  }

  async findTeasers({ sectionIds, kind }: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]> {
    const rows = sectionIds.length
      ? await this.db
          .selectFrom('teasers')
          .selectAll()
          .where('section_id', 'in', numericIds(sectionIds))
          .where('kind', '=', kind)
          .orderBy('section_id')
          .orderBy('position')
          .execute()
      : [];
    return groupBy(sectionIds, rows, (r) => String(r.section_id), (r) => ({
      sectionId: String(r.section_id),
      kind,
      position: r.position,
      title: r.title,
      summary: r.summary,
      url: r.url,
      publishedAt: r.published_at === null ? null : Number(r.published_at),
      articleId: r.article_id === null ? null : String(r.article_id),
    }));
  }

  async savePage(page: ParsedPage): Promise<SavePageResult> {
    const [result] = await this.savePages([preparePage(page)]);
    return result!;
  }

  savePages(pages: readonly PreparedPage[]): Promise<SavePageResult[]> {
    return this.db.transaction().execute(async (trx) => {
      const cache: WriteCache = { sections: new Map(), tags: new Map(), termDeltas: new Map() };
      const results: SavePageResult[] = [];
      for (const page of pages) results.push(await this.writePage(trx, page, cache));
      await this.search.addTermCounts(trx, cache.termDeltas);
      return results;
    });
  }

  private async writePage(trx: Transaction<Database>, prepared: PreparedPage, cache: WriteCache): Promise<SavePageResult> {
    const { page } = prepared;
    const now = Date.now();
    const sectionId = await ensureSectionPath(trx, page.sectionPath, now, cache);
    const values = {
      slug: page.slug,
      title: page.title,
      source_name: page.sourceName,
      source_url: null,
      published_at: page.publishedAt,
      section_id: sectionId,
      body: prepared.bodyJson,
      excerpt: prepared.excerpt,
      word_count: prepared.wordCount,
      reading_minutes: prepared.readingMinutes,
    };
    const credits = JSON.stringify(page.credits);
    const existing = await trx.selectFrom('articles').selectAll().where('slug', '=', page.slug).executeTakeFirst();

    let articleId: number;
    let status: SavePageResult['status'];
    if (!existing) {
      const inserted = await trx
        .insertInto('articles')
        .values({ ...values, created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      articleId = inserted.id;
      status = 'created';
    } else {
      articleId = existing.id;
      const oldCredits = await creditsOf(trx, articleId);
      const oldTags = await tagNamesOf(trx, articleId);
      const same =
        (Object.keys(values) as (keyof typeof values)[]).every((k) => existing[k] === values[k]) &&
        JSON.stringify(oldCredits) === credits &&
        JSON.stringify(oldTags) === JSON.stringify(page.tags);
      status = same ? 'unchanged' : 'updated';
      if (!same) {
        await trx
          .updateTable('articles')
          .set((eb) => ({ ...values, updated_at: now, version: eb('version', '+', 1) }))
          .where('id', '=', articleId)
          .execute();
      }
    }

    if (status !== 'unchanged') {
      await this.search.write(trx, articleId, prepared.search, status === 'created');
      const count = (terms: readonly string[], delta: number) => {
        for (const term of terms) cache.termDeltas.set(term, (cache.termDeltas.get(term) ?? 0) + delta);
      };
      if (existing) count(searchDocument(existing.title, JSON.parse(existing.body) as ContentBlock[]).terms, -1);
      count(prepared.search.terms, 1);
      await trx.deleteFrom('credits').where('article_id', '=', articleId).execute();
      if (page.credits.length) {
        await trx
          .insertInto('credits')
          .values(page.credits.map((c, position) => ({ article_id: articleId, position, ...c })))
          .execute();
      }
      await trx.deleteFrom('article_tags').where('article_id', '=', articleId).execute();
      for (const [position, name] of page.tags.entries()) {
        const tagId = await ensureTag(trx, name, cache);
        await trx
          .insertInto('article_tags')
          .values({ article_id: articleId, tag_id: tagId, position, published_at: page.publishedAt })
          .execute();
      }
    }

    for (const kind of ['HOT', 'LATEST'] as const) {
      const teasers = page.teasers.filter((t) => t.kind === kind);
      if (teasers.length) await replaceTeasers(trx, sectionId, kind, teasers.map((t) => t.text), page.publishedAt);
    }
    return { articleId: String(articleId), slug: page.slug, status };
  }
}

async function creditsOf(trx: Transaction<Database>, articleId: number): Promise<CreditRecord[]> {
  const rows = await trx
    .selectFrom('credits')
    .select(['role', 'label', 'name'])
    .where('article_id', '=', articleId)
    .orderBy('position')
    .execute();
  return rows.map((r) => ({ role: r.role as CreditRole, label: r.label, name: r.name }));
}

async function tagNamesOf(trx: Transaction<Database>, articleId: number): Promise<string[]> {
  const rows = await trx
    .selectFrom('article_tags')
    .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
    .select('tags.name')
    .where('article_tags.article_id', '=', articleId)
    .orderBy('article_tags.position')
    .execute();
  return rows.map((r) => r.name);
}

/** Ids already looked up in this transaction: a bulk load names the same few sections and tags again and again. */
interface WriteCache {
  sections: Map<string, number>;
  tags: Map<string, number>;
  /** Changes to the term statistics, written once per transaction. */
  termDeltas: Map<string, number>;
}

/** Finds or creates each section of a breadcrumb under the one before it; returns the last one's id. */
async function ensureSectionPath(trx: Transaction<Database>, path: readonly string[], now: number, cache: WriteCache): Promise<number> {
  const key = path.join('\u0000');
  const known = cache.sections.get(key);
  if (known !== undefined) return known;
  let parentId: number | null = null;
  for (const name of path) {
    const parent: number | null = parentId;
    const found = await trx
      .selectFrom('sections')
      .select('id')
      .where('name', '=', name)
      .where((eb) => (parent === null ? eb('parent_id', 'is', null) : eb('parent_id', '=', parent)))
      .executeTakeFirst();
    if (found) {
      parentId = found.id;
      continue;
    }
    const { position } = await trx
      .selectFrom('sections')
      .select((eb) => eb.fn.coalesce(eb.fn.max('position'), sql<number>`-1`).as('position'))
      .where((eb) => (parent === null ? eb('parent_id', 'is', null) : eb('parent_id', '=', parent)))
      .executeTakeFirstOrThrow();
    const slug = await uniqueSlug(slugify(name), async (s) =>
      Boolean(await trx.selectFrom('sections').select('id').where('slug', '=', s).executeTakeFirst()),
    );
    const inserted = await trx
      .insertInto('sections')
      .values({ slug, name, parent_id: parent, position: Number(position) + 1, created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    parentId = inserted.id;
  }
  if (parentId === null) throw new Error('a section path needs at least one section');
  cache.sections.set(key, parentId);
  return parentId;
}

async function ensureTag(trx: Transaction<Database>, name: string, cache: WriteCache): Promise<number> {
  const known = cache.tags.get(name);
  if (known !== undefined) return known;
  const found = await trx.selectFrom('tags').select('id').where('name', '=', name).executeTakeFirst();
  if (found) {
    cache.tags.set(name, found.id);
    return found.id;
  }
  const slug = await uniqueSlug(slugify(name), async (s) =>
    Boolean(await trx.selectFrom('tags').select('id').where('slug', '=', s).executeTakeFirst()),
  );
  const inserted = await trx.insertInto('tags').values({ slug, name }).returning('id').executeTakeFirstOrThrow();
  cache.tags.set(name, inserted.id);
  return inserted.id;
}

/**
 * An imported page's teaser module is a snapshot of the portal's list when
 * the page was scraped. The newest snapshot wins, so re-importing an older
 * page never brings back an older list.
 */
async function replaceTeasers(
  trx: Transaction<Database>,
  sectionId: number,
  kind: TeaserKind,
  texts: readonly string[],
  curatedAt: number,
): Promise<void> {
  const current = await trx
    .selectFrom('teasers')
    .select((eb) => eb.fn.max('curated_at').as('curated_at'))
    .where('section_id', '=', sectionId)
    .where('kind', '=', kind)
    .executeTakeFirst();
  if (current?.curated_at != null && Number(current.curated_at) > curatedAt) return;
  await trx.deleteFrom('teasers').where('section_id', '=', sectionId).where('kind', '=', kind).execute();
  await trx
    .insertInto('teasers')
    .values(
      texts.map((summary, position) => ({
        section_id: sectionId,
        kind,
        position,
        title: null,
        summary,
        url: null,
        published_at: null,
        article_id: null,
        curated_at: curatedAt,
      })),
    )
    .execute();
}

async function uniqueSlug(base: string, taken: (slug: string) => Promise<boolean>): Promise<string> {
  let slug = base;
  for (let n = 2; await taken(slug); n++) slug = `${base}-${n}`;
  return slug;
}

function toArticle(row: ArticleRow): ArticleRecord {
  return {
    id: String(row.id),
    slug: row.slug,
    title: row.title,
    sourceName: row.source_name,
    sourceUrl: row.source_url,
    publishedAt: Number(row.published_at),
    sectionId: String(row.section_id),
    body: JSON.parse(row.body) as ContentBlock[],
    excerpt: row.excerpt,
    wordCount: row.word_count,
    readingMinutes: row.reading_minutes,
    version: row.version,
    status: row.status as ArticleStatus,
    deletedAt: row.deleted_at === null ? null : Number(row.deleted_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    createdBy: row.created_by,
    updatedBy: row.updated_by,
  };
}

/** How many of a tag's newest articles are considered as sharing it. */
const TAG_CANDIDATES = 200;

/** Extra index rows fetched so that ties at a page's end can be put in recency order. */
const TIE_MARGIN = 20;

/** Order of two positions by recency: positive when `a` is newer (later, or same time and higher id). */
function compareKeys(a: { publishedAt: number; id: string }, b: { publishedAt: number; id: string }): number {
  return a.publishedAt - b.publishedAt || Number(a.id) - Number(b.id);
}

function numericIds(ids: readonly string[]): number[] {
  return ids.map(Number).filter(Number.isSafeInteger);
}

function groupBy<Row, Item>(
  keys: readonly string[],
  rows: readonly Row[],
  keyOf: (row: Row) => string,
  toItem: (row: Row) => Item,
): Item[][] {
  const groups = new Map<string, Item[]>(keys.map((k) => [k, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(toItem(row));
  return keys.map((k) => groups.get(k) ?? []);
}
