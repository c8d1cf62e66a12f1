import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEWEST_KEPT, SectionCache, SectionCachingStore } from '../src/data/decorators/section-cache.js';
import type { SectionRecord } from '../src/data/types.js';
import {
  ADMIN,
  addPage,
  beijingTime,
  createTestStore,
  EDITOR,
  type HttpTestServer,
  type SchemaAnswer,
  startHttpServer,
  type TestStore,
} from './helpers.js';

const ARTICLE_PAGE = `query ArticlePage($slug: String!) { article(slug: $slug) { title section { name path { name } }
  hot: related(kind: HOT, first: 6) { title } latest: related(kind: LATEST, first: 3) { title } } }`;
const TOKENS: Record<string, typeof EDITOR> = { 'editor-token': EDITOR, 'admin-token': ADMIN };

/** Statements that read what every page of a section shares. */
const SHARED = /from "sections"|from "teasers"/;

interface Page {
  title: string;
  section: { name: string };
  hot: { title: string }[];
  latest: { title: string }[];
}

// RESPONSE_CACHE_MB=0: no answer is kept, so every request runs and reads through the section cache.
describe('the section cache, with no response cache in front of it', () => {
  let t: HttpTestServer;
  const slugs: string[] = [];
  let sectionId: string;
  beforeAll(async () => {
    t = await startHttpServer({ env: { RESPONSE_CACHE_MB: '0' }, tokens: { verify: async (token) => TOKENS[token] ?? null } });
    for (let i = 0; i < 4; i++) {
      const { slug } = await addPage(t.store, {
        title: `分区缓存第${i}篇`,
        time: beijingTime(10 * (i + 1)),
        paragraphs: [`第${i}篇的正文。`],
      });
      slugs.push(slug);
    }
    sectionId = (await post(`{ section(slug: "yuanchuang") { id } }`)).data!.section.id;
  });
  afterAll(() => t.close());

  async function post<T = SchemaAnswer>(
    query: string,
    variables: Record<string, unknown> = {},
    token?: string,
  ): Promise<{ data?: T; errors?: unknown[] }> {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    expect(body.errors, JSON.stringify(body)).toBeUndefined();
    return body;
  }
  const page = async (slug: string): Promise<Page> => (await post<{ article: Page }>(ARTICLE_PAGE, { slug })).data!.article;
  const mutate = (query: string, variables: Record<string, unknown>, token = 'editor-token') => post(query, variables, token);

  it('reads the section tree, the teasers and the section’s newest articles once for every page of the section', async () => {
    await page(slugs[0]!);
    t.queries.length = 0;
    const second = await page(slugs[1]!);
    expect(t.queries.map((q) => q.sql).filter((sql) => SHARED.test(sql))).toEqual([]);
    // 最近更新 is the section's newest articles less the page's own: read once, filtered per page.
    expect(second.latest.map((i) => i.title)).toEqual(['分区缓存第3篇', '分区缓存第2篇', '分区缓存第0篇']);
    expect((await page(slugs[3]!)).latest.map((i) => i.title)).toEqual(['分区缓存第2篇', '分区缓存第1篇', '分区缓存第0篇']);
  });

  it('shows a new 热点 list, a renamed section and an edited teaser title at once', async () => {
    await page(slugs[0]!);
    await mutate(
      `mutation($s: ID!) { setHotItems(section: $s, items: [{ title: "编辑挑选的热点", url: "https://example.com/hot" }]) { items { title } } }`,
      {
        s: sectionId,
      },
    );
    expect((await page(slugs[0]!)).hot[0]!.title).toBe('编辑挑选的热点');

    await mutate(
      `mutation($id: ID!) { updateSection(id: $id, input: { name: "原创栏目" }) { section { name } } }`,
      { id: sectionId },
      'admin-token',
    );
    expect((await page(slugs[0]!)).section.name).toBe('原创栏目');

    // An article shown in another page's 最近更新 module, retitled.
    const { id, version } = (
      await post(`query($slug: String) { article(slug: $slug, preview: true) { id version } }`, { slug: slugs[3] }, 'editor-token')
    ).data!.article;
    await mutate(
      `mutation($id: ID!, $v: Int!) { updateArticle(id: $id, expectedVersion: $v, input: { title: "改了标题的第3篇" }) { article { version } } }`,
      {
        id,
        v: version,
      },
    );
    expect((await page(slugs[0]!)).latest[0]!.title).toBe('改了标题的第3篇');
  });

  it('shows a published article in its section’s modules at once, and drops a deleted one', async () => {
    expect((await page(slugs[0]!)).latest.map((i) => i.title)).not.toContain('分区缓存的新文章');
    const created = await mutate(`mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } } }`, {
      input: { title: '分区缓存的新文章', slug: 'section-cache-new', section: sectionId, body: [{ paragraph: '新文章正文。' }] },
    });
    const { id } = created.data!.createArticle.article;
    await mutate(`mutation($id: ID!) { publishArticle(id: $id, expectedVersion: 1) { article { version } } }`, { id });
    expect((await page(slugs[0]!)).latest[0]!.title).toBe('分区缓存的新文章');

    await mutate(`mutation($id: ID!) { deleteArticle(id: $id, expectedVersion: 2) { article { version } } }`, { id });
    expect((await page(slugs[0]!)).latest.map((i) => i.title)).not.toContain('分区缓存的新文章');
  });

  it('shows a scheduled article when its time comes, with no write at that moment', async () => {
    const created = await mutate(`mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } } }`, {
      input: { title: '分区缓存的定时文章', slug: 'section-cache-scheduled', section: sectionId, body: [{ paragraph: '定时。' }] },
    });
    const at = new Date(Date.now() + 1500).toISOString();
    await mutate(`mutation($id: ID!, $at: DateTime) { publishArticle(id: $id, expectedVersion: 1, at: $at) { article { version } } }`, {
      id: created.data!.createArticle.article.id,
      at,
    });
    expect((await page(slugs[0]!)).latest.map((i) => i.title)).not.toContain('分区缓存的定时文章');
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect((await page(slugs[0]!)).latest[0]!.title).toBe('分区缓存的定时文章');
  });

  it('reports its size in /metrics', async () => {
    const text = await (await fetch(`${t.base}/metrics`)).text();
    const records = Number(/^newsgraph_section_cache_records (\d+)$/m.exec(text)?.[1]);
    expect(records, text).toBeGreaterThan(0);
  });
});

