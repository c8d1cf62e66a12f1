import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPage, beijingTime, createTestServer, type TestServer } from './helpers.js';

const RELATED = /* GraphQL */ `
  query Related($slug: String!, $kind: RelatedKind!, $first: Int) {
    article(slug: $slug) {
      related(kind: $kind, first: $first) { kind title summary url publishedAt article { slug title } }
    }
  }
`;

describe('related content beside an article', () => {
  let t: TestServer;
  let seed: string;
  const slugs: Record<string, string> = {};
  beforeAll(async () => {
    t = await createTestServer();
    seed = (await t.expectData(`{ articles(first: 1) { nodes { slug } } }`)).articles.nodes[0].slug;
    const pages = [
      { key: 'sameSectionOld', title: '原创旧文', time: beijingTime(-100_000), sections: ['首页', '原创'], tags: ['AI'] },
      { key: 'otherSectionNew', title: '科技新文', time: beijingTime(10), sections: ['首页', '科技'], tags: ['AI', '元宇宙'] },
      { key: 'otherSectionNewer', title: '科技更新的文章', time: beijingTime(20), sections: ['首页', '科技'], tags: ['元宇宙'] },
      { key: 'tagged', title: '两个标签都有', time: beijingTime(5), sections: ['首页', '原创'], tags: ['AI', '元宇宙'] },
    ];
    for (const { key, ...spec } of pages) slugs[key] = (await addPage(t.store, spec)).slug;
  });
  afterAll(() => t.close());

  const related = async (slug: string, kind: string, first?: number) =>
    (await t.expectData(RELATED, { slug, kind, first })).article.related;

  it('HOT returns the six curated 热点 teasers of the seed in page order, text intact', async () => {
    const hot = await related(seed, 'HOT');
    expect(hot).toHaveLength(6);
    expect(hot[0]).toEqual({
      kind: 'HOT',
      title: null,
      summary:
        '2023年4月8日(上海)——黑马原力在上海徐汇滨江进行了品牌全球首发。品牌首款MPS产品G60小黑在发布会现场以自动驾驶的方式闪亮登场,点燃',
      url: null,
      publishedAt: null,
      article: null,
    });
    expect(hot[5].summary).toBe(
      '每年过年,必不可少的项目之一,就是发红包。一封封烫金封口、漂亮厚实的红包,带着一句句恭喜发财的欢乐祝福,浓浓的年味瞬间扑面而来。在',
    );
    expect(await related(seed, 'HOT', 2)).toEqual(hot.slice(0, 2));
  });

  it("HOT falls back to the nearest ancestor section's list", async () => {
    // 科技 has no list of its own, and neither has 首页: nothing to show.
    expect(await related(slugs.otherSectionNew!, 'HOT')).toEqual([]);
    // An article in 原创 shares the seed's curated list.
    expect(await related(slugs.tagged!, 'HOT')).toHaveLength(6);
  });

  it('LATEST lists the newest other articles of the same section first, then the rest of the site', async () => {
    const latest = await related(seed, 'LATEST', 10);
    expect(latest.map((i: { article: { slug: string } }) => i.article.slug)).toEqual([
      slugs.tagged,
      slugs.sameSectionOld,
      slugs.otherSectionNewer,
      slugs.otherSectionNew,
    ]);
    expect(latest[0]).toMatchObject({ kind: 'LATEST', title: '两个标签都有', url: null, summary: '两个标签都有的正文。' });
    expect(latest[0].publishedAt).toBe('2023-05-01T08:05:00+08:00');
    expect(await related(seed, 'LATEST', 1)).toHaveLength(1);
  });

  it('LATEST never includes the article itself', async () => {
    for (const slug of Object.values(slugs)) {
      const latest = await related(slug, 'LATEST', 50);
      expect(latest.map((i: { article: { slug: string } }) => i.article.slug)).not.toContain(slug);
      expect(latest).toHaveLength(4);
    }
  });

  it('RELATED orders other articles by shared tags, then by recency', async () => {
    const items = await related(slugs.tagged!, 'RELATED');
    expect(items.map((i: { article: { slug: string } }) => i.article.slug)).toEqual([
      slugs.otherSectionNew, // shares AI and 元宇宙
      slugs.otherSectionNewer, // shares 元宇宙, newer
      slugs.sameSectionOld, // shares AI
    ]);
    expect(await related(seed, 'RELATED')).toEqual([]); // the seed has no tags
  });

  it('rejects more than 50 items as BAD_USER_INPUT', async () => {
    const [error] = await t.expectErrors(RELATED, { slug: seed, kind: 'LATEST', first: 51 });
    expect(error?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first', limit: 50 });
  });
});
