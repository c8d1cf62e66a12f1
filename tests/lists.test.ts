import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, beijingTime, createTestServer, type TestServer } from './helpers.js';

const LIST = /* GraphQL */ `
  query List($filter: ArticleFilter, $orderBy: ArticleOrder, $first: Int, $after: String, $last: Int, $before: String) {
    articles(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      edges { cursor node { id title publishedAt section { slug } tags { slug } credits { name } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

interface Node {
  id: string;
  title: string;
  publishedAt: string;
  section: { slug: string };
  tags: { slug: string }[];
  credits: { name: string }[];
}
interface Page {
  articles: {
    totalCount: number;
    edges: { cursor: string; node: Node }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  };
}

const ARTICLES = 2_000;
const SECTIONS = [
  ['首页', '科技', '人工智能'],
  ['首页', '科技', '手机'],
  ['首页', '财经'],
  ['首页', '体育'],
];

describe('article lists at archive scale: filters, both orders, both directions', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer({ seed: false });
    for (let i = 0; i < ARTICLES; i++) {
      await addPage(t.store, {
        title: `第${i}篇`,
        // Every fifth article shares its minute with the one before, so ids must break ties.
        time: beijingTime(i - (i % 5 === 4 ? 1 : 0)),
        sections: SECTIONS[i % SECTIONS.length],
        credits: `撰文:记者${i % 7}编辑:编辑${i % 3}`,
        tags: i % 10 === 0 ? ['元宇宙'] : i % 10 === 1 ? ['芯片', '元宇宙'] : [],
      });
    }
  }, 120_000);
  afterAll(() => t.close());

  async function walk(variables: Record<string, unknown>, backwards = false): Promise<Node[]> {
    const nodes: Node[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 1_000; guard++) {
      const page: Page = await t.expectData<Page>(LIST, { ...variables, [backwards ? 'before' : 'after']: cursor });
      const { edges, pageInfo } = page.articles;
      if (backwards) nodes.unshift(...edges.map((e) => e.node));
      else nodes.push(...edges.map((e) => e.node));
      const more = backwards ? pageInfo.hasPreviousPage : pageInfo.hasNextPage;
      if (!more) return nodes;
      cursor = backwards ? pageInfo.startCursor : pageInfo.endCursor;
    }
    throw new Error('paging did not end');
  }

  // Ties are broken by the store's own id, the last part of the global id.
  const storeId = (n: Node) => Number(n.id.split('/').at(-1));
  const ids = (nodes: Node[]) => nodes.map(storeId);
  const isSortedBy = (nodes: Node[], order: 'desc' | 'asc') =>
    nodes.every((n, i) => {
      if (i === 0) return true;
      const prev = nodes[i - 1]!;
      const [a, b] = [Date.parse(prev.publishedAt), Date.parse(n.publishedAt)];
      const cmp = a === b ? storeId(prev) - storeId(n) : a - b;
      return order === 'desc' ? cmp > 0 : cmp < 0;
    });

  it(`walks all ${ARTICLES} articles forwards with no gap or repeat, in both orders`, async () => {
    const desc = await walk({ first: 100 });
    expect(new Set(ids(desc)).size).toBe(ARTICLES);
    expect(isSortedBy(desc, 'desc')).toBe(true);
    const asc = await walk({ first: 100, orderBy: 'PUBLISHED_AT_ASC' });
    expect(ids(asc)).toEqual(ids(desc).reverse());
  });

  it('walks backwards with last/before to the same sequence', async () => {
    const forwards = await walk({ first: 37 });
    const backwards = await walk({ last: 37 }, true);
    expect(ids(backwards)).toEqual(ids(forwards));
    const page = await t.expectData<Page>(LIST, { last: 3 });
    expect(page.articles.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    expect(ids(page.articles.edges.map((e) => e.node))).toEqual(ids(forwards).slice(-3));
  });

  it('neither skips nor repeats while articles are published during the walk', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    let added = 0;
    for (;;) {
      const page: Page = await t.expectData<Page>(LIST, { first: 50, after });
      seen.push(...ids(page.articles.edges.map((e) => e.node)));
      // Newer and older articles arrive between page requests.
      await addPage(t.store, { title: `插入新文${added}`, time: beijingTime(100_000 + added) });
      await addPage(t.store, { title: `插入旧文${added}`, time: beijingTime(-100_000 - added) });
      added++;
      if (!page.articles.pageInfo.hasNextPage) break;
      after = page.articles.pageInfo.endCursor;
    }
    const unique = new Set(seen);
    expect(unique.size).toBe(seen.length);
    // Every article that existed when the walk began was seen exactly once; old inserts behind the cursor were seen too.
    expect(seen.length).toBeGreaterThanOrEqual(ARTICLES);
    const all = await walk({ first: 100 });
    const inserted = all.filter((n) => n.title.startsWith('插入'));
    expect(inserted).toHaveLength(added * 2);
    for (const n of all) if (!n.title.startsWith('插入')) expect(unique.has(storeId(n))).toBe(true);
  });

  it('filters by section including the sections under it, with a matching total', async () => {
    const keji = await walk({ first: 100, filter: { section: 'keji' } });
    expect(keji.length).toBe(ARTICLES / 2);
    expect(new Set(keji.map((n) => n.section.slug))).toEqual(new Set(['rengongzhineng', 'shouji']));
    const total = await t.expectData<Page>(LIST, { first: 0, filter: { section: 'keji' } });
    expect(total.articles.totalCount).toBe(ARTICLES / 2);
    const ai = await t.expectData<Page>(LIST, { first: 5, filter: { section: 'rengongzhineng' } });
    expect(ai.articles.totalCount).toBe(ARTICLES / 4);
    expect(ai.articles.edges.every((e) => e.node.section.slug === 'rengongzhineng')).toBe(true);
    const none = await t.expectData<Page>(LIST, { filter: { section: 'no-such-section' } });
    expect(none.articles).toMatchObject({ totalCount: 0, edges: [] });
  });

  it('filters by tag, by credit name and by publication time, and combines filters', async () => {
    const tagged = await walk({ first: 100, filter: { tag: 'yuanyuzhou' } });
    expect(tagged).toHaveLength(ARTICLES / 5);
    expect(tagged.every((n) => n.tags.some((tag) => tag.slug === 'yuanyuzhou'))).toBe(true);

    const credited = await walk({ first: 100, filter: { credit: '记者3' } });
    expect(credited.length).toBe(Math.ceil((ARTICLES - 3) / 7));
    expect(credited.every((n) => n.credits.some((c) => c.name === '记者3'))).toBe(true);

    const from = '2023-05-01T10:00:00+08:00';
    const to = '2023-05-01T11:00:00+08:00';
    const window = await walk({ first: 100, filter: { publishedAt: { from, to } } });
    expect(window.length).toBeGreaterThan(50);
    expect(window.every((n) => Date.parse(n.publishedAt) >= Date.parse(from) && Date.parse(n.publishedAt) < Date.parse(to))).toBe(true);

    const combined = await t.expectData<Page>(LIST, {
      first: 100,
      filter: { tag: 'xinpian', section: 'keji', credit: '编辑1', publishedAt: { from: '2023-05-01T08:00:00+08:00' } },
    });
    const expected = tagged.filter(
      (n) =>
        n.tags.some((tag) => tag.slug === 'xinpian') &&
        ['rengongzhineng', 'shouji'].includes(n.section.slug) &&
        n.credits.some((c) => c.name === '编辑1'),
    );
    expect(combined.articles.totalCount).toBe(expected.length);
    expect(ids(combined.articles.edges.map((e) => e.node))).toEqual(ids(expected).slice(0, 100));
  });

  it("narrows a section's own list with the same filters and paging", async () => {
    const data = await t.expectData(`{
      section(slug: "keji") {
        articles(first: 3, orderBy: PUBLISHED_AT_ASC, filter: { section: "shouji", tag: "yuanyuzhou" }) {
          totalCount nodes { section { slug } tags { slug } }
        }
      }
    }`);
    expect(data.section.articles.totalCount).toBeGreaterThan(0);
    for (const node of data.section.articles.nodes) {
      expect(node.section.slug).toBe('shouji');
      expect(node.tags.map((tag: { slug: string }) => tag.slug)).toContain('yuanyuzhou');
    }
    // A section filter outside the section's subtree matches nothing.
    const outside = await t.expectData(`{ section(slug: "keji") { articles(filter: { section: "caijing" }) { totalCount } } }`);
    expect(outside.section.articles.totalCount).toBe(0);
  });

  it('rejects first and last together, over-limit sizes and foreign cursors with BAD_USER_INPUT', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 10, last: 10 }, 'last'],
      [{ last: 101 }, 'last'],
      [{ first: 101 }, 'first'],
      [{ before: 'bm90LWEtY3Vyc29y' }, 'before'],
    ];
    for (const [variables, argument] of cases) {
      const [error] = await t.expectErrors(LIST, variables);
      expect(error?.extensions, JSON.stringify(variables)).toMatchObject({ code: 'BAD_USER_INPUT', argument });
    }
    const [limit] = await t.expectErrors(LIST, { last: 101 });
    expect(limit?.message).toContain('100');
  });

  it('serves page 200 through the same keyset seek as page 1', async () => {
    let after: string | null = null;
    for (let page = 1; page < 200; page++) {
      const data: Page = await t.expectData<Page>(LIST, { first: 10, after });
      after = data.articles.pageInfo.endCursor;
    }
    t.queries.length = 0;
    await t.expectData<Page>(LIST, { first: 10, after });
    const list = t.queries.find((q) => /from "articles"/i.test(q.sql) && /limit/i.test(q.sql));
    expect(list?.sql).not.toMatch(/offset/i);
    expect(list?.sql).toMatch(/\("articles"\."published_at", "articles"\."id"\)|\(articles\.published_at, articles\.id\) </);
  });
});