describe('SECTION_CACHE_RECORDS=0', () => {
  it('turns the section cache off: every page reads the section tree again', async () => {
    const t = await startHttpServer({ env: { RESPONSE_CACHE_MB: '0', SECTION_CACHE_RECORDS: '0' } });
    try {
      const ask = async () => {
        t.queries.length = 0;
        const response = await fetch(t.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ articles(first: 1) { nodes { section { name } } } }' }),
        });
        const text = await response.text();
        expect(JSON.parse(text).data!.articles.nodes[0].section.name, text).toBe('原创');
        return t.queries.filter((q) => /from "sections"/.test(q.sql)).length;
      };
      expect(await ask()).toBe(1);
      expect(await ask()).toBe(1);
    } finally {
      await t.close();
    }
  });
});

describe('SectionCachingStore', () => {
  let t: TestStore;
  const ids: string[] = [];
  beforeAll(async () => {
    t = await createTestStore();
    for (let i = 0; i < 12; i++) {
      const { articleId } = await addPage(t.store, { title: `列表第${i}篇`, time: beijingTime(i + 1), paragraphs: [`正文${i}。`] });
      ids.push(articleId);
    }
  });
  afterAll(() => t.close());
  const sections = async () => (await t.store.listSections()).map((s) => s.id);

  it('answers every newest-articles list it takes exactly as the store does', async () => {
    const cached = new SectionCachingStore(t.store, new SectionCache({ maxRecords: 1000, ttlMs: 60_000 }));
    const sectionIds = await sections();
    const cases = [
      { filter: { sectionIds }, limit: 6 },
      { filter: { sectionIds, excludeIds: [ids[11]!, ids[3]!] }, limit: 6 },
      { filter: { sectionIds: [...sectionIds].reverse(), excludeIds: ids.slice(0, 8) }, limit: 20 },
      { filter: { excludeIds: [ids[10]!] }, limit: 3 },
      { filter: {}, limit: 50 },
      // Beyond what it keeps, or not a plain newest list: passed to the store.
      { filter: { sectionIds, excludeIds: ids }, limit: NEWEST_KEPT },
      { filter: { sectionIds }, after: { publishedAt: Date.parse(beijingTime(6)), id: ids[5]! }, limit: 4 },
      { filter: { sectionIds, includeHidden: true }, limit: 4 },
    ];
    for (const query of cases) {
      expect(await cached.listArticleSummaries(query), JSON.stringify(query)).toEqual(await t.store.listArticleSummaries(query));
    }
  });

  it('does not keep what a read begun before a purge found, and makes a read after the purge read again', async () => {
    const cache = new SectionCache({ maxRecords: 1000, ttlMs: 60_000 });
    const pending: ((sections: SectionRecord[]) => void)[] = [];
    const slow = () => new Promise<SectionRecord[]>((resolve) => pending.push(resolve));
    const named = (name: string): SectionRecord[] => [{ id: '1', slug: 'yuanchuang', name, parentId: null, position: 0 }];
    const read = () => cache.read('sections', slow, () => ['sections']);

    const first = read();
    const joined = read();
    expect(pending).toHaveLength(1);
    cache.purge(['sections']);
    const afterPurge = read();
    expect(pending).toHaveLength(2);
    // The read begun before the purge finishes after it: those who asked before get it, nobody after.
    pending[0]!(named('旧名'));
    expect((await first)[0]!.name).toBe('旧名');
    expect((await joined)[0]!.name).toBe('旧名');
    const later = read();
    pending[1]!(named('新名'));
    expect((await afterPurge)[0]!.name).toBe('新名');
    expect((await later)[0]!.name).toBe('新名');
    expect((await read())[0]!.name).toBe('新名');
    expect(pending).toHaveLength(2);
  });

  it('freezes what it keeps, so no request can change it for the others', async () => {
    const cached = new SectionCachingStore(t.store, new SectionCache({ maxRecords: 1000, ttlMs: 60_000 }));
    const [section] = await cached.listSections();
    expect(() => {
      (section as { name: string }).name = '改名';
    }).toThrow(TypeError);
    expect((await cached.listSections())[0]!.name).toBe(section!.name);
  });
});
