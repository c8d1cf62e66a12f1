import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, beijingTime, createTestServer, type TestServer } from './helpers.js';

describe('sections: the breadcrumb tree', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await createTestServer();
    await addPage(t.store, { title: '深度报道一', time: beijingTime(1), sections: ['首页', '原创', '深度'] });
    await addPage(t.store, { title: '深度报道二', time: beijingTime(2), sections: ['首页', '原创', '深度'] });
    await addPage(t.store, { title: '科技新闻', time: beijingTime(3), sections: ['首页', '科技'] });
  });
  afterAll(() => t.close());

  it('builds the seed breadcrumb 首页 > 原创 with URL-safe pinyin slugs', async () => {
    const data = await t.expectData(`{
      section(slug: "yuanchuang") {
        slug name
        parent { slug name parent { name } }
        path { name }
        children { slug name }
      }
    }`);
    expect(data.section).toEqual({
      slug: 'yuanchuang',
      name: '原创',
      parent: { slug: 'shouye', name: '首页', parent: null },
      path: [{ name: '首页' }, { name: '原创' }],
      children: [{ slug: 'shendu', name: '深度' }],
    });
  });

  it('lists every section in tree order', async () => {
    const data = await t.expectData(`{ sections { name path { name } } }`);
    expect(data.sections.map((s: { name: string }) => s.name)).toEqual(['首页', '原创', '深度', '科技']);
    expect(data.sections[2]!.path.map((s: { name: string }) => s.name)).toEqual(['首页', '原创', '深度']);
  });

  it("pages a section's articles including those of the sections under it", async () => {
    const titles = async (slug: string) => {
      const data = await t.expectData(
        `query($slug: String!) { section(slug: $slug) { articles(first: 10) { totalCount nodes { title } } } }`,
        { slug },
      );
      return data.section.articles;
    };
    expect(await titles('shendu')).toEqual({ totalCount: 2, nodes: [{ title: '深度报道二' }, { title: '深度报道一' }] });
    const yuanchuang = await titles('yuanchuang');
    expect(yuanchuang.totalCount).toBe(3);
    expect(yuanchuang.nodes.map((n: { title: string }) => n.title)).toEqual([
      '深度报道二',
      '深度报道一',
      '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始',
    ]);
    expect((await titles('shouye')).totalCount).toBe(4);
    expect(await titles('keji')).toEqual({ totalCount: 1, nodes: [{ title: '科技新闻' }] });
  });

  it('continues a section page from its cursor', async () => {
    const page = `query($after: String) { section(slug: "yuanchuang") { articles(first: 2, after: $after) {
      nodes { title } pageInfo { hasNextPage endCursor } } } }`;
    const one = (await t.expectData(page)).section.articles;
    expect(one.pageInfo.hasNextPage).toBe(true);
    const two = (await t.expectData(page, { after: one.pageInfo.endCursor })).section.articles;
    expect(two.nodes).toEqual([{ title: '去年股价跌去四分之三的meta 元宇宙的故事才刚刚开始' }]);
    expect(two.pageInfo.hasNextPage).toBe(false);
  });

  it('returns null for an unknown section slug', async () => {
    expect(await t.execute(`{ section(slug: "nope") { name } }`)).toEqual({ data: { section: null } });
  });
});
