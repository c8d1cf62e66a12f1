import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, SEED_FILE, type TestServer } from './helpers.js';

const ARTICLE_PAGE = /* GraphQL */ `
  query ArticlePage($slug: String!) {
    article(slug: $slug) {
      title
      source { name }
      publishedAt
      section { name path { name } }
      body {
        __typename
        ... on Paragraph { text }
        ... on Image { caption url }
      }
      credits { role label name }
      tags { name }
      excerpt
      wordCount
      readingMinutes
      hot: related(kind: HOT, first: 6) { kind title summary url }
    }
  }
`;

/** The seed's body and teasers read straight from the file, independently of the parser. */
function seedFromFile() {
  const lines = readFileSync(SEED_FILE, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const bodyStart = lines.findIndex((l) => l.startsWith('来源')) + 1;
  const bodyEnd = lines.findIndex((l) => l.startsWith('撰文'));
  const hotStart = lines.indexOf('热点') + 1;
  return {
    blocks: lines.slice(bodyStart, bodyEnd),
    teasers: lines.slice(hotStart).filter((l) => l !== '详细>>'),
  };
}

describe('the seed article page', () => {
  let t: TestServer;
  let slug: string;
  beforeAll(async () => {
    t = await createTestServer();
    const data = await t.expectData(`{ articles(first: 1) { nodes { slug } } }`);
    slug = data.articles.nodes[0]!.slug;
  });
  afterAll(() => t.close());

  it('returns the whole page in one query, every paragraph as on the page', async () => {
    const { blocks, teasers } = seedFromFile();
    const data = await t.expectData(ARTICLE_PAGE, { slug });

    expect(blocks).toHaveLength(70);
    expect(teasers).toHaveLength(6);
    expect(data.article).toEqual({
      title: '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始',
      source: { name: '凤凰网' },
      publishedAt: '2023-04-23T09:40:36+08:00',
      section: { name: '原创', path: [{ name: '首页' }, { name: '原创' }] },
      body: blocks.map((text) =>
        text === '(资料图)' ? { __typename: 'Image', caption: '资料图', url: null } : { __typename: 'Paragraph', text },
      ),
      credits: [
        { role: 'WRITER', label: '撰文', name: '晚上吃早饭' },
        { role: 'EDITOR', label: '编辑', name: '江江' },
        { role: 'COVER', label: '封面', name: '萱萱' },
      ],
      tags: [],
      excerpt: expect.any(String),
      wordCount: expect.any(Number),
      readingMinutes: expect.any(Number),
      hot: teasers.map((summary) => ({ kind: 'HOT', title: null, summary, url: null })),
    });
    expect(data.article.body.filter((b: { __typename: string }) => b.__typename === 'Paragraph')).toHaveLength(69);
    expect(data.article.body[3]).toEqual({ __typename: 'Image', caption: '资料图', url: null });
  });

  it('derives the excerpt, word count and reading time from the body', async () => {
    const { article } = await t.expectData(ARTICLE_PAGE, { slug });
    expect(article.excerpt.startsWith('在各种 AI 新闻满天飞的 2023 年,大家还记得大明湖畔的元宇宙吗?')).toBe(true);
    expect([...article.excerpt].length).toBeLessThanOrEqual(200);
    // Counted independently of src/text: Han characters one by one, ASCII letter/digit runs as words.
    const text = seedFromFile()
      .blocks.filter((b) => b !== '(资料图)')
      .join('\n');
    const han = text.match(/\p{Script=Han}/gu)?.length ?? 0;
    const latin = text.match(/[A-Za-z0-9]+/g)?.length ?? 0;
    expect(article.wordCount).toBe(han + latin);
    expect(article.readingMinutes).toBe(Math.ceil(han / 400 + latin / 200 + 12 / 60));
  });

  it('has a URL-safe slug and is reachable by id as well', async () => {
    expect(slug).toMatch(/^[a-z0-9-]+$/);
    const bySlug = await t.expectData(`query($slug: String) { article(slug: $slug) { id slug } }`, { slug });
    const byId = await t.expectData(`query($id: ID) { article(id: $id) { id slug } }`, { id: bySlug.article.id });
    expect(byId.article).toEqual(bySlug.article);
  });

  it('returns null without an error for an unknown slug or id', async () => {
    expect(await t.execute(`{ article(slug: "no-such-article") { id } }`)).toEqual({ data: { article: null } });
    expect(await t.execute(`{ article(id: "999999") { id } }`)).toEqual({ data: { article: null } });
    expect(await t.execute(`{ article(id: "not-a-number") { id } }`)).toEqual({ data: { article: null } });
  });

  it('rejects asking by both id and slug, or by neither, as BAD_USER_INPUT', async () => {
    for (const query of [`{ article(id: "1", slug: "x") { id } }`, `{ article { id } }`]) {
      const [error] = await t.expectErrors(query);
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error?.message).toMatch(/exactly one of "id" and "slug"/);
    }
  });

  it('writes publishedAt as the same instant in Beijing time', async () => {
    const { article } = await t.expectData(`query($slug: String) { article(slug: $slug) { publishedAt } }`, { slug });
    expect(Date.parse(article.publishedAt)).toBe(Date.parse('2023-04-23T01:40:36Z'));
  });
});
