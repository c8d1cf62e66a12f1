import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, beijingTime, createTestServer, type TestServer } from './helpers.js';

const PAGE = /* GraphQL */ `
  query Page($first: Int, $after: String) {
    articles(first: $first, after: $after) {
      totalCount
      edges { cursor node { slug publishedAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

interface Edge {
  cursor: string;
  node: { slug: string; publishedAt: string };
}

interface Page {
  articles: {
    totalCount: number;
    edges: Edge[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

describe('articles: a newest-first list in cursor pages', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
    // 44 more articles across two sections; six share one publication time, so ids must break ties.
    for (let i = 0; i < 44; i++) {
      await addPage(t.store, {
        title: `测试文章 ${i}`,
        time: beijingTime(i < 6 ? 0 : i),
        sections: i % 2 ? ['首页', '科技'] : ['首页', '原创'],
        credits: `撰文:作者${i % 5}编辑:编辑${i % 3}`,
        tags: [`标签${i % 4}`, '测试'],
      });
    }
  });
  afterAll(() => t.close());

  async function walk(first: number): Promise<Edge[]> {
    const seen: Edge[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const { articles }: Page = await t.expectData<Page>(PAGE, { first, after });
      seen.push(...articles.edges);
      expect(articles.totalCount).toBe(45);
      if (!articles.pageInfo.hasNextPage) return seen;
      expect(articles.pageInfo.endCursor).toBe(articles.edges.at(-1)?.cursor);
      after = articles.pageInfo.endCursor;
    }
    throw new Error('paging did not end');
  }

  it('walks every article exactly once, newest first, whatever the page size', async () => {
    for (const size of [1, 7, 20, 100]) {
      const edges = await walk(size);
      const slugs = edges.map((e) => e.node.slug);
      expect(new Set(slugs).size).toBe(45);
      const times = edges.map((e) => Date.parse(e.node.publishedAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    }
  });

  it('defaults to 20 per page and reports the total and page info', async () => {
    const { articles } = await t.expectData(PAGE);
    expect(articles.edges).toHaveLength(20);
    expect(articles.totalCount).toBe(45);
    expect(articles.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: articles.edges[0]!.cursor,
      endCursor: articles.edges[19]!.cursor,
    });
    // An explicit null is "not given", as in the schema's default.
    const explicitNull = await t.expectData<Page>(PAGE, { first: null, after: null });
    expect(explicitNull.articles.edges).toEqual(articles.edges);
  });

  it('neither skips nor repeats when an article is published while a reader pages', async () => {
    const first = await t.expectData(PAGE, { first: 10 });
    const extra = await addPage(t.store, { title: '翻页时新发布的文章', time: beijingTime(1000) });
    const rest: Edge[] = [];
    let after = first.articles.pageInfo.endCursor;
    for (;;) {
      const { articles } = await t.expectData(PAGE, { first: 10, after });
      rest.push(...articles.edges);
      if (!articles.pageInfo.hasNextPage) break;
      after = articles.pageInfo.endCursor;
    }
    const slugs = [...first.articles.edges, ...rest].map((e: Edge) => e.node.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(slugs).toHaveLength(45);
    expect(slugs).not.toContain(extra.slug);
    // The extra article stays: it now heads the list, and later tests allow for it.
    const { articles } = await t.expectData(PAGE, { first: 1 });
    expect(articles.edges[0]!.node.slug).toBe(extra.slug);
    expect(articles.totalCount).toBe(46);
  });

  it('returns an empty page for first: 0 but still counts', async () => {
    const { articles } = await t.expectData(PAGE, { first: 0 });
    expect(articles.edges).toEqual([]);
    expect(articles.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
    expect(articles.totalCount).toBeGreaterThanOrEqual(45);
  });

  it('rejects more than 100 per page, naming the limit', async () => {
    const [error] = await t.expectErrors(PAGE, { first: 101 });
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first', limit: 100 });
    expect(error?.message).toContain('100');
    const [negative] = await t.expectErrors(PAGE, { first: -1 });
    expect(negative?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('rejects a cursor it did not issue as BAD_USER_INPUT, not a server error', async () => {
    for (const after of ['garbage', '', 'YTE6', Buffer.from('a1:1:x').toString('base64url'), '💥']) {
      const [error] = await t.expectErrors(PAGE, { after: after || ' ' });
      expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    }
  });

  it('costs the same few statements for 2 or 40 articles with sections, credits and tags', async () => {
    const LIST = /* GraphQL */ `
      query List($first: Int) {
        articles(first: $first) {
          totalCount
          nodes {
            title
            section { name path { name } parent { name } }
            credits { role name }
            tags { name slug }
          }
        }
      }
    `;
    const count = async (first: number) => {
      t.queries.length = 0;
      const data = await t.expectData(LIST, { first });
      expect(data.articles.nodes).toHaveLength(first);
      // The test articles carry two credits and two tags each, so every batch really ran.
      for (const node of data.articles.nodes) {
        if (node.title.startsWith('测试文章')) {
          expect(node.credits).toHaveLength(2);
          expect(node.tags).toHaveLength(2);
        }
      }
      return t.queries.length;
    };
    const small = await count(2);
    const large = await count(40);
    expect(large).toBe(small);
    // list, count (all matching, hidden among them), sections, credits, tags
    expect(large).toBeLessThanOrEqual(6);
  });
});
