import { Migrator, PostgresAdapter, sql, type Kysely, type Selectable, type SqlBool, type Transaction } from 'kysely';
import type { ParsedPage } from './page.js';
import { slugify } from '../text/slug.js';
import { migrationProvider } from './migrations/index.js';
import { filterCondition, keysetCondition, narrowsBeyondExclusions } from './sql-filters.js';
import { hiddenIds } from './visibility.js';
import type { SearchIndex } from './search-index.js';
import { ArticleNotFoundError, SectionCycleError, SectionNotFoundError, SlugTakenError, StoreNotEmptyError, VersionConflictError } from './errors.js';
import type { ContentTransfer } from './transfer.js';
import { deriveFields, preparePage, type DerivedFields, type PreparedPage } from './prepare-page.js';
import { searchDocument } from './search-document.js';
import { StatementShapes } from './statement-shapes.js';
import type {
  ArticleFilterQuery,
  ArticleListQuery,
  ContentStore,
  SavePageResult,
  SearchMatch,
  SearchQuery,
  StoreReadiness,
  PendingPurge,
} from './store.js';
import type { ArticlesTable, Database, SectionsTable } from './tables.js';
import type {
  ArticleRecord,
  ArticleSummary,
  ArticleRevisionRecord,
  ArticleSnapshot,
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
    /** The PostgreSQL schema the store lives in, when not the default: Kysely looks for its migration tables by schema. */
    private readonly schema?: string,
    /** SQLite only: why the store is open read-only now (its file cannot be written), or null when it takes writes. */
    private readonly readOnlyNow: () => string | null = () => null,
  ) {
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    this.shapes = new StatementShapes(db);
  }

  /** The per-page statements, compiled once per shape. */
  private readonly shapes: StatementShapes<Database>;

  /** PostgreSQL, or else SQLite: where the two differ in locking and maintenance, not in queries. */
  private readonly postgres: boolean;

  private migrator(): Migrator {
    return new Migrator({ db: this.db, provider: migrationProvider, ...(this.schema ? { migrationTableSchema: this.schema } : {}) });
  }

  /**
   * Runs every pending migration. Safe when several instances start at once:
   * on SQLite, where Kysely's migration lock does nothing across processes,
   * the whole run is one immediate transaction, so the others wait for the
   * write lock, then find the migrations done; a failed run leaves nothing.
   * (On PostgreSQL, Kysely takes an advisory lock.) A store opened read-only
   * is only checked: it serves reads if every migration has run, and refuses
   * to start otherwise.
   */
  private get readOnly(): string | null {
    return this.readOnlyNow();
  }

  async migrate(): Promise<void> {
    if (this.readOnly !== null) {
      const pending = await this.pendingMigrations();
      if (pending.length) throw new Error(`${this.readOnly}, and migrations ${pending.join(', ')} have not run: run them once where the store can be written`);
      return;
    }
    const sqlite = !this.postgres;
    if (sqlite) await sql`begin immediate`.execute(this.db);
    try {
      const { error, results } = await this.migrator().migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
        throw new Error(`migration ${failed} failed`, { cause: error });
      }
      if (sqlite) await sql`commit`.execute(this.db);
    } catch (error) {
      if (sqlite) await sql`rollback`.execute(this.db).catch(() => undefined);
      throw error;
    }
  }

  async checkReady(): Promise<StoreReadiness> {
    const pending = await this.pendingMigrations();
    if (pending.length) throw new Error(`migrations not run: ${pending.join(', ')}`);
    if (this.readOnly !== null) return { writable: false, reason: this.readOnly };
    if (this.postgres) {
      // A standby (after a failover, say) or a database set read-only answers reads and refuses every write (25006).
      const { rows } = await sql<{ readOnly: string }>`SELECT current_setting('transaction_read_only') AS "readOnly"`.execute(this.db);
      if (rows[0]?.readOnly === 'on') return { writable: false, reason: 'the store is read-only: the PostgreSQL server takes no writes (a standby, or default_transaction_read_only)' };
    }
    return { writable: true };
  }

  private async pendingMigrations(): Promise<string[]> {
    const migrations = await this.migrator().getMigrations();
    return migrations.filter((m) => !m.executedAt).map((m) => m.name);
  }

  async isEmpty(): Promise<boolean> {
    const row = await this.db.selectFrom('articles').select('id').limit(1).executeTakeFirst();
    return row === undefined;
  }

  async withStartupLock<T>(work: () => Promise<T>): Promise<T> {
    // SQLite: every write transaction is immediate, so seeding is already taken in turn, and a
    // second seeding finds every page unchanged. PostgreSQL: two instances inserting the same
    // seed page would collide on its slug, so the whole seeding holds a session advisory lock,
    // keyed by schema, on a connection of its own (PG_POOL_SIZE is at least 2 for this).
    if (!this.postgres) return work();
    return this.db.connection().execute(async (connection) => {
      const key = sql`hashtext('newsgraph start-up ' || current_schema())`;
      await sql`SELECT pg_advisory_lock(${key})`.execute(connection);
      try {
        return await work();
      } finally {
        await sql`SELECT pg_advisory_unlock(${key})`.execute(connection);
      }
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async findArticlesByIds({ ids, includeHidden = false }: { ids: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    const numeric = ids.map(Number).filter(Number.isSafeInteger);
    if (numeric.length === 0) return ids.map(() => null);
    const rows = await this.articlesWhere('id', numeric, includeHidden);
    const byId = new Map(rows.map((r) => [String(r.id), toArticle(r)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async findArticlesBySlugs({ slugs, includeHidden = false }: { slugs: readonly string[]; includeHidden?: boolean }): Promise<(ArticleRecord | null)[]> {
    if (slugs.length === 0) return [];
    const rows = await this.articlesWhere('slug', slugs, includeHidden);
    const bySlug = new Map(rows.map((r) => [r.slug, toArticle(r)]));
    return slugs.map((slug) => bySlug.get(slug) ?? null);
  }

  /** Whole rows of the articles whose `column` is in `keys` (and that the public may see now, unless `includeHidden`). */
  private articlesWhere(column: 'id' | 'slug', keys: readonly (number | string)[], includeHidden: boolean): Promise<ArticleRow[]> {
    const values = includeHidden ? keys : [...keys, Date.now()];
    return this.shapes.rows(`articles by ${column} ${includeHidden ? 'all' : 'visible'} ${keys.length}`, values, (v) =>
      this.db
        .selectFrom('articles')
        .selectAll()
        .where(column, 'in', v.slice(0, keys.length) as never[])
        .where(filterCondition({ includeHidden }, v[keys.length])),
    );
  }

  async listArticles(query: ArticleListQuery): Promise<ArticleRecord[]> {
    const rows = await this.articleList(query).selectAll().execute();
    return rows.map(toArticle);
  }

  async listArticleSummaries(query: ArticleListQuery): Promise<ArticleSummary[]> {
    const rows = await this.articleList(query).select(SUMMARY_COLUMNS).execute();
    return rows.map(toSummary);
  }

  private articleList({ filter, order = 'desc', after, until, limit }: ArticleListQuery) {
    let query = this.db.selectFrom('articles').where(filterCondition(filter));
    if (after) query = query.where(keysetCondition(after, order, true));
    if (until) query = query.where(keysetCondition(until, order, false));
    return query.orderBy('published_at', order).orderBy('id', order).limit(limit);
  }

  /**
   * Counted as all matching articles less the hidden ones among them: the
   * visibility test needs each row's status, which no index the count can
   * use holds (checking it row by row took 230 ms at 100,000 articles),
   * while hidden articles are few and found through their own index.
   */
  async countArticles({ filter }: { filter?: ArticleFilterQuery }): Promise<number> {
    const all = this.db
      .selectFrom('articles')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where(filterCondition({ ...filter, includeHidden: true }));
    if (filter?.includeHidden) return Number((await all.executeTakeFirstOrThrow()).count);
    // Driven from the hidden ids, so the planner walks the few of them, not the table.
    const hidden = this.db
      .selectFrom(sql<{ id: number }>`(${hiddenIds(Date.now())})`.as('hidden'))
      .innerJoin('articles', 'articles.id', 'hidden.id')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where(filterCondition({ ...filter, includeHidden: true }));
    const [total, hiddenCount] = [await all.executeTakeFirstOrThrow(), await hidden.executeTakeFirstOrThrow()];
    return Number(total.count) - Number(hiddenCount.count);
  }

  async searchArticles(query: SearchQuery): Promise<SearchMatch[]> {
    // A full page from the leading tier is exact: every match outside the tier ranks below every
    // match in it, and within it the order (score, then recency) is the full ranking's.
    const leading = this.search.leadingMatches?.(query.terms, query.mode);
    if (leading) {
      const page = await this.searchJoined(query, leading);
      if (page.length === query.limit) return page;
    }
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

  private async searchJoined(
    { terms, mode, filter, after, limit }: SearchQuery,
    matches = this.search.matches(terms, mode),
  ): Promise<SearchMatch[]> {
    let query = this.db
      .selectFrom(matches.as('m'))
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
    return this.counting(async (db) => {
      const query = db.selectFrom(this.search.matchingIds(terms, mode).as('m'));
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
      const hidden = await db
        .selectFrom(this.search.matchingIds(terms, mode).as('m'))
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where(sql<SqlBool>`m.article_id IN (${hiddenIds(Date.now())})`)
        .executeTakeFirstOrThrow();
      return Number(all.count) - Number(hidden.count);
    });
  }

  /** Runs `work` after the search index's `beforeCounting` statements, in one transaction with them when there are any. */
  private async counting<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const before = this.search.beforeCounting;
    if (!before) return work(this.db);
    return this.db.transaction().execute(async (trx) => {
      await before.execute(trx);
      return work(trx);
    });
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
    const rows = await this.shapes.rows('sections', [], () => this.db.selectFrom('sections').selectAll().orderBy('position').orderBy('id'));
    return rows.map(toSection);
  }

  async findCredits({ articleIds }: { articleIds: readonly string[] }): Promise<CreditRecord[][]> {
    const ids = numericIds(articleIds);
    const rows = ids.length
      ? await this.shapes.rows(`credits ${ids.length}`, ids, (v) =>
          this.db
            .selectFrom('credits')
            .selectAll()
            .where('article_id', 'in', v as number[])
            .orderBy('article_id')
            .orderBy('position'),
        )
      : [];
    return groupBy(articleIds, rows, (r) => String(r.article_id), (r) => ({
      role: r.role as CreditRole,
      label: r.label,
      name: r.name,
    }));
  }

  async findTags({ articleIds }: { articleIds: readonly string[] }): Promise<TagRecord[][]> {
    const ids = numericIds(articleIds);
    const rows = ids.length
      ? await this.shapes.rows(`tags ${ids.length}`, ids, (v) =>
          this.db
            .selectFrom('article_tags')
            .innerJoin('tags', 'tags.id', 'article_tags.tag_id')
            .select(['article_tags.article_id', 'tags.id', 'tags.slug', 'tags.name'])
            .where('article_tags.article_id', 'in', v as number[])
            .orderBy('article_tags.article_id')
            .orderBy('article_tags.position'),
        )
      : [];
    return groupBy(articleIds, rows, (r) => String(r.article_id), (r) => ({
      id: String(r.id),
      slug: r.slug,
      name: r.name,
    }));
  }

  async findTeasers({ sectionIds, kind }: { sectionIds: readonly string[]; kind: TeaserKind }): Promise<TeaserRecord[][]> {
    const ids = numericIds(sectionIds);
    const rows = ids.length
      ? await this.shapes.rows(`teasers ${ids.length}`, [kind, ...ids], (v) =>
          this.db
            .selectFrom('teasers')
            .selectAll()
            .where('section_id', 'in', v.slice(1) as number[])
            .where('kind', '=', v[0] as TeaserKind)
            .orderBy('section_id')
            .orderBy('position'),
        )
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
      const cache = newWriteCache();
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
    const content = {
      slug: page.slug,
      title: page.title,
      sourceName: page.sourceName,
      sourceUrl: null,
      publishedAt: page.publishedAt,
      sectionId: String(sectionId),
      body: page.body,
      credits: page.credits,
      tags: page.tags,
    };
    const existing = await trx.selectFrom('articles').selectAll().where('slug', '=', page.slug).executeTakeFirst();

    if (!existing) {
      const inserted = await trx
        .insertInto('articles')
        .values({ ...contentColumns(content), ...derivedColumns(prepared), status: 'PUBLISHED', created_at: now, updated_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.writeDetails(trx, inserted.id, content, prepared, null, cache);
      await replaceTeasersOf(trx, page, sectionId);
      return { articleId: String(inserted.id), slug: page.slug, status: 'created' };
    }

    const before = await snapshotOf(trx, existing);
    const same = contentKey(before) === contentKey(content);
    if (!same) {
      // A re-imported page that changed is an edit like any other: the old state is kept as a revision.
      await trx
        .insertInto('article_revisions')
        .values({ article_id: existing.id, version: existing.version, snapshot: JSON.stringify(before), created_at: now, created_by: null })
        .execute();
      await trx
        .updateTable('articles')
        .set((eb) => ({ ...contentColumns(content), ...derivedColumns(prepared), updated_at: now, updated_by: null, version: eb('version', '+', 1) }))
        .where('id', '=', existing.id)
        .execute();
      await this.writeDetails(trx, existing.id, content, prepared, before, cache);
    }
    await replaceTeasersOf(trx, page, sectionId);
    return { articleId: String(existing.id), slug: page.slug, status: same ? 'unchanged' : 'updated' };
  }

  createArticle({ content, by }: { content: Omit<ArticleSnapshot, 'status' | 'deletedAt'>; by: string }): Promise<ArticleRecord> {
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      await assertSectionExists(trx, content.sectionId);
      await assertSlugFree(trx, content.slug, null);
      const derived = deriveFields(content.title, content.body);
      const inserted = await trx
        .insertInto('articles')
        .values({
          ...contentColumns(content),
          ...derivedColumns(derived),
          status: 'DRAFT',
          created_at: now,
          updated_at: now,
          created_by: by,
          updated_by: by,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const cache = newWriteCache();
      await this.writeDetails(trx, inserted.id, content, derived, null, cache);
      await this.search.addTermCounts(trx, cache.termDeltas);
      return toArticle(await trx.selectFrom('articles').selectAll().where('id', '=', inserted.id).executeTakeFirstOrThrow());
    });
  }

  changeArticle({
    id,
    expectedVersion,
    change,
    by,
  }: {
    id: string;
    expectedVersion: number;
    change: Partial<ArticleSnapshot>;
    by: string;
  }): Promise<ArticleRecord> {
    const articleId = Number(id);
    if (!Number.isSafeInteger(articleId)) return Promise.reject(new ArticleNotFoundError(id));
    return this.db.transaction().execute(async (trx) => {
      const now = Date.now();
      // The version check is the transaction's first statement and a write: it takes the write lock at
      // once, so two editors saving from the same version queue here and the second finds it moved.
      const guard = await trx
        .updateTable('articles')
        .set({ version: expectedVersion + 1, updated_at: now, updated_by: by })
        .where('id', '=', articleId)
        .where('version', '=', expectedVersion)
        .executeTakeFirst();
      if (Number(guard.numUpdatedRows) !== 1) {
        const current = await trx.selectFrom('articles').select('version').where('id', '=', articleId).executeTakeFirst();
        if (!current) throw new ArticleNotFoundError(id);
        throw new VersionConflictError(id, expectedVersion, current.version);
      }
      const row = await trx.selectFrom('articles').selectAll().where('id', '=', articleId).executeTakeFirstOrThrow();
      const before = await snapshotOf(trx, row);
      const after: ArticleSnapshot = { ...before, ...change };
      if (after.sectionId !== before.sectionId) await assertSectionExists(trx, after.sectionId);
      if (after.slug !== before.slug) await assertSlugFree(trx, after.slug, articleId);
      await trx
        .insertInto('article_revisions')
        .values({ article_id: articleId, version: expectedVersion, snapshot: JSON.stringify(before), created_at: now, created_by: by })
        .execute();

      const textChanged = after.title !== before.title || JSON.stringify(after.body) !== JSON.stringify(before.body);
      const derived = textChanged ? deriveFields(after.title, after.body) : null;
      await trx
        .updateTable('articles')
        .set({
          ...contentColumns(after),
          ...(derived ? derivedColumns(derived) : {}),
          status: after.status,
          deleted_at: after.deletedAt,
        })
        .where('id', '=', articleId)
        .execute();
      const detailsChanged =
        derived !== null ||
        after.publishedAt !== before.publishedAt ||
        JSON.stringify([after.credits, after.tags]) !== JSON.stringify([before.credits, before.tags]);
      if (detailsChanged) {
        const cache = newWriteCache();
        await this.writeDetails(trx, articleId, after, derived, before, cache);
        await this.search.addTermCounts(trx, cache.termDeltas);
      }
      return toArticle(await trx.selectFrom('articles').selectAll().where('id', '=', articleId).executeTakeFirstOrThrow());
    });
  }

  createSection({ name, slug, parentId }: { name: string; slug: string; parentId: string }): Promise<SectionRecord> {
    return this.db.transaction().execute(async (trx) => {
      const parent = await sectionRow(trx, parentId);
      if (await trx.selectFrom('sections').select('id').where('slug', '=', slug).executeTakeFirst()) {
        throw new SlugTakenError(slug, 'section');
      }
      const { position } = await trx
        .selectFrom('sections')
        .select((eb) => eb.fn.coalesce(eb.fn.max('position'), sql<number>`-1`).as('position'))
        .where('parent_id', '=', parent.id)
        .executeTakeFirstOrThrow();
      const inserted = await trx
        .insertInto('sections')
        .values({ slug, name, parent_id: parent.id, position: Number(position) + 1, created_at: Date.now() })
        .returning('id')
        .executeTakeFirstOrThrow();
      return toSection(await sectionRow(trx, String(inserted.id)));
    });
  }

  updateSection({ id, name, slug }: { id: string; name?: string; slug?: string }): Promise<SectionRecord> {
    return this.db.transaction().execute(async (trx) => {
      const section = await sectionRow(trx, id);
      if (slug !== undefined && slug !== section.slug) {
        if (await trx.selectFrom('sections').select('id').where('slug', '=', slug).executeTakeFirst()) {
          throw new SlugTakenError(slug, 'section');
        }
      }
      await trx
        .updateTable('sections')
        .set({ name: name ?? section.name, slug: slug ?? section.slug })
        .where('id', '=', section.id)
        .execute();
      return toSection(await sectionRow(trx, id));
    });
  }

  moveSection({ id, parentId }: { id: string; parentId: string }): Promise<SectionRecord> {
    return this.db.transaction().execute(async (trx) => {
      const section = await sectionRow(trx, id);
      const parent = await sectionRow(trx, parentId);
      // Walk up from the new parent: meeting the section itself would make a cycle.
      for (let at: number | null = parent.id; at !== null; ) {
        if (at === section.id) throw new SectionCycleError(id, parentId);
        const up: { parent_id: number | null } | undefined = await trx
          .selectFrom('sections')
          .select('parent_id')
          .where('id', '=', at)
          .executeTakeFirst();
        at = up?.parent_id ?? null;
      }
      const { position } = await trx
        .selectFrom('sections')
        .select((eb) => eb.fn.coalesce(eb.fn.max('position'), sql<number>`-1`).as('position'))
        .where('parent_id', '=', parent.id)
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('sections')
        .set({ parent_id: parent.id, position: Number(position) + 1 })
        .where('id', '=', section.id)
        .execute();
      return toSection(await sectionRow(trx, id));
    });
  }

  setTeasers({
    sectionId,
    kind,
    items,
  }: {
    sectionId: string;
    kind: TeaserKind;
    items: readonly Pick<TeaserRecord, 'title' | 'summary' | 'url' | 'articleId'>[];
  }): Promise<TeaserRecord[]> {
    return this.db.transaction().execute(async (trx) => {
      const section = await sectionRow(trx, sectionId);
      const now = Date.now();
      await trx.deleteFrom('teasers').where('section_id', '=', section.id).where('kind', '=', kind).execute();
      if (items.length) {
        await trx
          .insertInto('teasers')
          .values(
            items.map((item, position) => ({
              section_id: section.id,
              kind,
              position,
              title: item.title,
              summary: item.summary,
              url: item.url,
              published_at: null,
              article_id: item.articleId === null ? null : Number(item.articleId),
              curated_at: now,
            })),
          )
          .execute();
      }
      return items.map((item, position) => ({ ...item, sectionId, kind, position, publishedAt: null }));
    });
  }

  async listRevisions({ articleId }: { articleId: string }): Promise<ArticleRevisionRecord[]> {
    const id = Number(articleId);
    if (!Number.isSafeInteger(id)) return [];
    const rows = await this.db
      .selectFrom('article_revisions')
      .selectAll()
      .where('article_id', '=', id)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((r) => ({
      articleId: String(r.article_id),
      version: r.version,
      snapshot: JSON.parse(r.snapshot) as ArticleSnapshot,
      replacedAt: Number(r.created_at),
      replacedBy: r.created_by,
    }));
  }

  /**
   * What hangs off an article's row: its search index entry and term
   * statistics (when the text changed, `derived` is given), credits and tags.
   */
  /** The whole content, as `transfer.ts` describes; read a page of 500 articles at a time. */
  async *exportContent(): AsyncGenerator<ContentTransfer> {
    const sections = await this.db.selectFrom('sections').selectAll().orderBy('position').orderBy('id').execute();
    // Parents first, so the records can be written back in the order they are read.
    const children = new Map<number | null, typeof sections>();
    for (const section of sections) children.set(section.parent_id, [...(children.get(section.parent_id) ?? []), section]);
    const queue = [...(children.get(null) ?? [])];
    while (queue.length) {
      const s = queue.shift()!;
      yield { type: 'section', id: String(s.id), parentId: s.parent_id === null ? null : String(s.parent_id), slug: s.slug, name: s.name, position: Number(s.position), createdAt: Number(s.created_at) };
      queue.push(...(children.get(s.id) ?? []));
    }
    for (const t of await this.db.selectFrom('tags').selectAll().orderBy('id').execute()) {
      yield { type: 'tag', id: String(t.id), slug: t.slug, name: t.name };
    }
    for (let after = 0; ; ) {
      const rows = await this.db.selectFrom('articles').selectAll().where('id', '>', after).orderBy('id').limit(500).execute();
      if (rows.length === 0) break;
      const ids = rows.map((r) => r.id);
      const group = <T extends { article_id: number }>(items: T[]) => {
        const by = new Map<number, T[]>();
        for (const item of items) by.set(item.article_id, [...(by.get(item.article_id) ?? []), item]);
        return by;
      };
      const credits = group(await this.db.selectFrom('credits').selectAll().where('article_id', 'in', ids).orderBy('article_id').orderBy('position').execute());
      const tags = group(await this.db.selectFrom('article_tags').selectAll().where('article_id', 'in', ids).orderBy('article_id').orderBy('position').execute());
      const revisions = group(await this.db.selectFrom('article_revisions').selectAll().where('article_id', 'in', ids).orderBy('article_id').orderBy('version').execute());
      for (const r of rows) {
        yield {
          type: 'article',
          id: String(r.id),
          slug: r.slug,
          title: r.title,
          sourceName: r.source_name,
          sourceUrl: r.source_url,
          publishedAt: Number(r.published_at),
          sectionId: String(r.section_id),
          body: JSON.parse(r.body) as ContentBlock[],
          status: r.status as ArticleStatus,
          deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
          version: Number(r.version),
          createdAt: Number(r.created_at),
          updatedAt: Number(r.updated_at),
          createdBy: r.created_by,
          updatedBy: r.updated_by,
          credits: (credits.get(r.id) ?? []).map((c) => ({ role: c.role as CreditRecord['role'], label: c.label, name: c.name })),
          tagIds: (tags.get(r.id) ?? []).map((t) => String(t.tag_id)),
          revisions: (revisions.get(r.id) ?? []).map((v) => ({
            version: Number(v.version),
            snapshot: JSON.parse(v.snapshot) as ArticleSnapshot,
            replacedAt: Number(v.created_at),
            replacedBy: v.created_by,
          })),
        };
      }
      after = rows[rows.length - 1]!.id;
    }
    const teasers = await this.db.selectFrom('teasers').selectAll().orderBy('section_id').orderBy('kind').orderBy('position').execute();
    const lists = new Map<string, typeof teasers>();
    for (const t of teasers) lists.set(`${t.section_id}:${t.kind}`, [...(lists.get(`${t.section_id}:${t.kind}`) ?? []), t]);
    for (const items of lists.values()) {
      const first = items[0]!;
      yield {
        type: 'teasers',
        sectionId: String(first.section_id),
        kind: first.kind as TeaserKind,
        curatedAt: Number(first.curated_at),
        items: items.map((t) => ({
          title: t.title,
          summary: t.summary,
          url: t.url,
          publishedAt: t.published_at === null ? null : Number(t.published_at),
          articleId: t.article_id === null ? null : String(t.article_id),
        })),
      };
    }
  }

  /**
   * Writes exported content into this store, which must hold no article and
   * no section yet, in one transaction: all of it or, on any failure, none.
   * Ids are kept; excerpts, counts, the search index and term statistics
   * are derived again.
   */
  async importContent(records: AsyncIterable<ContentTransfer>): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('sections').select('id').limit(1).executeTakeFirst();
      if (existing || (await trx.selectFrom('articles').select('id').limit(1).executeTakeFirst())) {
        throw new StoreNotEmptyError();
      }
      const cache = newWriteCache();
      for await (const record of records) {
        if (record.type === 'section') {
          await trx
            .insertInto('sections')
            .values({ id: Number(record.id), parent_id: record.parentId === null ? null : Number(record.parentId), slug: record.slug, name: record.name, position: record.position, created_at: record.createdAt })
            .execute();
        } else if (record.type === 'tag') {
          await trx.insertInto('tags').values({ id: Number(record.id), slug: record.slug, name: record.name }).execute();
        } else if (record.type === 'article') {
          const id = Number(record.id);
          const derived = deriveFields(record.title, record.body);
          await trx
            .insertInto('articles')
            .values({
              id,
              ...contentColumns(record),
              ...derivedColumns(derived),
              status: record.status,
              deleted_at: record.deletedAt,
              version: record.version,
              created_at: record.createdAt,
              updated_at: record.updatedAt,
              created_by: record.createdBy,
              updated_by: record.updatedBy,
            })
            .execute();
          await this.search.write(trx, id, derived.search, true);
          for (const term of derived.search.terms) cache.termDeltas.set(term, (cache.termDeltas.get(term) ?? 0) + 1);
          if (record.credits.length) {
            await trx
              .insertInto('credits')
              .values(record.credits.map((c, position) => ({ article_id: id, position, role: c.role, label: c.label, name: c.name })))
              .execute();
          }
          if (record.tagIds.length) {
            await trx
              .insertInto('article_tags')
              .values(record.tagIds.map((tagId, position) => ({ article_id: id, tag_id: Number(tagId), position, published_at: record.publishedAt })))
              .execute();
          }
          for (const revision of record.revisions) {
            await trx
              .insertInto('article_revisions')
              .values({ article_id: id, version: revision.version, snapshot: JSON.stringify(revision.snapshot), created_at: revision.replacedAt, created_by: revision.replacedBy })
              .execute();
          }
        } else {
          await trx
            .insertInto('teasers')
            .values(
              record.items.map((item, position) => ({
                section_id: Number(record.sectionId),
                kind: record.kind,
                position,
                title: item.title,
                summary: item.summary,
                url: item.url,
                published_at: item.publishedAt,
                article_id: item.articleId === null ? null : Number(item.articleId),
                curated_at: record.curatedAt,
              })),
            )
            .execute();
        }
      }
      await this.search.addTermCounts(trx, cache.termDeltas);
      // PostgreSQL's serial columns do not notice ids written explicitly: move each sequence past them.
      if (this.postgres) {
        for (const table of ['sections', 'articles', 'tags']) {
          await sql`SELECT setval(pg_get_serial_sequence(${table}, 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM ${sql.table(table)}), false)`.execute(trx);
        }
      }
    });
    if (this.postgres) {
      // Fresh statistics for the planner, and the visibility map that lets counts read an index
      // alone, rather than wait for autovacuum: on a freshly loaded 100,000-article store, a page
      // of the article list took 134 ms before ANALYZE and 17 ms after, and counting the articles
      // 30 ms before VACUUM and 9.5 ms after. (VACUUM cannot run inside a transaction.) Only the
      // store's own tables: others may share the database.
      const tables = ['sections', 'tags', 'articles', 'article_search', 'credits', 'article_tags', 'article_revisions', 'teasers', 'search_terms'];
      await sql`VACUUM (ANALYZE) ${sql.join(tables.map((table) => sql.table(table)))}`.execute(this.db);
    }
  }

  private async writeDetails(
    trx: Transaction<Database>,
    articleId: number,
    content: Pick<ArticleSnapshot, 'publishedAt' | 'credits' | 'tags'>,
    derived: DerivedFields | null,
    before: Pick<ArticleSnapshot, 'title' | 'body'> | null,
    cache: WriteCache,
  ): Promise<void> {
    if (derived) {
      await this.search.write(trx, articleId, derived.search, before === null);
      const count = (terms: readonly string[], delta: number) => {
        for (const term of terms) cache.termDeltas.set(term, (cache.termDeltas.get(term) ?? 0) + delta);
      };
      if (before) count(searchDocument(before.title, before.body).terms, -1);
      count(derived.search.terms, 1);
    }
    await trx.deleteFrom('credits').where('article_id', '=', articleId).execute();
    if (content.credits.length) {
      await trx
        .insertInto('credits')
        .values(content.credits.map((c, position) => ({ article_id: articleId, position, role: c.role, label: c.label, name: c.name })))
        .execute();
    }
    await trx.deleteFrom('article_tags').where('article_id', '=', articleId).execute();
    for (const [position, name] of content.tags.entries()) {
      const tagId = await ensureTag(trx, name, cache);
      await trx
        .insertInto('article_tags')
        .values({ article_id: articleId, tag_id: tagId, position, published_at: content.publishedAt })
        .execute();
    }
  }

  async recordPendingPurge({ tags }: { tags: readonly string[] | 'all' }): Promise<void> {
    await this.db
      .insertInto('pending_purges')
      .values({ tags: JSON.stringify(tags === 'all' ? ['*'] : tags), created_at: Date.now() })
      .execute();
  }

  async listPendingPurges(): Promise<PendingPurge[]> {
    const rows = await this.db.selectFrom('pending_purges').select(['id', 'tags']).orderBy('id').limit(1000).execute();
    return rows.map((row) => {
      const tags = JSON.parse(row.tags) as string[];
      return { id: row.id, tags: tags.includes('*') ? 'all' : tags };
    });
  }

  async forgetPendingPurges({ ids }: { ids: readonly number[] }): Promise<void> {
    if (ids.length === 0) return;
    await this.db.deleteFrom('pending_purges').where('id', 'in', [...ids]).execute();
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

/**
 * What the writes of one transaction share: section and tag ids already
 * looked up (a bulk load names the same few again and again) and the changes
 * to the term statistics, written once at the end.
 */
interface WriteCache {
  sections: Map<string, number>;
  tags: Map<string, number>;
  /** Changes to the term statistics, written once per transaction. */
  termDeltas: Map<string, number>;
}

/** What a page says about an article, as one comparable string (editorial state left out). */
function contentKey(c: Omit<ArticleSnapshot, 'status' | 'deletedAt'>): string {
  return JSON.stringify([c.slug, c.title, c.sourceName, c.sourceUrl, c.publishedAt, c.sectionId, c.body, c.credits, c.tags]);
}

function newWriteCache(): WriteCache {
  return { sections: new Map(), tags: new Map(), termDeltas: new Map() };
}

type ContentColumns = Pick<ArticleRow, 'slug' | 'title' | 'source_name' | 'source_url' | 'published_at' | 'section_id'>;

function contentColumns(content: Omit<ArticleSnapshot, 'body' | 'credits' | 'tags' | 'status' | 'deletedAt'>): ContentColumns {
  return {
    slug: content.slug,
    title: content.title,
    source_name: content.sourceName,
    source_url: content.sourceUrl,
    published_at: content.publishedAt,
    section_id: Number(content.sectionId),
  };
}

function derivedColumns(derived: DerivedFields) {
  return {
    body: derived.bodyJson,
    excerpt: derived.excerpt,
    word_count: derived.wordCount,
    reading_minutes: derived.readingMinutes,
  };
}

/** The editable state of a stored article, as a revision keeps it. */
async function snapshotOf(trx: Transaction<Database>, row: ArticleRow): Promise<ArticleSnapshot> {
  const { slug, title, sourceName, sourceUrl, publishedAt, sectionId, body, status, deletedAt } = toArticle(row);
  return {
    slug,
    title,
    sourceName,
    sourceUrl,
    publishedAt,
    sectionId,
    body,
    credits: await creditsOf(trx, row.id),
    tags: await tagNamesOf(trx, row.id),
    status,
    deletedAt,
  };
}

async function assertSectionExists(trx: Transaction<Database>, sectionId: string): Promise<void> {
  const id = Number(sectionId);
  const found = Number.isSafeInteger(id) && (await trx.selectFrom('sections').select('id').where('id', '=', id).executeTakeFirst());
  if (!found) throw new SectionNotFoundError(sectionId);
}

async function assertSlugFree(trx: Transaction<Database>, slug: string, ownId: number | null): Promise<void> {
  const other = await trx.selectFrom('articles').select('id').where('slug', '=', slug).executeTakeFirst();
  if (other && other.id !== ownId) throw new SlugTakenError(slug);
}

async function replaceTeasersOf(trx: Transaction<Database>, page: ParsedPage, sectionId: number): Promise<void> {
  for (const kind of ['HOT', 'LATEST'] as const) {
    const teasers = page.teasers.filter((t) => t.kind === kind);
    if (teasers.length) await replaceTeasers(trx, sectionId, kind, teasers.map((t) => t.text), page.publishedAt);
  }
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

function toSection(row: Selectable<SectionsTable>): SectionRecord {
  return {
    id: String(row.id),
    slug: row.slug,
    name: row.name,
    parentId: row.parent_id === null ? null : String(row.parent_id),
    position: row.position,
  };
}

async function sectionRow(trx: Transaction<Database>, sectionId: string): Promise<Selectable<SectionsTable>> {
  const id = Number(sectionId);
  const row = Number.isSafeInteger(id) ? await trx.selectFrom('sections').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
  if (!row) throw new SectionNotFoundError(sectionId);
  return row;
}

/**
 * An article row as a record. The body is parsed from its JSON when first
 * read: lists and teasers (a section page, the 热点 fallback of newest
 * articles) read whole rows but show no body, and parsing bodies they never
 * show was a measurable part of an uncached article page.
 */
function toArticle(row: ArticleRow): ArticleRecord {
  let body: ContentBlock[] | undefined;
  return {
    ...toSummary(row),
    get body() {
      return (body ??= JSON.parse(row.body) as ContentBlock[]);
    },
  };
}

/** Every column of `articles` but the body. */
const SUMMARY_COLUMNS = [
  'id',
  'slug',
  'title',
  'source_name',
  'source_url',
  'published_at',
  'section_id',
  'excerpt',
  'word_count',
  'reading_minutes',
  'version',
  'status',
  'deleted_at',
  'created_at',
  'updated_at',
  'created_by',
  'updated_by',
] as const satisfies readonly Exclude<keyof ArticleRow, 'body'>[];

function toSummary(row: Omit<ArticleRow, 'body'>): ArticleSummary {
  return {
    id: String(row.id),
    slug: row.slug,
    title: row.title,
    sourceName: row.source_name,
    sourceUrl: row.source_url,
    publishedAt: Number(row.published_at),
    sectionId: String(row.section_id),
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
